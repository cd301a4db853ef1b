package dev.ember.engine;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The inference engine: one step-loop thread running a continuous batch over a paged KV cache.
 * Thread-safe: {@link #submit} may be called from any number of threads; all requests share one batch.
 * Owns its backend (weights, KV cache, device memory); {@link #close()} aborts unfinished requests and frees them.
 */
public final class Engine implements AutoCloseable {
    private Engine() {
    }

    /** Loads the model of {@code config} and starts the step loop. */
    public static Engine create(EngineConfig config) {
        throw new UnsupportedOperationException("being written");
    }

    /** Queues a request; waits while max_in_flight requests are unfinished (back-pressure). */
    public CompletableFuture<Result> submit(Request request) {
        throw new UnsupportedOperationException("being written");
    }

    /** Submits all and waits; results in input order. */
    public List<Result> generate(List<Request> requests) {
        throw new UnsupportedOperationException("being written");
    }

    public EngineMetrics metrics() {
        throw new UnsupportedOperationException("being written");
    }

    @Override
    public void close() {
    }
}
