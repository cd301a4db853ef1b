package dev.ember.tokenizer;

import dev.ember.demo.DemoModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Incremental detokenization against the tokenizer's own full decode, for every prefix of random token sequences:
 * the text streamed after k tokens (then flushed) is exactly {@code decode(tokens[0..k))}. Random ids include special
 * tokens, lone byte tokens and invalid UTF-8, which a small or sampled model does produce.
 *
 * <p>One decoder is not monotonic: SentencePiece's ByteFallback turns a run of byte tokens that is not valid UTF-8
 * into one U+FFFD per byte token (tokenizers' decoders/byte_fallback.rs: "you will get � instead for each
 * inconvertible byte token"), so a byte can rewrite characters of the run that were already complete, and shown.
 * A stream cannot take text back; there the property is that no text after the run is lost.
 */
class DetokenizerPropertyTest {
    @TempDir
    Path dir;

    @Test
    void demoTokenizer() {
        DemoModel.write(dir);
        try (Tokenizer t = Tokenizer.load(dir)) {
            check(t, 704, 11);
        }
    }

    @Test
    void qwenTokenizer() {
        Path q = QwenFixture.dir();
        assumeTrue(q != null, "the Qwen tokenizer fixture is absent");
        try (Tokenizer t = Tokenizer.load(q)) {
            check(t, 151669, 12);
            // ids near the byte tokens too (Qwen's ids below 256 are the single bytes), so partial characters meet
            check(t, 300, 13);
        }
    }

    @Test
    void sentencePieceByteFallbackTokenizer() throws Exception {
        SentencePieceFixture.write(dir, null);
        byteFallback = true;
        try (Tokenizer t = Tokenizer.load(dir)) {
            // byte tokens about as often as pieces, so runs of several bytes (valid and invalid) occur
            check(t, SentencePieceFixture.VOCAB_SIZE, 14);
        }
        assertTrue(checked > 100 && rewritten > 10, checked + " monotonic, " + rewritten + " rewritten prefixes");
    }

    private int checked;
    private int rewritten;
    /** Set for the SentencePiece fixture: ids of its byte tokens {@code <0x00>..<0xFF>}. */
    private boolean byteFallback;

    private boolean isByteFallback(int id) {
        return byteFallback && id >= SentencePieceFixture.BYTE0 && id < SentencePieceFixture.BYTE0 + 256;
    }

    /** Whether each prefix's decode, less an unfinished character at its end, begins every longer prefix's decode. */
    private static boolean monotonic(Tokenizer t, int[] ids) {
        String last = "";
        for (int j = 1; j <= ids.length; j++) {
            String text = t.decode(Arrays.copyOf(ids, j));
            if (!text.startsWith(last)) {
                return false;
            }
            int complete = text.length();
            while (complete > 0 && text.charAt(complete - 1) == '\uFFFD') {
                complete--;
            }
            last = text.substring(0, complete);
        }
        return true;
    }

    private void check(Tokenizer t, int vocab, long seed) {
        Random r = new Random(seed);
        for (int round = 0; round < 60; round++) {
            int[] ids = new int[1 + r.nextInt(16)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(vocab);
            }
            for (int k = 1; k <= ids.length; k++) {
                int[] prefix = Arrays.copyOf(ids, k);
                String want = t.decode(prefix);
                IncrementalDetokenizer d = t.newDetokenizer(new int[0]);
                StringBuilder streamed = new StringBuilder();
                for (int j = 0; j < k; j++) {
                    streamed.append(d.append(prefix[j]));
                }
                streamed.append(d.flush());
                if (monotonic(t, prefix)) {
                    assertEquals(want, streamed.toString(), "token by token, ids " + Arrays.toString(prefix));
                    checked++;
                } else {
                    // the text of the tokens after the last byte token (where the rewriting run ended) is all there
                    int lastByte = -1;
                    for (int j = 0; j < k; j++) {
                        if (isByteFallback(prefix[j])) {
                            lastByte = j;
                        }
                    }
                    String head = t.decode(Arrays.copyOf(prefix, lastByte + 1));
                    assertTrue(want.startsWith(head), "a run of bytes ends where a piece begins");
                    String tail = want.substring(head.length());
                    assertTrue(streamed.toString().endsWith(tail), "the text after the byte run was lost, ids "
                            + Arrays.toString(prefix) + ": streamed '" + streamed + "', full decode '" + want + "'");
                    rewritten++;
                }
                assertEquals(want, t.newDetokenizer(new int[0]).appendAll(prefix), "appendAll, ids "
                        + Arrays.toString(prefix));
            }
        }
    }

    /**
     * After a prompt (given as ids, so it may hold anything), the output's text is the decode of prompt plus output
     * less the prompt's own decode: what follows the prompt in the full text (vLLM's rule; it keeps a SentencePiece
     * piece's leading space, which decoding the output alone strips). Where the prompt ends inside a character, the
     * character belongs to the output. Checked for every prefix of the output, where the full decode is monotonic.
     */
    private void checkAfterPrompt(Tokenizer t, int vocab, long seed) {
        int[] ids = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            ids[i] = i;
        }
        checkAfterPrompt(t, ids, seed);
    }

    private void checkAfterPrompt(Tokenizer t, int[] drawn, long seed) {
        Random r = new Random(seed);
        int compared = 0;
        for (int round = 0; round < 80; round++) {
            int[] prompt = new int[1 + r.nextInt(8)];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = drawn[r.nextInt(drawn.length)];
            }
            int[] out = new int[1 + r.nextInt(10)];
            for (int i = 0; i < out.length; i++) {
                out[i] = drawn[r.nextInt(drawn.length)];
            }
            int[] all = Arrays.copyOf(prompt, prompt.length + out.length);
            System.arraycopy(out, 0, all, prompt.length, out.length);
            if (!monotonic(t, all)) {
                continue;
            }
            String promptText = t.decode(prompt);
            for (int k = 1; k <= out.length; k++) {
                String full = t.decode(Arrays.copyOf(all, prompt.length + k));
                // the prompt's text less the fewest trailing U+FFFD (bytes the output completed)
                int keep = promptText.length();
                while (!full.startsWith(promptText.substring(0, keep))) {
                    assertEquals('\uFFFD', promptText.charAt(keep - 1), "monotonic: only an unfinished end changes");
                    keep--;
                }
                String want = full.substring(keep);
                IncrementalDetokenizer d = t.newDetokenizer(prompt);
                StringBuilder streamed = new StringBuilder();
                for (int j = 0; j < k; j++) {
                    streamed.append(d.append(out[j]));
                }
                streamed.append(d.flush());
                String where = "prompt " + Arrays.toString(prompt) + ", output "
                        + Arrays.toString(Arrays.copyOf(out, k));
                assertEquals(want, streamed.toString(), "token by token, " + where);
                assertEquals(want, t.newDetokenizer(prompt).appendAll(Arrays.copyOf(out, k)), "appendAll, " + where);
                compared++;
            }
        }
        assertTrue(compared > 50, "only " + compared + " monotonic cases");
    }

    @Test
    void afterAPromptDemo() {
        DemoModel.write(dir);
        try (Tokenizer t = Tokenizer.load(dir)) {
            checkAfterPrompt(t, 704, 21);
            checkAfterPrompt(t, 256, 22);
        }
    }

    @Test
    void afterAPromptQwen() {
        Path q = QwenFixture.dir();
        assumeTrue(q != null, "the Qwen tokenizer fixture is absent");
        try (Tokenizer t = Tokenizer.load(q)) {
            checkAfterPrompt(t, 151669, 23);
            checkAfterPrompt(t, 300, 24);
        }
    }

    @Test
    void afterAPromptSentencePiece() throws Exception {
        SentencePieceFixture.write(dir, null);
        try (Tokenizer t = Tokenizer.load(dir)) {
            checkAfterPrompt(t, SentencePieceFixture.VOCAB_SIZE, 25);
            // no byte tokens: every output piece's leading space must survive the window
            checkAfterPrompt(t, new int[] {0, 1, 2, SentencePieceFixture.id("▁Hello"),
                    SentencePieceFixture.id("▁world"), SentencePieceFixture.id("▁"), SentencePieceFixture.id("!"),
                    SentencePieceFixture.id("ll")}, 26);
        }
    }
}
