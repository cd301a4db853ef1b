package dev.ember.scheduler;

import dev.ember.backend.ForwardBatch;

import java.util.List;

/**
 * One step's plan from {@link Scheduler#schedule()}: the sequences that run and the {@link ForwardBatch} the
 * backend executes; sequence {@code s} of {@link #sequences()} is sequence {@code s} of the batch. Hand it back
 * to {@link Scheduler#postprocess} with the backend's output. Immutable.
 */
public final class ScheduledBatch {
    private final List<Sequence> sequences;
    private final ForwardBatch forwardBatch;

    ScheduledBatch(List<Sequence> sequences, ForwardBatch forwardBatch) {
        this.sequences = List.copyOf(sequences);
        this.forwardBatch = forwardBatch;
    }

    /** In ForwardBatch order. */
    public List<Sequence> sequences() {
        return sequences;
    }

    public ForwardBatch forwardBatch() {
        return forwardBatch;
    }

    /** Prompt (or recompute) tokens in this step: every new token that is not a decode. */
    public int numPrefillTokens() {
        return forwardBatch.numTokens() - numDecodeTokens();
    }

    /** Sequences contributing exactly their one newest token, whose logits are sampled. */
    public int numDecodeTokens() {
        int n = 0;
        for (int s = 0; s < forwardBatch.numSeqs; s++) {
            if (forwardBatch.queryLen(s) == 1 && forwardBatch.sample[s]) {
                n++;
            }
        }
        return n;
    }
}
