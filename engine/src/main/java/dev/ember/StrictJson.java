package dev.ember;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads exactly one JSON value: text after it is an error, not dropped (Jackson's {@code readTree} reads the first
 * value by default; Python's json.load, serde_json and the users who wrote the text mean the whole of it). The
 * {@code UniqueKeys} variants also refuse a key given twice in one object, where a parser keeps one value and the
 * writer may have meant the other. Used for every JSON a user or a checkpoint hands Ember. Thread-safe.
 */
public final class StrictJson {
    private static final ObjectMapper ONE_VALUE = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final ObjectMapper ONE_VALUE_UNIQUE_KEYS = ONE_VALUE.copy()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private StrictJson() {
    }

    public static JsonNode read(String json) throws JsonProcessingException {
        return ONE_VALUE.readTree(json);
    }

    public static JsonNode read(Path file) throws IOException {
        return ONE_VALUE.readTree(file.toFile());
    }

    public static JsonNode readUniqueKeys(String json) throws JsonProcessingException {
        return ONE_VALUE_UNIQUE_KEYS.readTree(json);
    }

    public static JsonNode readUniqueKeys(byte[] json) throws IOException {
        return ONE_VALUE_UNIQUE_KEYS.readTree(json);
    }
}
