package dev.ember.tokenizer;

import dev.ember.demo.DemoModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
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

    static Path qwen() {
        Path base = Path.of(System.getProperty("ember.fixtures", Path.of("..", "..", "shared", "fixtures").toString()));
        Path d = base.resolve("qwen-tokenizer");
        return Files.isRegularFile(d.resolve("tokenizer.json")) ? d : null;
    }

    @Test
    void demoTokenizer() {
        DemoModel.write(dir);
        try (Tokenizer t = Tokenizer.load(dir)) {
            check(t, 704, 11);
        }
    }

    @Test
    void qwenTokenizer() {
        Path q = qwen();
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
}
