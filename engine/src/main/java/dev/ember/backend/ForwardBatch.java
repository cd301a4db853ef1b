package dev.ember.backend;

import dev.ember.guided.TokenMask;
import dev.ember.sampling.SamplingParams;

/**
 * One engine step: a flat list of T new tokens from S sequences (prefill chunks and decodes mixed), with
 * everything a backend needs to run attention over the paged KV cache and to sample. Built by the scheduler;
 * arrays are owned by the batch and must not be modified by the backend.
 *
 * <p>Sequence {@code s} contributes tokens {@code [queryStart[s], queryStart[s+1])}. Its first new token sits at
 * position {@code contextLens[s] - (queryStart[s+1] - queryStart[s])}; the tokens before that are already in
 * the cache (computed earlier or shared through the prefix cache). {@code slotMapping[t]} is the flat KV slot
 * ({@code block * blockSize + offset}) where token {@code t}'s K and V go; {@code blockTables[s]} lists the
 * blocks holding the sequence's context in order.
 */
public final class ForwardBatch {
    /** Number of sequences S. */
    public final int numSeqs;
    /** (T) token ids of the new tokens. */
    public final int[] tokenIds;
    /** (T) absolute positions of the new tokens. */
    public final int[] positions;
    /** (T) flat KV-cache slot of each new token. */
    public final int[] slotMapping;
    /** (S + 1) prefix sums of the per-sequence new-token counts; queryStart[S] = T. */
    public final int[] queryStart;
    /** (S) tokens in the cache for each sequence once this step's tokens are written. */
    public final int[] contextLens;
    /** (S) block ids of each sequence, in order; each has at least ceil(contextLens[s] / blockSize) entries. */
    public final int[][] blockTables;
    /** Tokens per KV block. */
    public final int blockSize;

    /** (S) whether a token is sampled for the sequence this step (its last prompt chunk, or a decode). */
    public final boolean[] sample;
    /** (S) sampling settings (null where sample is false). */
    public final SamplingParams[] params;
    /** (S) the effective seed of each sequence (never null; derived by the engine when the request had none). */
    public final long[] seeds;
    /** (S) index of the token being sampled among the sequence's generated tokens (0 for the first). */
    public final int[] outputIndex;
    /**
     * (S) the sequence's tokens so far, prompt then output, in an array that may be longer than needed;
     * valid entries are {@code [0, numPromptTokens[s] + outputIndex[s])}. Used for penalties.
     */
    public final int[][] tokenHistory;
    /** (S) prompt length of each sequence. */
    public final int[] numPromptTokens;
    /** (S) the tokens a guided sequence may sample this step; null where unconstrained or not sampled. */
    public final TokenMask[] tokenMasks;

    public ForwardBatch(int numSeqs, int[] tokenIds, int[] positions, int[] slotMapping, int[] queryStart,
                        int[] contextLens, int[][] blockTables, int blockSize, boolean[] sample, SamplingParams[] params,
                        long[] seeds, int[] outputIndex, int[][] tokenHistory, int[] numPromptTokens) {
        this(numSeqs, tokenIds, positions, slotMapping, queryStart, contextLens, blockTables, blockSize, sample, params,
                seeds, outputIndex, tokenHistory, numPromptTokens, new TokenMask[numSeqs]);
    }

    public ForwardBatch(int numSeqs, int[] tokenIds, int[] positions, int[] slotMapping, int[] queryStart,
                        int[] contextLens, int[][] blockTables, int blockSize, boolean[] sample, SamplingParams[] params,
                        long[] seeds, int[] outputIndex, int[][] tokenHistory, int[] numPromptTokens,
                        TokenMask[] tokenMasks) {
        int t = tokenIds.length;
        if (positions.length != t || slotMapping.length != t || queryStart.length != numSeqs + 1
                || queryStart[numSeqs] != t || contextLens.length != numSeqs || blockTables.length != numSeqs
                || sample.length != numSeqs || params.length != numSeqs || seeds.length != numSeqs
                || outputIndex.length != numSeqs || tokenHistory.length != numSeqs || numPromptTokens.length != numSeqs
                || tokenMasks.length != numSeqs) {
            throw new IllegalArgumentException("inconsistent ForwardBatch: " + numSeqs + " sequences, " + t + " tokens");
        }
        this.numSeqs = numSeqs;
        this.tokenIds = tokenIds;
        this.positions = positions;
        this.slotMapping = slotMapping;
        this.queryStart = queryStart;
        this.contextLens = contextLens;
        this.blockTables = blockTables;
        this.blockSize = blockSize;
        this.sample = sample;
        this.params = params;
        this.seeds = seeds;
        this.outputIndex = outputIndex;
        this.tokenHistory = tokenHistory;
        this.numPromptTokens = numPromptTokens;
        this.tokenMasks = tokenMasks;
    }

    /** Total new tokens T. */
    public int numTokens() {
        return tokenIds.length;
    }

    /** New tokens of sequence s this step. */
    public int queryLen(int s) {
        return queryStart[s + 1] - queryStart[s];
    }

    /** True when every sequence contributes exactly one token (a pure decode step; CUDA graphs apply). */
    public boolean isDecodeOnly() {
        return tokenIds.length == numSeqs;
    }
}
