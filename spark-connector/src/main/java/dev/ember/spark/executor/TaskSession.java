package dev.ember.spark.executor;

import dev.ember.LlmException;
import dev.ember.engine.Engine;
import dev.ember.api.Result;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.types.DataType;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One Spark task's generation on the executor's shared engine, the same for {@code generate()} / {@code llm_generate}
 * (the plan operator) and {@code format("llm")} (the reader):
 * <ul>
 *   <li><b>lease</b>: the engine is leased when the first row arrives (an empty partition starts no engine); a
 *       model that cannot be loaded fails the task naming the model and the executor;</li>
 *   <li><b>window</b>: up to {@code max_in_flight_per_task} rows stay submitted, each carried with its request, so
 *       the engine's continuous batch holds many rows of this task (and of the executor's other tasks) while the
 *       consumer reads the oldest; results come back in input order. Rows whose input is an error skip the engine;</li>
 *   <li><b>metrics</b>: every answered row goes to {@link Metrics#answered}; once, at the end, the generation time
 *       (first submit to last result) and the engine's preemptions meanwhile go to {@link Metrics#finished};</li>
 *   <li><b>error policy</b>: with {@code fail_on_error=true} a row answered with an error (a return_type call's
 *       output that does not convert to the type included) fails the task, naming the row and where it came from;
 *       otherwise the row carries its error.</li>
 * </ul>
 *
 * <p>{@link #close()} (idempotent) aborts the rows still in flight (a killed or failed task stops paying for
 * them), reports the metrics if not yet done and releases the lease. Not thread-safe: the task's thread drives it.
 *
 * @param <K> what the caller keeps of each row until its result comes back (a copied Spark row, say)
 */
public final class TaskSession<K> implements Iterator<TaskSession.Generated<K>>, AutoCloseable {
    /** How often a wait for the oldest row runs the {@code whileWaiting} check. */
    public static final long WAIT_CHECK_MS = 100;

    /**
     * A row's index within its task, the kept row and its result with its return_type value (null for a row its
     * input skipped).
     */
    public record Generated<K>(long index, K row, GenerationSchema.Typed typed) {
        /** The row's result; null for a skipped row. */
        public Result result() {
            return typed == null ? null : typed.result();
        }
    }

    /** How the task's rows become generation inputs. */
    public interface RowInputs<K> {
        /** The row's input; {@code requestId} is unique to this task attempt and row. */
        RowInput input(K row, long index, String requestId);

        /** Where a row comes from, for the fail_on_error message, e.g. "partition 3" or a file's byte range. */
        String where(K row, long index);
    }

    /** Where a task's figures go (SQL metrics, DataSource V2 task metrics). Called on the task's thread. */
    public interface Metrics {
        /** One row answered (ok or error). */
        void answered(Result result);

        /** Once per session: ms from the first submit to the last result; engine-wide preemptions meanwhile. */
        void finished(long generationMs, long preemptions);
    }

    private record Pending<K>(long index, K row, String requestId, CompletableFuture<Result> future) {
    }

    private final EmberSettings settings;
    private final Supplier<EngineLease> leases;
    private final Iterator<K> rows;
    private final RowInputs<K> inputs;
    private final Metrics metrics;
    private final Runnable whileWaiting;
    private final String idPrefix;
    private final DataType valueType; // return_type's Spark type, or null
    private final ArrayDeque<Pending<K>> pending = new ArrayDeque<>();
    private EngineLease lease;
    private Engine engine;
    private long nextIndex;
    private long preemptionsAtStart;
    private long firstSubmitNanos;
    private long lastResultNanos;
    private boolean reported;
    private boolean closed;

    /**
     * The rows a session keeps, made from the input one at a time: a Spark row reader may reuse its row objects, and
     * the session holds each row until its result is back, so callers pass a copy ({@code InternalRow::copy}, with
     * whatever else they must note of the row as it is read).
     */
    public static <R, K> Iterator<K> keeping(Iterator<R> input, Function<R, K> keep) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return input.hasNext();
            }

            @Override
            public K next() {
                return keep.apply(input.next());
            }
        };
    }

    /**
     * A session over {@code rows} in the current Spark task: the engine comes from {@link EngineRegistry} for the
     * task's GPU, a wait for the oldest row checks {@code TaskContext.killTaskIfInterrupted} (a killed task stops at
     * once, not when its oldest row finishes), and request ids are unique per stage, partition and attempt.
     */
    public static <K> TaskSession<K> inTask(EmberSettings settings, Supplier<Configuration> hadoopConf,
                                            Iterator<K> rows, RowInputs<K> inputs, Metrics metrics) {
        TaskContext task = TaskContext.get();
        String prefix = "ember-" + UUID.randomUUID().toString().substring(0, 8)
                + (task == null ? "-" : "-s" + task.stageId() + "-p" + task.partitionId() + "." + task.attemptNumber() + "-");
        Runnable check = task == null ? () -> { } : task::killTaskIfInterrupted;
        return new TaskSession<>(settings, () -> lease(settings, hadoopConf), rows, inputs, metrics, check, prefix);
    }

    /**
     * @param leases       called once, when the first row arrives
     * @param whileWaiting run about every {@value #WAIT_CHECK_MS} ms while the oldest row is not answered; it may
     *                     throw to stop waiting (close() then aborts the rows in flight)
     * @param idPrefix     the request ids' prefix; unique to this session, so an abort never touches another's rows
     */
    TaskSession(EmberSettings settings, Supplier<EngineLease> leases, Iterator<K> rows, RowInputs<K> inputs,
                Metrics metrics, Runnable whileWaiting, String idPrefix) {
        this.settings = settings;
        this.leases = leases;
        this.rows = rows;
        this.inputs = inputs;
        this.metrics = metrics;
        this.whileWaiting = whileWaiting;
        this.idPrefix = idPrefix;
        this.valueType = GenerationSchema.valueType(settings);
    }

    /**
     * The lease for {@code settings} on the current task's device. A model that cannot be loaded fails the task
     * with the engine's message, naming the model and executor. Local mode does not retry; a cluster retries the
     * task (spark.task.maxFailures), each retry failing fast with the same message (a failed load is not cached).
     */
    static EngineLease lease(EmberSettings settings, Supplier<Configuration> hadoopConf) {
        try {
            return EngineRegistry.acquire(settings, TaskDevice.gpuOrdinal(settings), hadoopConf.get());
        } catch (RuntimeException e) {
            SparkEnv env = SparkEnv.get();
            throw new LlmException("Ember could not start its engine for model '" + settings.model() + "' on executor "
                    + (env == null ? "(no Spark executor)" : env.executorId()) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean hasNext() {
        if (closed) {
            return false;
        }
        fill();
        if (pending.isEmpty()) {
            report();
            return false;
        }
        return true;
    }

    @Override
    public Generated<K> next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        // removed only once answered: a wait that throws (interrupt, killed task) leaves it for close() to abort
        Pending<K> p = pending.peekFirst();
        if (p.future() == null) { // skipped: not generated, not counted
            pending.removeFirst();
            fill();
            return new Generated<>(p.index(), p.row(), null);
        }
        GenerationSchema.Typed typed;
        try {
            typed = GenerationSchema.typed(await(p.future()), valueType);
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
        lastResultNanos = System.nanoTime();
        Result r = typed.result();
        metrics.answered(r);
        if (!r.ok() && settings.failOnError()) {
            throw new LlmException("Ember: row " + p.index() + " of " + inputs.where(p.row(), p.index()) + " failed: "
                    + r.error() + " (" + EmberOptions.FAIL_ON_ERROR.name() + "=true; with "
                    + EmberOptions.FAIL_ON_ERROR.name() + "=false the row gets its message in the result's 'error'"
                    + " field instead)");
        }
        fill();
        return new Generated<>(p.index(), p.row(), typed);
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
        while (pending.size() < settings.maxInFlightPerTask() && rows.hasNext()) {
            K row = rows.next();
            long index = nextIndex++;
            RowInput in = inputs.input(row, index, idPrefix + index);
            if (in.isSkipped()) {
                pending.addLast(new Pending<>(index, row, null, null));
                continue;
            }
            if (in.error() != null) {
                pending.addLast(new Pending<>(index, row, null,
                        CompletableFuture.completedFuture(Result.error(null, in.error(), 0))));
                continue;
            }
            if (engine == null) {
                lease = leases.get();
                engine = lease.engine();
                preemptionsAtStart = engine.metrics().preemptions();
                firstSubmitNanos = System.nanoTime();
            }
            pending.addLast(new Pending<>(index, row, in.request().requestId(), engine.submit(in.request())));
        }
    }

    private void report() {
        if (reported) {
            return;
        }
        reported = true;
        long ms = engine == null ? 0 : Math.max(0, lastResultNanos - firstSubmitNanos) / 1_000_000;
        long preemptions = engine == null ? 0 : Math.max(0, engine.metrics().preemptions() - preemptionsAtStart);
        metrics.finished(ms, preemptions);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (Pending<K> p : pending) {
                if (p.requestId() != null && !p.future().isDone()) {
                    engine.abort(p.requestId());
                }
            }
            pending.clear();
            report();
        } finally {
            if (lease != null) {
                lease.close();
            }
        }
    }
}
