package dev.ember.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ModelFormatException;
import dev.ember.engine.ChatMessage;
import dev.ember.template.ChatTemplate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The chat template of a tokenizer_config.json with its bos/eos tokens, rendered as transformers'
 * apply_chat_template does. Immutable and thread-safe.
 */
final class ChatFormatter {
    private final ChatTemplate template;
    private final String bosToken;
    private final String eosToken;

    private ChatFormatter(ChatTemplate template, String bosToken, String eosToken) {
        this.template = template;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    /** The formatter of {@code file}, or null when the file or its chat_template is absent. */
    static ChatFormatter load(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode config = Tokenizer.readJson(file);
        String source = templateSource(config.get("chat_template"), file);
        if (source == null) {
            return null;
        }
        return new ChatFormatter(ChatTemplate.parse(source), tokenText(config.get("bos_token")),
                tokenText(config.get("eos_token")));
    }

    String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return template.render(Tokenizer.toMaps(messages), addGenerationPrompt, bosToken, eosToken, Map.of());
    }

    /** A string, or transformers' list form [{name, template}] where "default" is the one used. */
    private static String templateSource(JsonNode node, Path file) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            for (JsonNode named : node) {
                if ("default".equals(named.path("name").asText())) {
                    return named.path("template").asText();
                }
            }
        }
        throw new ModelFormatException("chat_template in " + file
                + " is neither a string nor a list holding a template named 'default'");
    }

    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isObject() ? node.path("content").asText(null) : node.asText();
    }
}
