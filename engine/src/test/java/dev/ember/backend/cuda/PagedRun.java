package dev.ember.backend.cuda;

import dev.ember.backend.ForwardBatch;
import dev.ember.sampling.SamplingParams;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * A minimal stand-in for the scheduler in backend tests: sequences with block lists from a free list, steps
 * where each sequence contributes up to {@code maxChunk} of its not-yet-computed tokens (so prefill, chunked
 * prefill, decode and mixed steps all come from one rule), prefix sharing by reusing another sequence's full
 * blocks, and preemption by dropping a sequence's blocks (it is recomputed from scratch).
 */
final class PagedRun {
    /** One sequence: its tokens (prompt, then generated), how many are in the cache, and its blocks. */
    static final class Seq {
        int[] tokens;
        int length;
        final int promptLen;
        int computed;
        final List<Integer> blocks = new ArrayList<>();
        final SamplingParams params;
        final long seed;

        Seq(int[] prompt, SamplingParams params, long seed) {
            this.tokens = Arrays.copyOf(prompt, prompt.length + 64);
            this.length = prompt.length;
            this.promptLen = prompt.length;
            this.params = params;
            this.seed = seed;
        }

        void append(int token) {
            if (length == tokens.length) {
                tokens = Arrays.copyOf(tokens, tokens.length * 2);
            }
            tokens[length++] = token;
        }

        int[] generated() {
            return Arrays.copyOfRange(tokens, promptLen, length);
        }
    }

    private final int blockSize;
    private final Deque<Integer> free = new ArrayDeque<>();

    PagedRun(int blockSize, int numBlocks) {
        this.blockSize = blockSize;
        // hand blocks out in a scrambled order so no sequence's blocks are contiguous
        for (int i = 0; i < numBlocks; i++) {
            free.add((int) ((i * 7919L) % numBlocks));
        }
    }

    /** A new sequence whose first {@code cachedTokens} (a multiple of the block size) share {@code source}'s blocks. */
    Seq fork(Seq source, int[] prompt, int cachedTokens, SamplingParams params, long seed) {
        if (cachedTokens % blockSize != 0 || cachedTokens > source.computed) {
            throw new IllegalArgumentException("can share only computed full blocks");
        }
        Seq s = new Seq(prompt, params, seed);
        s.blocks.addAll(source.blocks.subList(0, cachedTokens / blockSize));
        s.computed = cachedTokens;
        return s;
    }

    /** Drops the sequence's KV (recompute on its next step). Shared blocks are not recycled, for simplicity. */
    void preempt(Seq s) {
        s.blocks.clear();
        s.computed = 0;
    }

    /** The next step over {@code seqs}: each adds up to maxChunk uncomputed tokens; marks them computed. */
    ForwardBatch step(List<Seq> seqs, int maxChunk) {
        int n = seqs.size();
        int[] queryStart = new int[n + 1];
        int[] ends = new int[n];
        for (int i = 0; i < n; i++) {
            Seq s = seqs.get(i);
            ends[i] = Math.min(s.length, s.computed + maxChunk);
            queryStart[i + 1] = queryStart[i] + ends[i] - s.computed;
        }
        int t = queryStart[n];
        int[] ids = new int[t];
        int[] positions = new int[t];
        int[] slots = new int[t];
        int[] contextLens = new int[n];
        int[][] tables = new int[n][];
        boolean[] sample = new boolean[n];
        SamplingParams[] params = new SamplingParams[n];
        long[] seeds = new long[n];
        int[] outputIndex = new int[n];
        int[][] history = new int[n][];
        int[] promptLens = new int[n];
        for (int i = 0; i < n; i++) {
            Seq s = seqs.get(i);
            while (s.blocks.size() * blockSize < ends[i]) {
                s.blocks.add(free.removeFirst());
            }
            for (int p = s.computed; p < ends[i]; p++) {
                int k = queryStart[i] + p - s.computed;
                ids[k] = s.tokens[p];
                positions[k] = p;
                slots[k] = s.blocks.get(p / blockSize) * blockSize + p % blockSize;
            }
            contextLens[i] = ends[i];
            tables[i] = s.blocks.stream().mapToInt(Integer::intValue).toArray();
            sample[i] = ends[i] == s.length;
            params[i] = sample[i] ? s.params : null;
            seeds[i] = s.seed;
            outputIndex[i] = s.length - s.promptLen;
            history[i] = s.tokens;
            promptLens[i] = s.promptLen;
            s.computed = ends[i];
        }
        return new ForwardBatch(n, ids, positions, slots, queryStart, contextLens, tables, blockSize, sample, params, seeds,
                outputIndex, history, promptLens);
    }
}
