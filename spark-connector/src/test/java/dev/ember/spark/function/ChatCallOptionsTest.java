package dev.ember.spark.function;

import dev.ember.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A chat call's messages are the whole conversation: the system_prompt and chat options, which turn a plain prompt
 * into a chat, have no effect there and are refused when given to such a call (resolved on the driver, no session).
 */
class ChatCallOptionsTest {
    @Test
    void systemPromptOrChatGivenToAChatCallIsRefusedNotIgnored() {
        ConfigException chat = assertThrows(ConfigException.class, () -> EmberFunctions.generateChat(col("messages"),
                Map.of("model", "demo", "system_prompt", "Answer in French.")));
        assertTrue(chat.getMessage().contains("system_prompt") && chat.getMessage().contains("Answer in French."),
                chat.getMessage());
        // generate(prompt, systemPrompt column, options): the column is the system message, a null one leaves it out
        ConfigException twoColumns = assertThrows(ConfigException.class, () -> EmberFunctions.generate(col("q"),
                col("sys"), Map.of("model", "demo", "system_prompt", "Be brief.")));
        assertTrue(twoColumns.getMessage().contains("system_prompt"), twoColumns.getMessage());
        ConfigException chatFlag = assertThrows(ConfigException.class, () -> EmberFunctions.generateChat(col("m"),
                Map.of("model", "demo", "CHAT", "true")));
        assertTrue(chatFlag.getMessage().contains("'chat'"), chatFlag.getMessage());
        // the plain-prompt forms read both
        EmberFunctions.generate(col("q"), Map.of("model", "demo", "system_prompt", "Be brief.", "chat", "true"));
    }
}
