package dev.ember.tokenizer;

import java.util.Arrays;

/**
 * Turns one sequence's generated tokens into text as they arrive, never emitting half a UTF-8 character:
 * each step decodes a short window (a few tokens of context plus the unread ones) and emits only the new
 * suffix, holding it back while it ends in U+FFFD (an incomplete byte sequence). The context window starts with
 * the prompt's last tokens so tokenizers whose decoders depend on the previous token (SentencePiece's leading
 * space) decode each piece as they would in the full text. The emitted text equals the tokenizer's decode of the
 * whole output, except where a byte-fallback decoder rewrites bytes already shown (see {@link #delta}). A prompt
 * (given as token ids) may end inside a character; the output tokens that complete it make it part of the output's
 * text (see {@link #newText}). Not thread-safe: one per sequence, step-loop thread only.
 */
public final class IncrementalDetokenizer {
    private static final int CONTEXT_TOKENS = 5;

    private final Tokenizer tokenizer;
    private int[] ids;
    private int size;
    private int prefixOffset;
    private int readOffset;
    private final StringBuilder text = new StringBuilder();

    public IncrementalDetokenizer(Tokenizer tokenizer, int[] promptTokens) {
        this.tokenizer = tokenizer;
        int context = Math.min(CONTEXT_TOKENS, promptTokens.length);
        this.ids = Arrays.copyOfRange(promptTokens, promptTokens.length - context, promptTokens.length + 16);
        this.size = context;
        this.prefixOffset = 0;
        this.readOffset = context;
    }

    /** Adds a generated token; returns the text it completed (possibly empty). */
    public String append(int token) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[size++] = token;
        String full = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, size));
        if (full.endsWith("\uFFFD")) {
            return "";
        }
        String delta = delta(full);
        if (!delta.isEmpty()) {
            text.append(delta);
            prefixOffset = readOffset;
            readOffset = size;
            return delta;
        }
        return "";
    }

    /**
     * Adds many generated tokens at once and emits their text with one decode of the window, as if each had been
     * {@link #append appended} and then {@link #flush flushed} (except where a byte-fallback decoder rewrites a byte
     * run: then this is the one decode's text, see {@link #delta}): the engine's path for requests whose text is only
     * needed at the end (no stop strings), so the step loop pays no per-token decode.
     */
    public String appendAll(int[] tokens) {
        if (size + tokens.length > ids.length) {
            ids = Arrays.copyOf(ids, Math.max(ids.length * 2, size + tokens.length));
        }
        System.arraycopy(tokens, 0, ids, size, tokens.length);
        size += tokens.length;
        return flush();
    }

    /** Emits whatever is held back (at the end of generation an incomplete character is shown as U+FFFD). */
    public String flush() {
        if (readOffset == size) {
            return "";
        }
        String delta = delta(tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, size)));
        text.append(delta);
        prefixOffset = readOffset;
        readOffset = size;
        return delta;
    }

    /**
     * What {@code full} (the window's decode with the new tokens) adds to {@code prefix} (its decode without them).
     * Only the first window can fail to start with its prefix: when the prompt ends inside a character, the prefix
     * ends in the U+FFFD of those bytes, which the output's bytes turn into the character. That character is the
     * output's: the text after the prefix's complete characters. (Without this the text stayed empty for good.)
     */
    private static String newText(String prefix, String full) {
        if (full.startsWith(prefix)) {
            return full.substring(prefix.length());
        }
        // the fewest trailing replacement characters: one before them may stand for a byte nothing completes
        for (int complete = prefix.length(); complete > 0 && prefix.charAt(complete - 1) == '\uFFFD'; complete--) {
            if (full.startsWith(prefix.substring(0, complete - 1))) {
                return full.substring(complete - 1);
            }
        }
        return null;
    }

    /**
     * The text the unread tokens add, given the window's decode with them ({@code full}). When the decoder rewrote
     * text already emitted — SentencePiece's ByteFallback turns a byte run that is not valid UTF-8 into one U+FFFD per
     * byte token, so a bad byte after a shown newline makes that newline a U+FFFD too — a stream cannot take it back:
     * the unread tokens are then decoded on their own (the window restarts at them). Without this every later window
     * failed the same prefix test and the rest of the output never reached the text.
     */
    private String delta(String full) {
        String delta = newText(tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, readOffset)), full);
        if (delta == null) {
            delta = tokenizer.decode(Arrays.copyOfRange(ids, readOffset, size));
        }
        return delta;
    }

    /** All text emitted so far. */
    public String text() {
        return text.toString();
    }
}
