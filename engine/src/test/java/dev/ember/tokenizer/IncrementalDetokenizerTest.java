package dev.ember.tokenizer;

import dev.ember.demo.DemoModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
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

    /**
     * A prompt given as token ids may end inside a character (say, a continuation of an output that max_tokens cut
     * after the first byte of 世): the output tokens that complete it must still stream their text. The expectation
     * is the full text's decode less the prompt's complete characters, so the completed character belongs to the
     * output. (The text used to stay empty: each window's decode no longer started with the prompt's "...\uFFFD".)
     */
    @Test
    void aPromptEndingInsideACharacterStillStreamsTheOutput() {
        try (Tokenizer t = Tokenizer.load(demoDir)) {
            int[] all = t.encode("Say: 世界 ok done", false);
            String complete = "Say: ";
            int start = t.encode(complete, false).length; // the first byte token of 世
            for (int cut = start + 1; cut < start + 3; cut++) { // after one byte of 世, then after two
                int[] prompt = java.util.Arrays.copyOf(all, cut);
                int[] output = java.util.Arrays.copyOfRange(all, cut, all.length);
                assertTrue(t.decode(prompt).endsWith("\uFFFD"), "the prompt ends inside 世");
                String want = t.decode(all).substring(complete.length());
                assertEquals("世界 ok done", want);
                IncrementalDetokenizer d = t.newDetokenizer(prompt);
                StringBuilder streamed = new StringBuilder();
                for (int id : output) {
                    streamed.append(d.append(id));
                }
                streamed.append(d.flush());
                assertEquals(want, streamed.toString(), "streamed, prompt cut after token " + cut);
                assertEquals(want, d.text());
                assertEquals(want, t.newDetokenizer(prompt).appendAll(output), "appendAll, prompt cut after " + cut);
            }
            // a prompt ending in a byte that no output completes (0xFF, the demo's byte-level id 255) keeps its
            // replacement character: the output's text is only what follows it
            int[] invalid = concat(t.encode(complete, false), new int[] {255});
            assertEquals(complete + "\uFFFD", t.decode(invalid));
            assertEquals(" ok", t.newDetokenizer(invalid).appendAll(t.encode(" ok", false)));
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void qwenTokenizerStreamsExactly() {
        Path qwen = QwenFixture.dir();
        assumeTrue(qwen != null, "the Qwen tokenizer fixture is absent");
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

    /**
     * A Llama-2 / Mistral style tokenizer (SentencePiece byte fallback) that draws a byte which is not UTF-8 after a
     * byte already shown: tokenizers' ByteFallback decoder then turns the whole byte run into one U+FFFD per byte token
     * (decoders/byte_fallback.rs: "you will get � instead for each inconvertible byte token"), so the window's decode
     * no longer starts with the text already emitted. The text after the run must still stream: it used to stay empty
     * for good (every later window failed the same prefix test, and flush gave nothing either).
     */
    @Test
    void aByteRunTheDecoderRewritesDoesNotSilenceTheRest(@TempDir Path dir) throws Exception {
        SentencePieceFixture.write(dir, null);
        try (Tokenizer t = Tokenizer.load(dir)) {
            int newline = SentencePieceFixture.BYTE0 + 0x0A;
            int invalid = SentencePieceFixture.BYTE0 + 0xF8; // never part of UTF-8
            int[] out = {SentencePieceFixture.id("▁Hello"), newline, invalid, SentencePieceFixture.id("▁world"),
                    SentencePieceFixture.id("!")};
            assertEquals("Hello\uFFFD\uFFFD world!", t.decode(out), "the decoder rewrites the shown newline");
            IncrementalDetokenizer d = t.newDetokenizer(new int[0]);
            StringBuilder streamed = new StringBuilder();
            for (int id : out) {
                streamed.append(d.append(id));
            }
            streamed.append(d.flush());
            // the newline was shown before the invalid byte came; that byte is one U+FFFD, as UTF-8 decoding with
            // errors='replace' gives, and the rest follows
            assertEquals("Hello\n\uFFFD world!", streamed.toString());
            assertEquals(streamed.toString(), d.text());
            // one decode of the whole output (no stop strings) is the tokenizer's own text
            assertEquals(t.decode(out), t.newDetokenizer(new int[0]).appendAll(out));
        }
    }
}
