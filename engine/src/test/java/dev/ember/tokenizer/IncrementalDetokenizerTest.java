package dev.ember.tokenizer;

import dev.ember.demo.DemoModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class IncrementalDetokenizerTest {
    /** The demo model's vocabulary (DemoTokenizer): random ids below it are real tokens, specials included. */
    private static final int DEMO_VOCAB = 704;
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
        // the engine's end-of-request path (one decode for all tokens) gives the same text
        assertEquals(text, tokenizer.newDetokenizer(promptIds).appendAll(ids));
    }

    @Test
    void appendAllMatchesTokenByTokenOnRandomIds() {
        try (Tokenizer t = Tokenizer.load(demoDir)) {
            java.util.Random r = new java.util.Random(7);
            int[] prompt = t.encode("Say:", false);
            for (int round = 0; round < 200; round++) {
                int[] ids = new int[1 + r.nextInt(40)];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = r.nextInt(DEMO_VOCAB);
                }
                IncrementalDetokenizer one = t.newDetokenizer(prompt);
                StringBuilder streamed = new StringBuilder();
                for (int id : ids) {
                    streamed.append(one.append(id));
                }
                streamed.append(one.flush());
                assertEquals(streamed.toString(), t.newDetokenizer(prompt).appendAll(ids),
                        "ids " + java.util.Arrays.toString(ids));
            }
        }
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
