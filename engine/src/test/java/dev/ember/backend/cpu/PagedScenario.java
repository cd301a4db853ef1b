package dev.ember.backend.cpu;

import dev.ember.backend.ForwardBatch;
import dev.ember.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A miniature scheduler for tests: sequences whose whole token lists are known up front, fed to a backend in
 * chunks; KV blocks come from a shuffled free list so each sequence's blocks are scattered and non-contiguous.
 */
final class PagedScenario {
    /** One sequence: its prompt length, all its tokens (prompt then output) and what the cache holds. */
    static final class Seq {
        final int promptLen;
        final int[] tokens;
        final List<Integer> blocks = new ArrayList<>();
        int computed;

        Seq(int promptLen, int[] tokens) {
            this.promptLen = promptLen;
            this.tokens = tokens;
        }

        int[] prefix(int len) {
            return java.util.Arrays.copyOf(tokens, len);
        }
    }

    /** Feed {@code count} more tokens of {@code seq}; sample (the last of them) or not. */
    record Chunk(Seq seq, int count, boolean sample) {
    }

    private final int blockSize;
    private final List<Integer> freeBlocks = new ArrayList<>();
    private final SamplingParams params;
    private final Random random;

    PagedScenario(int blockSize, int numBlocks, SamplingParams params, long seed) {
        this.blockSize = blockSize;
        this.params = params;
        this.random = new Random(seed);
        for (int b = 0; b < numBlocks; b++) {
            freeBlocks.add(b);
        }
        Collections.shuffle(freeBlocks, random);
    }

    Seq newSeq(int promptLen, int totalLen, int vocab) {
        int[] tokens = new int[totalLen];
        for (int i = 0; i < totalLen; i++) {
            tokens[i] = random.nextInt(vocab);
        }
        return new Seq(promptLen, tokens);
    }

    /** Builds the batch and advances each sequence's computed count, as a scheduler would once it ran. */
    ForwardBatch batch(List<Chunk> chunks) {
        int numSeqs = chunks.size();
        int total = chunks.stream().mapToInt(Chunk::count).sum();
        int[] tokenIds = new int[total];
        int[] positions = new int[total];
        int[] slots = new int[total];
        int[] queryStart = new int[numSeqs + 1];
        int[] contextLens = new int[numSeqs];
        int[][] blockTables = new int[numSeqs][];
        boolean[] sample = new boolean[numSeqs];
        SamplingParams[] ps = new SamplingParams[numSeqs];
        long[] seeds = new long[numSeqs];
        int[] outputIndex = new int[numSeqs];
        int[][] history = new int[numSeqs][];
        int[] promptLens = new int[numSeqs];
        int t = 0;
        for (int s = 0; s < numSeqs; s++) {
            Chunk c = chunks.get(s);
            Seq seq = c.seq();
            queryStart[s] = t;
            for (int i = 0; i < c.count(); i++) {
                int pos = seq.computed + i;
                while (seq.blocks.size() <= pos / blockSize) {
                    seq.blocks.add(freeBlocks.remove(freeBlocks.size() - 1));
                }
                tokenIds[t] = seq.tokens[pos];
                positions[t] = pos;
                slots[t] = seq.blocks.get(pos / blockSize) * blockSize + pos % blockSize;
                t++;
            }
            seq.computed += c.count();
            contextLens[s] = seq.computed;
            blockTables[s] = seq.blocks.stream().mapToInt(Integer::intValue).toArray();
            sample[s] = c.sample();
            ps[s] = c.sample() ? params : null;
            seeds[s] = 1000 + s;
            outputIndex[s] = Math.max(0, seq.computed - seq.promptLen);
            history[s] = seq.tokens;
            promptLens[s] = seq.promptLen;
        }
        queryStart[numSeqs] = t;
        return new ForwardBatch(numSeqs, tokenIds, positions, slots, queryStart, contextLens, blockTables, blockSize,
                sample, ps, seeds, outputIndex, history, promptLens);
    }
}
