package dev.ember.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ModelFormatException;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The union of end-of-sequence ids a model's files name: {@code eos_token_id} of config.json and
 * generation_config.json (an integer or a list), and tokenizer_config.json's {@code eos_token} (a string or a
 * {@code {"content": ...}} object) resolved to an id through tokenizer_config's {@code added_tokens_decoder},
 * else tokenizer.json's {@code added_tokens}, else tokenizer.json's vocabulary.
 */
final class EosTokenIds {
    private EosTokenIds() {
    }

    /** Each id is checked against {@code vocabSize} here, where the file that names it is known. */
    static Set<Integer> union(Path dir, JsonFile config, Optional<JsonFile> generationConfig,
                              Optional<JsonFile> tokenizerConfig, int vocabSize) {
        Set<Integer> ids = new TreeSet<>();
        addIds(config, ids, vocabSize);
        generationConfig.ifPresent(g -> addIds(g, ids, vocabSize));
        tokenizerConfig.ifPresent(t -> eosToken(t).ifPresent(token -> {
            int id = resolve(dir, t, token);
            if (outside(id, vocabSize)) {
                throw new ModelFormatException("eos_token '" + token + "' in " + t.path() + " has id " + id
                        + ", outside the vocabulary [0, " + vocabSize + ") (vocab_size in config.json)");
            }
            ids.add(id);
        }));
        return ids;
    }

    private static void addIds(JsonFile file, Set<Integer> into, int vocabSize) {
        JsonNode v = file.get("eos_token_id");
        if (v == null) {
            return;
        }
        for (JsonNode e : v.isArray() ? v : List.of(v)) {
            int id = file.asInt("eos_token_id", e);
            if (outside(id, vocabSize)) {
                throw new ModelFormatException("eos_token_id " + id + " in " + file.path() + " is outside the vocabulary"
                        + " [0, " + vocabSize + ") (vocab_size in config.json)");
            }
            into.add(id);
        }
    }

    /** A non-positive vocab_size is left for ModelConfig to name; no id could be inside it. */
    private static boolean outside(int id, int vocabSize) {
        return vocabSize > 0 && (id < 0 || id >= vocabSize);
    }

    private static Optional<String> eosToken(JsonFile tokenizerConfig) {
        JsonNode v = tokenizerConfig.get("eos_token");
        if (v == null) {
            return Optional.empty();
        }
        if (v.isTextual()) {
            return Optional.of(v.asText());
        }
        if (v.isObject() && v.path("content").isTextual()) {
            return Optional.of(v.get("content").asText());
        }
        throw tokenizerConfig.wrongType("eos_token", v, "a string or an object with a string 'content'");
    }

    private static int resolve(Path dir, JsonFile tokenizerConfig, String token) {
        JsonNode decoder = tokenizerConfig.get("added_tokens_decoder");
        if (decoder != null && decoder.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = decoder.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (token.equals(e.getValue().path("content").asText(null))) {
                    return parseId(tokenizerConfig, e.getKey());
                }
            }
        }
        Optional<JsonFile> tokenizer = JsonFile.readIfPresent(dir.resolve(ModelConfigLoader.TOKENIZER));
        if (tokenizer.isPresent()) {
            JsonNode added = tokenizer.get().get("added_tokens");
            if (added != null && added.isArray()) {
                for (JsonNode t : added) {
                    if (token.equals(t.path("content").asText(null)) && t.path("id").canConvertToInt()) {
                        return t.get("id").asInt();
                    }
                }
            }
            // a BPE or WordPiece vocabulary maps token -> id (Llama 2's "</s>" lives there, not in added_tokens)
            JsonNode id = tokenizer.get().root().path("model").path("vocab").path(token);
            if (id.isIntegralNumber() && id.canConvertToInt()) {
                return id.asInt();
            }
        }
        throw new ModelFormatException("eos_token '" + token + "' in " + tokenizerConfig.path()
                + " is not in its added_tokens_decoder" + (tokenizer.isPresent()
                ? " nor in " + tokenizer.get().path() + " (added_tokens or model.vocab)"
                : ", and there is no " + ModelConfigLoader.TOKENIZER + " to look it up in"));
    }

    private static int parseId(JsonFile file, String key) {
        try {
            return Integer.parseInt(key);
        } catch (NumberFormatException e) {
            throw new ModelFormatException("added_tokens_decoder in " + file.path() + " has key '" + key
                    + "'; expected a token id", e);
        }
    }
}
