package dev.ember.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ModelFormatException;
import dev.ember.api.ChatMessage;
import dev.ember.template.ChatTemplate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The chat template of a tokenizer_config.json with its bos/eos tokens, rendered as transformers'
 * apply_chat_template does. A template that does not parse fails each {@link #render}, not the tokenizer's load: as in
 * transformers (which compiles it in apply_chat_template) text and token-id requests still run. Immutable and
 * thread-safe.
 */
final class ChatFormatter {
    /** Null when the template could not be taken; {@link #failure} says why. */
    private final ChatTemplate template;
    private final ModelFormatException failure;
    private final String bosToken;
    private final String eosToken;
    private final Map<String, Object> specialTokens;

    private ChatFormatter(ChatTemplate template, ModelFormatException failure, String bosToken, String eosToken,
                          Map<String, Object> specialTokens) {
        this.template = template;
        this.failure = failure;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.specialTokens = Map.copyOf(specialTokens);
    }

    /**
     * The formatter of a model directory's chat_template.jinja (newer checkpoints keep the template there), else of
     * its tokenizer_config.json's chat_template; null when neither has a template. The file wins when both exist, as in
     * transformers' from_pretrained (the file "clobbers any template in the config").
     */
    static ChatFormatter load(Path dir) {
        return load(dir, Tokenizer.readConfig(dir));
    }

    /** As {@link #load(Path)}, with {@code dir}'s tokenizer_config.json already read ({@code config}, or null). */
    static ChatFormatter load(Path dir, JsonNode config) {
        Path jinja = dir.resolve("chat_template.jinja");
        String source;
        ModelFormatException failure = null;
        if (Files.isRegularFile(jinja)) {
            try {
                source = Files.readString(jinja);
            } catch (java.io.IOException e) {
                throw new ModelFormatException("cannot read " + jinja + ": " + e.getMessage(), e);
            }
        } else {
            try {
                source = config == null ? null : templateSource(config.get("chat_template"),
                        dir.resolve("tokenizer_config.json"));
            } catch (ModelFormatException e) {
                source = "";
                failure = e;
            }
        }
        if (source == null) {
            return null;
        }
        ChatTemplate template = null;
        if (failure == null) {
            try {
                template = ChatTemplate.parse(source);
            } catch (ModelFormatException e) { // a TemplateSyntaxException: line:column and what was expected
                failure = e;
            }
        }
        // transformers passes every named special token that is set to the template (special_tokens_map), not just
        // bos and eos
        Map<String, Object> special = new java.util.LinkedHashMap<>();
        for (String name : List.of("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")) {
            String text = config == null ? null : tokenText(config.get(name));
            if (text != null) {
                special.put(name, text);
            }
        }
        return new ChatFormatter(template, failure, config == null ? null : tokenText(config.get("bos_token")),
                config == null ? null : tokenText(config.get("eos_token")), special);
    }

    String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (template == null) {
            throw new ModelFormatException(failure.getMessage(), failure);
        }
        return template.render(Tokenizer.toMaps(messages), addGenerationPrompt, bosToken, eosToken, specialTokens);
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

    static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isObject() ? node.path("content").asText(null) : node.asText();
    }
}
