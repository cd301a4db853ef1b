package dev.ember.api;

import dev.ember.ConfigException;

/** One turn of a conversation, rendered through the model's chat template. */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || role.isBlank()) {
            throw ConfigException.invalid("messages.role", role, "a non-empty role such as system, user or assistant");
        }
        if (content == null) {
            throw ConfigException.invalid("messages.content", null, "a string (may be empty)");
        }
    }
}
