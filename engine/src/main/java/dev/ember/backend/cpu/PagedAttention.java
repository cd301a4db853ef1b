package dev.ember.backend.cpu;

import java.util.concurrent.ForkJoinPool;

/**
 * The loops behind {@link CpuOps#pagedAttention}: one (token, query head) pair at a time, split over workers; the
 * q.k dot products and the weighted sum of V rows run on {@link Simd#KERNELS} along the head dimension.
 */
final class PagedAttention {
    /** Pairs per task at least: a pair costs about context * headDim * 4 flops. */
    private static final int MIN_PAIRS_PER_TASK = 4;
    /** Work per task at least, so short contexts (small models, first tokens) stay on the calling thread. */
    private static final long MIN_FLOPS_PER_TASK = 1_000_000;

    private PagedAttention() {
    }

    static void run(float[] out, float[] q, float[] kCache, float[] vCache, int[] queryStart, int[] positions,
                    int[][] blockTables, int blockSize, int numHeads, int numKvHeads, int headDim, ForkJoinPool pool,
                    Kernels kernels) {
        int numSeqs = queryStart.length - 1;
        int numTokens = queryStart[numSeqs];
        int[] seqOf = new int[numTokens];
        int maxContext = 0;
        for (int s = 0; s < numSeqs; s++) {
            for (int t = queryStart[s]; t < queryStart[s + 1]; t++) {
                seqOf[t] = s;
                int context = positions[t] + 1;
                if ((long) blockTables[s].length * blockSize < context) {
                    throw new IllegalArgumentException("sequence " + s + " has " + blockTables[s].length
                            + " blocks of " + blockSize + " tokens but token " + t + " sits at position " + positions[t]);
                }
                maxContext = Math.max(maxContext, context);
            }
        }
        int contextCap = maxContext;
        int groupSize = numHeads / numKvHeads;
        int kvWidth = numKvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        long flops = 0;
        for (int t = 0; t < numTokens; t++) {
            flops += 4L * (positions[t] + 1) * headDim * numHeads;
        }
        int pairs = numTokens * numHeads;
        int tasks = (int) Math.max(1, Math.min(Parallel.workers(pool) * 4L, flops / MIN_FLOPS_PER_TASK));
        Parallel.forRange(pool, pairs, Math.max(MIN_PAIRS_PER_TASK, (pairs + tasks - 1) / tasks), (start, end) -> {
            float[] scores = Scratch.current().scores(contextCap);
            for (int pair = start; pair < end; pair++) {
                int t = pair / numHeads;
                int h = pair % numHeads;
                int[] blocks = blockTables[seqOf[t]];
                int context = positions[t] + 1;
                int qBase = (t * numHeads + h) * headDim;
                int kvHeadOffset = (h / groupSize) * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < context; p++) {
                    int kBase = (blocks[p / blockSize] * blockSize + p % blockSize) * kvWidth + kvHeadOffset;
                    float score = kernels.dot(q, qBase, kCache, kBase, headDim) * scale;
                    scores[p] = score;
                    max = Math.max(max, score);
                }
                // q's row is read for the last time above: out may be q itself
                java.util.Arrays.fill(out, qBase, qBase + headDim, 0f);
                float sum = 0;
                for (int p = 0; p < context; p++) {
                    float weight = (float) Math.exp(scores[p] - max);
                    sum += weight;
                    int vBase = (blocks[p / blockSize] * blockSize + p % blockSize) * kvWidth + kvHeadOffset;
                    kernels.axpy(out, qBase, weight, vCache, vBase, headDim);
                }
                float inv = 1f / sum;
                for (int d = 0; d < headDim; d++) {
                    out[qBase + d] *= inv;
                }
            }
        });
    }
}
