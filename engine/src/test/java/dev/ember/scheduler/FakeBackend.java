package dev.ember.scheduler;

import dev.ember.backend.Backend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * A backend whose "KV cache" stores, per slot, the token id and position written there. A step writes every new
 * token into its {@code slotMapping} slot, then for each sequence to sample reads its whole context back through
 * its block table (positions below {@code contextLens}) and feeds those (token, position) pairs to
 * {@link FakeModel}. So a wrong slot, block table, cached-token count or position changes the sampled tokens;
 * the inconsistencies it can see directly (a slot holding another position or token, a write into a block another
 * sequence of the step reads, a malformed batch) fail at once with an {@link AssertionError}.
 */
final class FakeBackend implements Backend {
    private int blockSize;
    private int numSlots;
    private int[] slotToken;
    private int[] slotPosition;
    long numSteps;
    long numMixedSteps;     // a decode and a prefill chunk in one step
    long numPartialPrefills; // a sequence computed tokens without reaching the end of its known tokens
    int maxTokensInStep;

    @Override
    public int allocateKvCache(int blockSize, int maxBlocks) {
        this.blockSize = blockSize;
        this.numSlots = blockSize * maxBlocks;
        slotToken = new int[numSlots];
        slotPosition = new int[numSlots];
        Arrays.fill(slotPosition, -1);
        return maxBlocks;
    }

    @Override
    public StepOutput step(ForwardBatch b) {
        check(b.blockSize == blockSize, "block size " + b.blockSize);
        check(b.numSeqs > 0 && b.queryStart[0] == 0, "empty batch or queryStart[0] != 0");
        numSteps++;
        maxTokensInStep = Math.max(maxTokensInStep, b.numTokens());
        boolean decode = false;
        boolean prefill = false;
        for (int s = 0; s < b.numSeqs; s++) {
            int len = b.queryLen(s);
            check(len >= 1, "sequence " + s + " has " + len + " new tokens");
            int first = b.contextLens[s] - len;
            check(first >= 0, "context shorter than new tokens");
            check(b.blockTables[s].length >= (b.contextLens[s] + blockSize - 1) / blockSize, "block table too short");
            Set<Integer> written = new HashSet<>();
            for (int t = b.queryStart[s]; t < b.queryStart[s + 1]; t++) {
                int pos = first + t - b.queryStart[s];
                check(b.positions[t] == pos, "token " + t + " at position " + b.positions[t] + ", expected " + pos);
                check(b.tokenIds[t] == b.tokenHistory[s][pos], "token " + t + " id differs from the history");
                int slot = b.slotMapping[t];
                check(slot >= 0 && slot < numSlots, "slot " + slot + " out of range");
                slotToken[slot] = b.tokenIds[t];
                slotPosition[slot] = pos;
                written.add(slot / blockSize);
            }
            for (int other = 0; other < b.numSeqs; other++) {
                if (other != s) {
                    for (int block : b.blockTables[other]) {
                        check(!written.contains(block), "sequence " + s + " writes block " + block + " that sequence " + other + " reads");
                    }
                }
            }
            if (b.sample[s]) {
                decode |= len == 1;
                prefill |= len > 1;
            } else {
                prefill = true;
                numPartialPrefills++;
            }
        }
        if (decode && prefill) {
            numMixedSteps++;
        }
        int[] tokens = new int[b.numSeqs];
        float[] logprobs = new float[b.numSeqs];
        for (int s = 0; s < b.numSeqs; s++) {
            logprobs[s] = Float.NaN;
            check((b.params[s] != null) == b.sample[s], "params must be set exactly where sampled");
            if (!b.sample[s]) {
                tokens[s] = -1;
                continue;
            }
            check(b.contextLens[s] == b.numPromptTokens[s] + b.outputIndex[s], "a sampled sequence's context is not its whole history");
            FakeModel model = new FakeModel(b.seeds[s], b.outputIndex[s]);
            for (int p = 0; p < b.contextLens[s]; p++) {
                int slot = b.blockTables[s][p / blockSize] * blockSize + p % blockSize;
                check(slotPosition[slot] == p, "position " + p + " reads slot " + slot + " holding position " + slotPosition[slot]);
                check(slotToken[slot] == b.tokenHistory[s][p], "position " + p + " reads a different token from slot " + slot);
                model.feed(slotToken[slot], slotPosition[slot]);
            }
            tokens[s] = model.token();
            logprobs[s] = -1f;
        }
        return new StepOutput(tokens, logprobs, new int[b.numSeqs][], new float[b.numSeqs][]);
    }

    @Override
    public String description() {
        return "fake backend: " + numSlots + " slots";
    }

    @Override
    public void close() {
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("bad ForwardBatch: " + what);
        }
    }
}
