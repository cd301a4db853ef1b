package dev.ember.backend.cpu;

import dev.ember.backend.ForwardBatch;

/** Rejects batches the CPU math would otherwise read out of bounds with, naming what is wrong. */
final class BatchChecks {
    private BatchChecks() {
    }

    static void validate(ForwardBatch batch, KvCache cache) {
        if (batch.blockSize != cache.blockSize) {
            throw new IllegalArgumentException("the batch uses blocks of " + batch.blockSize
                    + " tokens but the KV cache was allocated with blocks of " + cache.blockSize);
        }
        for (int s = 0; s < batch.numSeqs; s++) {
            int len = batch.queryLen(s);
            if (len < 0) {
                throw new IllegalArgumentException("queryStart is not ascending at sequence " + s);
            }
            if (batch.sample[s] && (len == 0 || batch.params[s] == null)) {
                throw new IllegalArgumentException("sequence " + s + " is to be sampled but has " + len
                        + " new tokens and params " + batch.params[s]);
            }
            for (int t = batch.queryStart[s]; t < batch.queryStart[s + 1]; t++) {
                int position = batch.positions[t];
                if (position < 0 || position >= batch.contextLens[s]) {
                    throw new IllegalArgumentException("token " + t + " of sequence " + s + " sits at position "
                            + position + ", outside its context of " + batch.contextLens[s] + " tokens");
                }
            }
            int usedBlocks = (batch.contextLens[s] + cache.blockSize - 1) / cache.blockSize;
            if (batch.blockTables[s].length < usedBlocks) {
                throw new IllegalArgumentException("sequence " + s + " has a context of " + batch.contextLens[s]
                        + " tokens but only " + batch.blockTables[s].length + " blocks of " + cache.blockSize);
            }
            for (int i = 0; i < usedBlocks; i++) {
                int block = batch.blockTables[s][i];
                if (block < 0 || block >= cache.numBlocks) {
                    throw new IllegalArgumentException("sequence " + s + " names block " + block
                            + "; the KV cache has blocks [0, " + cache.numBlocks + ")");
                }
            }
        }
    }
}
