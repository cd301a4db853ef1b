package dev.ember.scheduler;

import dev.ember.backend.Backend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;

import java.util.Arrays;

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
        if (b.blockSize != blockSize) {
            throw bad("block size " + b.blockSize);
        }
        if (b.numSeqs == 0 || b.queryStart[0] != 0) {
            throw bad("empty batch or queryStart[0] != 0");
        }
        numSteps++;
        maxTokensInStep = Math.max(maxTokensInStep, b.numTokens());
        boolean decode = false;
        boolean prefill = false;
        int[] tablesHolding = new int[numSlots / blockSize];
        for (int s = 0; s < b.numSeqs; s++) {
            for (int block : b.blockTables[s]) {
                if (block < 0 || block >= tablesHolding.length) {
                    throw bad("block " + block + " out of range");
                }
                tablesHolding[block]++;
            }
        }
        for (int s = 0; s < b.numSeqs; s++) {
            int len = b.queryLen(s);
            if (len < 1) {
                throw bad("sequence " + s + " has " + len + " new tokens");
            }
            int first = b.contextLens[s] - len;
            if (first < 0) {
                throw bad("context shorter than new tokens");
            }
            if (b.blockTables[s].length < (b.contextLens[s] + blockSize - 1) / blockSize) {
                throw bad("block table too short");
            }
            for (int t = b.queryStart[s]; t < b.queryStart[s + 1]; t++) {
                int pos = first + t - b.queryStart[s];
                if (b.positions[t] != pos) {
                    throw bad("token " + t + " at position " + b.positions[t] + ", expected " + pos);
                }
                if (b.tokenIds[t] != b.tokenHistory[s][pos]) {
                    throw bad("token " + t + " id differs from the history");
                }
                int slot = b.slotMapping[t];
                if (slot < 0 || slot >= numSlots) {
                    throw bad("slot " + slot + " out of range");
                }
                if (tablesHolding[slot / blockSize] != 1) {
                    throw bad("sequence " + s + " writes block " + slot / blockSize
                            + ", which is not in its block table alone");
                }
                slotToken[slot] = b.tokenIds[t];
                slotPosition[slot] = pos;
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
            if ((b.params[s] != null) != b.sample[s]) {
                throw bad("params must be set exactly where sampled");
            }
            if (!b.sample[s]) {
                tokens[s] = -1;
                continue;
            }
            if (b.contextLens[s] != b.numPromptTokens[s] + b.outputIndex[s]) {
                throw bad("a sampled sequence's context is not its whole history");
            }
            FakeModel model = new FakeModel(b.seeds[s], b.outputIndex[s]);
            for (int p = 0; p < b.contextLens[s]; p++) {
                int slot = b.blockTables[s][p / blockSize] * blockSize + p % blockSize;
                if (slotPosition[slot] != p) {
                    throw bad("position " + p + " reads slot " + slot + " holding position " + slotPosition[slot]);
                }
                if (slotToken[slot] != b.tokenHistory[s][p]) {
                    throw bad("position " + p + " reads a different token from slot " + slot);
                }
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

    private static AssertionError bad(String what) {
        return new AssertionError("bad ForwardBatch: " + what);
    }
}
