package dev.ember.scheduler;

import dev.ember.api.FinishReason;
import dev.ember.guided.TokenGuide;
import dev.ember.kv.BlockTable;
import dev.ember.sampling.SamplingParams;

import java.util.Arrays;
import java.util.Objects;

/**
 * One request's token state: its prompt, the tokens generated so far, how many of them have K/V in the cache,
 * and the KV blocks it holds. Created by the engine and handed to {@link Scheduler#add}; from then on only the
 * scheduler changes it. Not thread-safe: the engine's step-loop thread only.
 */
public final class Sequence {
    private final long seqId;
    private final SamplingParams params;
    private final long seed;
    private final int numPromptTokens;
    private int[] tokens; // prompt then output; [0, numTokens) valid
    private int numTokens;
    private int numCachedTokens;
    private SequenceStatus status = SequenceStatus.WAITING;
    private FinishReason finishReason;
    private final BlockTable blockTable = new BlockTable();
    private int numScheduledTokens; // tokens planned for the step being built
    private boolean admitted;
    private final TokenGuide guide;

    /**
     * @param seqId        engine-wide unique id
     * @param promptTokens the prompt's token ids (copied; at least one, each >= 0)
     * @param params       the request's sampling settings
     * @param seed         the effective sampling seed (the engine derives one when the request had none)
     */
    public Sequence(long seqId, int[] promptTokens, SamplingParams params, long seed) {
        this(seqId, promptTokens, params, seed, null);
    }

    /**
     * @param guide the request's position in its output constraint, advanced by every appended token; null when
     *              the output is unconstrained
     */
    public Sequence(long seqId, int[] promptTokens, SamplingParams params, long seed, TokenGuide guide) {
        this.guide = guide;
        Objects.requireNonNull(promptTokens, "promptTokens");
        this.params = Objects.requireNonNull(params, "params");
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("sequence " + seqId + " has an empty prompt; expected at least one token");
        }
        for (int i = 0; i < promptTokens.length; i++) {
            if (promptTokens[i] < 0) {
                throw new IllegalArgumentException("sequence " + seqId + " has token id " + promptTokens[i]
                        + " at prompt position " + i + "; expected ids >= 0");
            }
        }
        this.seqId = seqId;
        this.seed = seed;
        this.numPromptTokens = promptTokens.length;
        // Room for some output up front; appendToken grows it (only in postprocess, never while a batch that
        // hands this array to the backend as tokenHistory is being run).
        this.tokens = Arrays.copyOf(promptTokens, promptTokens.length + Math.min(params.maxTokens(), 64));
        this.numTokens = promptTokens.length;
    }

    public long seqId() {
        return seqId;
    }

    /** The output constraint's cursor, or null. */
    public TokenGuide guide() {
        return guide;
    }

    public SamplingParams params() {
        return params;
    }

    public long seed() {
        return seed;
    }

    public int numPromptTokens() {
        return numPromptTokens;
    }

    /** Prompt plus generated tokens. */
    public int numTokens() {
        return numTokens;
    }

    public int numOutputTokens() {
        return numTokens - numPromptTokens;
    }

    public int tokenAt(int i) {
        Objects.checkIndex(i, numTokens);
        return tokens[i];
    }

    public int lastToken() {
        return tokens[numTokens - 1];
    }

    /** The generated tokens (a copy). */
    public int[] outputTokens() {
        return Arrays.copyOfRange(tokens, numPromptTokens, numTokens);
    }

    /** The prompt (a copy). */
    public int[] promptTokens() {
        return Arrays.copyOf(tokens, numPromptTokens);
    }

    /** Tokens whose K/V are in the cache: computed by earlier steps or shared through the prefix cache. */
    public int numCachedTokens() {
        return numCachedTokens;
    }

    public SequenceStatus status() {
        return status;
    }

    /** Why it finished; null until then. */
    public FinishReason finishReason() {
        return finishReason;
    }

    public boolean isFinished() {
        return status == SequenceStatus.FINISHED;
    }

    @Override
    public String toString() {
        return "Sequence[" + seqId + ", " + status + ", tokens=" + numTokens + " (prompt " + numPromptTokens
                + "), cached=" + numCachedTokens + (finishReason == null ? "" : ", " + finishReason) + "]";
    }

    // ---- scheduler-side state ----

    /** The internal token array, prompt then output, possibly longer than numTokens (not a copy). */
    int[] tokenArray() {
        return tokens;
    }

    BlockTable blockTable() {
        return blockTable;
    }

    int numScheduledTokens() {
        return numScheduledTokens;
    }

    void setNumScheduledTokens(int n) {
        numScheduledTokens = n;
    }

    void setNumCachedTokens(int n) {
        if (n < 0 || n > numTokens) {
            throw new IllegalStateException("sequence " + seqId + ": cached tokens " + n + " outside 0.." + numTokens);
        }
        numCachedTokens = n;
    }

    void appendToken(int token) {
        if (numTokens == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length + Math.max(64, tokens.length >> 1));
        }
        tokens[numTokens++] = token;
        if (guide != null) {
            guide.accept(token);
        }
    }

    /** Replaces token {@code index} (a run-ahead placeholder, see Scheduler#advance). */
    void setTokenAt(int index, int token) {
        if (index < numPromptTokens || index >= numTokens) {
            throw new IllegalStateException("sequence " + seqId + ": token " + index + " is not an output token (0.." + numTokens + ")");
        }
        tokens[index] = token;
    }

    boolean wasAdmitted() {
        return admitted;
    }

    void markAdmitted() {
        admitted = true;
    }

    void setStatus(SequenceStatus status) {
        this.status = status;
    }

    void finish(FinishReason reason) {
        this.status = SequenceStatus.FINISHED;
        this.finishReason = reason;
    }
}
