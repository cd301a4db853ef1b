package dev.ember.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.api.ChatMessage;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real Qwen tokenizer and its Qwen3 chat template, end to end: rendered text and token ids equal what
 * transformers' apply_chat_template gave (fixtures recorded on the GPU host, see the template fixtures' README).
 */
class TokenizerChatTest {
    private static final Path QWEN = QwenFixture.dir();
    /** The transformers fixture lives with the template module's tests; one copy, read from its source tree. */
    private static final Path REFERENCE = Path.of("..", "template", "src", "test", "resources", "dev", "ember",
            "template", "reference", "qwen3.json");

    @Test
    void qwen3ChatTemplateGivesTransformersTokenIds() throws Exception {
        assumeTrue(QWEN != null, "the Qwen tokenizer fixture is absent");
        JsonNode reference;
        try (InputStream in = Files.newInputStream(REFERENCE)) {
            reference = new ObjectMapper().readTree(in);
        }
        int checked = 0;
        try (Tokenizer tokenizer = Tokenizer.load(QWEN)) {
            assertTrue(tokenizer.hasChatTemplate());
            for (JsonNode c : reference.get("cases")) {
                if (!c.path("add_generation_prompt").asBoolean() || !c.has("token_ids") || c.has("extra")
                        || !plainMessages(c.get("messages"))) {
                    continue;
                }
                List<ChatMessage> messages = new ArrayList<>();
                for (JsonNode m : c.get("messages")) {
                    messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
                }
                String text = tokenizer.applyChatTemplate(messages, true);
                assertEquals(c.get("text").asText(), text);
                int[] expected = new int[c.get("token_ids").size()];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = c.get("token_ids").get(i).asInt();
                }
                assertArrayEquals(expected, tokenizer.encode(text, false), text);
                checked++;
            }
        }
        assertTrue(checked >= 3, "only " + checked + " plain conversations in the fixture");
    }

    private static boolean plainMessages(JsonNode messages) {
        for (JsonNode m : messages) {
            for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("role") && !f.equals("content")) {
                    return false;
                }
            }
            if (!m.path("content").isTextual()) {
                return false;
            }
        }
        return true;
    }
}
