package dev.ember.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ModelFormatException;
import dev.ember.StrictJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One JSON object read from a model file, with typed accessors whose errors name the file and the key.
 * A key whose value is JSON null counts as absent (transformers writes {@code "rope_scaling": null}).
 */
record JsonFile(Path path, JsonNode root) {
    /** Reads {@code path}, which must exist. */
    static JsonFile read(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path.getFileName() + " not found in " + path.toAbsolutePath().getParent()
                    + "; expected a Hugging Face model directory (config.json, *.safetensors, tokenizer.json)");
        }
        JsonNode root;
        try {
            root = StrictJson.read(path); // as json.load, which transformers uses: "Extra data" fails
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(path + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read " + path + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(path + " is not a JSON object");
        }
        return new JsonFile(path, root);
    }

    /** Reads {@code path} if it exists. */
    static Optional<JsonFile> readIfPresent(Path path) {
        return Files.exists(path) ? Optional.of(read(path)) : Optional.empty();
    }

    /** The value of {@code key}, or null when absent or JSON null. */
    JsonNode get(String key) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : v;
    }

    boolean has(String key) {
        return get(key) != null;
    }

    int requiredInt(String key) {
        JsonNode v = get(key);
        if (v == null) {
            throw missing(key, "an integer");
        }
        return asInt(key, v);
    }

    int optionalInt(String key, int defaultValue) {
        JsonNode v = get(key);
        return v == null ? defaultValue : asInt(key, v);
    }

    double optionalDouble(String key, double defaultValue) {
        JsonNode v = get(key);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isNumber()) {
            throw wrongType(key, v, "a number");
        }
        return v.asDouble();
    }

    boolean optionalBoolean(String key, boolean defaultValue) {
        JsonNode v = get(key);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isBoolean()) {
            throw wrongType(key, v, "true or false");
        }
        return v.asBoolean();
    }

    String optionalString(String key, String defaultValue) {
        JsonNode v = get(key);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isTextual()) {
            throw wrongType(key, v, "a string");
        }
        return v.asText();
    }

    int asInt(String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw wrongType(key, v, "an integer");
        }
        return v.asInt();
    }

    ModelFormatException missing(String key, String expected) {
        return new ModelFormatException(path + " is missing required key '" + key + "' (" + expected + ")");
    }

    ModelFormatException wrongType(String key, JsonNode value, String expected) {
        return new ModelFormatException("key '" + key + "' in " + path + " is " + value + "; expected " + expected);
    }
}
