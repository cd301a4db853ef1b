package dev.ember.tokenizer;

import dev.ember.model.DemoModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class IncrementalDetokenizerTest {
    @TempDir
    static Path demoDir;

    @BeforeAll
    static void writeModel() throws Exception {
        DemoModel.write(demoDir);
    }

    private static void assertStreamsExactly(Tokenizer tokenizer, String prompt, String text) {
        int[] promptIds = tokenizer.encode(prompt, false);
        int[] ids = tokenizer.encode(text, false);
        IncrementalDetokenizer d = tokenizer.newDetokenizer(promptIds);
        StringBuilder streamed = new StringBuilder();
        for (int id : ids) {
            String delta = d.append(id);
            assertFalse(delta.contains("\uFFFD"), "half a character was emitted after token " + id);
            streamed.append(delta);
        }
        streamed.append(d.flush());
        assertEquals(tokenizer.decode(ids), streamed.toString());
        assertEquals(text, streamed.toString());
        assertEquals(text, d.text());
    }

    @Test
    void byteLevelTokensNeverSplitACharacter() {
        try (Tokenizer t = Tokenizer.load(demoDir)) {
            assertStreamsExactly(t, "Say:", " héllo 世界 🙂 — ok, ünïcödé ✓ done");
            assertStreamsExactly(t, "", "plain ascii text");
        }
    }

    @Test
    void qwenTokenizerStreamsExactly() {
        Path qwen = Path.of("..", "..", "shared", "fixtures", "qwen-tokenizer");
        assumeTrue(Files.isRegularFile(qwen.resolve("tokenizer.json")), "the Qwen tokenizer fixture is absent");
        try (Tokenizer t = Tokenizer.load(qwen)) {
            assertStreamsExactly(t, "<|im_start|>user\nhi<|im_end|>", "Grüße aus Zürich! 日本語のテキスト 🙂🚀 x² ≤ y");
            int[] ids = t.encode("<|im_start|>user<|im_end|>", false);
            assertEquals(3, ids.length, "special tokens are single ids");
            assertEquals(151644, ids[0]);
            assertEquals(151645, ids[2]);
            assertEquals("user", t.decode(ids));
        }
    }

    @Test
    void specialTokensAreSingleIdsAndSkippedInText() {
        try (Tokenizer t = Tokenizer.load(demoDir)) {
            int[] ids = t.encode("<|im_start|>user", false);
            assertEquals("user", t.decode(ids));
            int[] only = t.encode("<|im_end|>", false);
            assertEquals(1, only.length);
        }
    }
}
