package dev.ember.spark.executor;

import dev.ember.engine.Engine;
import dev.ember.engine.Result;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Streams a partition's rows through a shared engine and gives the results back in input order. Up to
 * {@code window} requests stay submitted at once, so the engine's continuous batch holds many rows of this task
 * (and of the executor's other tasks) while this task's consumer reads the oldest; rows are never answered one
 * blocking call at a time. Rows whose input is an error skip the engine and come back as error results.
 *
 * <p>Not thread-safe: one task's thread drives it. {@link #close()} aborts what is still in flight (a task
 * that is killed or fails stops paying for its rows).
 */
public final class OrderedGenerations implements Iterator<OrderedGenerations.Generated>, AutoCloseable {
    /** A row's index within its partition and its result. */
    public record Generated(long index, Result result) {
    }

    /** How often a wait for the oldest row runs the {@code whileWaiting} check. */
    public static final long WAIT_CHECK_MS = 100;

    private record Pending(long index, String requestId, CompletableFuture<Result> future) {
    }

    private final Engine engine;
    private final Iterator<RowInput> inputs;
    private final int window;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Runnable whileWaiting;

    public OrderedGenerations(Engine engine, Iterator<RowInput> inputs, int window) {
        this(engine, inputs, window, () -> { });
    }

    /**
     * As {@link #OrderedGenerations(Engine, Iterator, int)}, running {@code whileWaiting} about every
     * {@value #WAIT_CHECK_MS} ms while the oldest row is not answered yet; it may throw to stop waiting (a Spark
     * task passes {@code TaskContext::killTaskIfInterrupted}, so a killed task stops at once, not when its oldest
     * row finishes, and its close() aborts the rest).
     */
    public OrderedGenerations(Engine engine, Iterator<RowInput> inputs, int window, Runnable whileWaiting) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        this.engine = engine;
        this.inputs = inputs;
        this.window = window;
        this.whileWaiting = whileWaiting;
    }

    @Override
    public boolean hasNext() {
        fill();
        return !pending.isEmpty();
    }

    @Override
    public Generated next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        // removed only once answered: a wait that throws (interrupt, killed task) leaves it for close() to abort
        Pending p = pending.peekFirst();
        Result r;
        try {
            r = await(p.future());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for row " + p.index(), e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("generation of row " + p.index() + " failed", cause);
        }
        pending.removeFirst();
        fill();
        return new Generated(p.index(), r);
    }

    private Result await(CompletableFuture<Result> future) throws InterruptedException, ExecutionException {
        while (true) {
            try {
                return future.get(WAIT_CHECK_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                whileWaiting.run();
            }
        }
    }

    private void fill() {
        while (pending.size() < window && inputs.hasNext()) {
            RowInput in = inputs.next();
            if (in.error() != null) {
                pending.addLast(new Pending(in.index(), null,
                        CompletableFuture.completedFuture(Result.error(null, in.error(), 0))));
            } else {
                pending.addLast(new Pending(in.index(), in.request().requestId(), engine.submit(in.request())));
            }
        }
    }

    @Override
    public void close() {
        for (Pending p : pending) {
            if (p.requestId() != null && !p.future().isDone()) {
                engine.abort(p.requestId());
            }
        }
        pending.clear();
    }
}
