package dev.ember.backend;

import java.util.Objects;

/**
 * A backend that hands every call to another: the base of decorators (fault injection in tests, step timing in
 * tools; see {@code Engine.create(config, wrap)}), which override only what they change. {@link #launch} and
 * {@link #runsAhead} keep the interface's defaults, so a launch runs this object's {@link #step} and an override of
 * {@code step} sees every step; a decorator that wants the delegate's run-ahead overrides both. Closing it closes the
 * delegate.
 */
public abstract class ForwardingBackend implements Backend {
    protected final Backend delegate;

    protected ForwardingBackend(Backend delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public int allocateKvCache(int blockSize, int maxBlocks) {
        return delegate.allocateKvCache(blockSize, maxBlocks);
    }

    @Override
    public StepOutput step(ForwardBatch batch) {
        return delegate.step(batch);
    }

    @Override
    public String description() {
        return delegate.description();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
