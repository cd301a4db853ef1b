package dev.ember.spark.executor;

import dev.ember.engine.Engine;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A task's hold on a shared engine from {@link EngineRegistry#acquire}. The task submits requests through
 * {@link #engine()} and closes the lease when done; closing does not close the engine. Idempotent close.
 */
public final class EngineLease implements AutoCloseable {
    private final EngineKey key;
    private final Engine engine;
    private final AtomicBoolean closed = new AtomicBoolean();

    EngineLease(EngineKey key, Engine engine) {
        this.key = key;
        this.engine = engine;
    }

    public Engine engine() {
        return engine;
    }

    public EngineKey key() {
        return key;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            EngineRegistry.release(key);
        }
    }
}
