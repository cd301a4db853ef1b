package dev.ember.backend;

/**
 * The narrow SPI between the engine (scheduler, block manager, sequences — shared by all devices) and the
 * math. One backend owns the weights, the KV cache and any device memory of one engine; it is driven by the
 * engine's single step-loop thread only (not thread-safe). {@code close()} is idempotent.
 *
 * <p>Sampling semantics (penalties, temperature, top-k/top-p/min-p, Philox keyed by (seed, token index),
 * logprobs) are fixed by {@code dev.ember.sampling.Sampler}; a backend that samples on its device must give
 * the same tokens.
 */
public interface Backend extends AutoCloseable {

    /**
     * Allocates the paged KV cache once, before the first step.
     *
     * @param blockSize tokens per block
     * @param maxBlocks a cap from the engine configuration, or 0 for as many as the memory budget allows
     * @return the number of blocks allocated (>= 1)
     */
    int allocateKvCache(int blockSize, int maxBlocks);

    /** Runs the model over the batch's tokens, writes their K/V into the cache, and samples where asked. */
    StepOutput step(ForwardBatch batch);

    /** A launched step whose output is collected later. */
    interface Pending {
        /** Waits for the step and returns its output (once). */
        StepOutput collect();
    }

    /**
     * Starts {@link #step} and returns before its output is needed, so the caller can plan and launch the next step
     * while this one runs. A backend that {@link #runsAhead() runs ahead} accepts, in a batch launched right after
     * another, token id {@code -(s + 1)} meaning "the token the previous launch sampled for its sequence s", resolved
     * on the device. Default: runs the step now.
     */
    default Pending launch(ForwardBatch batch) {
        StepOutput out = step(batch);
        return () -> out;
    }

    /** Whether {@link #launch} takes placeholder token ids from the previous launch (the engine may then run ahead). */
    default boolean runsAhead() {
        return false;
    }

    /** One line for logs: device, dtype, threads, memory plan. */
    String description();

    @Override
    void close();
}
