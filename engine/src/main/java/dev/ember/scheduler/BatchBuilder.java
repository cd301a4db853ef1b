package dev.ember.scheduler;

import dev.ember.backend.ForwardBatch;
import dev.ember.guided.TokenMask;
import dev.ember.kv.BlockTable;
import dev.ember.sampling.SamplingParams;

import java.util.List;

/** Lays out the scheduled sequences' new tokens as one flat {@link ForwardBatch}. Stateless. */
final class BatchBuilder {
    private BatchBuilder() {
    }

    /**
     * Each sequence contributes tokens [numCachedTokens, numCachedTokens + numScheduledTokens); its blocks must
     * already cover them.
     */
    static ForwardBatch build(List<Sequence> seqs, int blockSize) {
        int numSeqs = seqs.size();
        int[] queryStart = new int[numSeqs + 1];
        for (int s = 0; s < numSeqs; s++) {
            queryStart[s + 1] = queryStart[s] + seqs.get(s).numScheduledTokens();
        }
        int numTokens = queryStart[numSeqs];
        int[] tokenIds = new int[numTokens];
        int[] positions = new int[numTokens];
        int[] slotMapping = new int[numTokens];
        int[] contextLens = new int[numSeqs];
        int[][] blockTables = new int[numSeqs][];
        boolean[] sample = new boolean[numSeqs];
        SamplingParams[] params = new SamplingParams[numSeqs];
        long[] seeds = new long[numSeqs];
        int[] outputIndex = new int[numSeqs];
        int[][] tokenHistory = new int[numSeqs][];
        int[] numPromptTokens = new int[numSeqs];
        TokenMask[] masks = new TokenMask[numSeqs];
        for (int s = 0; s < numSeqs; s++) {
            Sequence seq = seqs.get(s);
            BlockTable table = seq.blockTable();
            int[] tokens = seq.tokenArray();
            int start = seq.numCachedTokens();
            int end = start + seq.numScheduledTokens();
            for (int pos = start, t = queryStart[s]; pos < end; pos++, t++) {
                tokenIds[t] = tokens[pos];
                positions[t] = pos;
                slotMapping[t] = table.blockId(pos / blockSize) * blockSize + pos % blockSize;
            }
            contextLens[s] = end;
            blockTables[s] = table.toArray();
            sample[s] = end == seq.numTokens();
            params[s] = sample[s] ? seq.params() : null;
            seeds[s] = seq.seed();
            outputIndex[s] = seq.numOutputTokens();
            tokenHistory[s] = tokens;
            numPromptTokens[s] = seq.numPromptTokens();
            if (sample[s] && seq.guide() != null) {
                masks[s] = seq.guide().mask();
            }
        }
        return new ForwardBatch(numSeqs, tokenIds, positions, slotMapping, queryStart, contextLens, blockTables,
                blockSize, sample, params, seeds, outputIndex, tokenHistory, numPromptTokens, masks);
    }
}
