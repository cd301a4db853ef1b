package dev.ember.engine;

import dev.ember.api.FinishReason;
import dev.ember.api.Result;
import dev.ember.backend.Backend;
import dev.ember.backend.StepOutput;
import dev.ember.kv.BlockManager;
import dev.ember.scheduler.ScheduledBatch;
import dev.ember.scheduler.Scheduler;
import dev.ember.scheduler.Sequence;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The engine's single step-loop thread: admit new requests, then repeat schedule → backend step → postprocess →
 * complete finished requests. It alone touches the scheduler, the block manager, the backend and the request states;
 * finished requests' results (their text) are built on one helper thread, off the loop.
 */
final class StepLoop implements Runnable {
    private final Scheduler scheduler;
    private final BlockManager blockManager;
    private final Backend backend;
    private final EngineStats stats;
    private final Consumer<RequestState> onDone;
    private final BlockingQueue<RequestState> incoming = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> aborts = new LinkedBlockingQueue<>();
    private final Map<Long, RequestState> active = new HashMap<>();
    /** Requests that ended in the step now running, completed at its end (after the metrics are published). */
    private final List<Map.Entry<RequestState, Supplier<Result>>> finishedThisStep = new ArrayList<>();
    /** Builds finished requests' results (the text's one decode) off the step loop, in finishing order. */
    private final ExecutorService results = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ember-results");
        t.setDaemon(true);
        return t;
    });
    /** Every queued or active request, for the stall watchdog (the only other thread that may end them). */
    private final Set<RequestState> unsettled = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private volatile Throwable failure;
    /** System.nanoTime() when the step now running began; 0 between steps. */
    private volatile long stepStartNanos;
    private boolean ended;
    /** A step launched ahead (its tokens come from the step being finished) and its pending output; null if none. */
    private ScheduledBatch launched;
    private Backend.Pending launchedOutput;
    private final boolean runAhead;
    /** Longest wait for a guided mask before the loop looks at new requests again. */
    private static final long MASK_WAIT_MS = 20;

    StepLoop(Scheduler scheduler, BlockManager blockManager, Backend backend, EngineStats stats, Consumer<RequestState> onDone,
             boolean runAhead) {
        this.runAhead = runAhead && backend.runsAhead();
        this.scheduler = scheduler;
        this.blockManager = blockManager;
        this.backend = backend;
        this.stats = stats;
        this.onDone = onDone;
        scheduler.setTextStop((seq, last) -> {
            RequestState state = active.get(seq.seqId());
            return state != null && state.reachedStopString(last);
        });
    }

    /** Queues a request for admission; false once the loop has ended (closed or failed). */
    synchronized boolean enqueue(RequestState state) {
        if (ended) {
            return false;
        }
        unsettled.add(state);
        incoming.add(state);
        return true;
    }

    void abort(String requestId) {
        aborts.add(requestId);
    }

    void stop() {
        stopping = true;
    }

    Throwable failure() {
        return failure;
    }

    /** Nanoseconds the current step has been running; 0 between steps. */
    long stepRunningNanos() {
        long start = stepStartNanos;
        return start == 0 ? 0 : System.nanoTime() - start;
    }

    /**
     * Called by the stall watchdog while a step hangs (a hung device, a deadlock): ends the loop with {@code cause}
     * and fails every unfinished request with it now, from the watchdog's thread. The step thread may stay stuck;
     * if it ever returns, it stops without touching the requests again.
     */
    void failStalled(Throwable cause) {
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
        }
        failure = cause;
        for (RequestState r : unsettled) {
            unsettled.remove(r);
            if (r.settle()) {
                onDone.accept(r);
                r.future.completeExceptionally(cause);
            }
        }
    }

    @Override
    public void run() {
        try {
            while (!stopping && failure == null) {
                admit();
                if (!scheduler.hasUnfinished() && launched == null) {
                    RequestState next = incoming.poll(50, TimeUnit.MILLISECONDS);
                    if (next != null) {
                        add(next);
                    }
                    continue;
                }
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            if (failure == null) {
                failure = t;
            }
        } finally {
            finishAll();
        }
    }

    private void admit() {
        RequestState s;
        while ((s = incoming.poll()) != null) {
            add(s);
        }
        String id;
        while ((id = aborts.poll()) != null) {
            for (RequestState r : new ArrayList<>(active.values())) {
                if (r.requestId.equals(id) && scheduler.abort(r.sequence.seqId())) {
                    // no step may follow (the batch can be empty now): keep the metrics' queue sizes current,
                    // before the caller's future completes and it looks at them
                    publishGauges();
                    Result aborted = r.aborted();
                    complete(r, () -> aborted);
                }
            }
        }
    }

    private void add(RequestState s) {
        active.put(s.sequence.seqId(), s);
        scheduler.add(s.sequence);
    }

    private void step() {
        long start = System.nanoTime();
        stepStartNanos = start;
        try {
            runStep(start);
        } finally {
            stepStartNanos = 0;
        }
    }

    /**
     * One step: schedule and launch (unless the previous step already launched this one ahead), then, when the
     * scheduler allows it, plan and launch the next step before this one's tokens are back (its token ids come from
     * this step's samples on the device), then collect and postprocess this step. The GPU so never waits for the host
     * between decode steps; the tokens are the same either way.
     */
    private void runStep(long start) {
        ScheduledBatch batch = launched;
        Backend.Pending pending = launchedOutput;
        launched = null;
        launchedOutput = null;
        if (batch == null) {
            batch = scheduler.schedule();
            if (batch == null && scheduler.waitsForMasks()) {
                awaitMasks();
                return;
            }
            if (batch == null) {
                throw new IllegalStateException("scheduler has unfinished sequences but scheduled none"
                        + " (running=" + scheduler.numRunning() + ", waiting=" + scheduler.numWaiting() + ")");
            }
            pending = backend.launch(batch.forwardBatch());
        }
        boolean ahead = runAhead && scheduler.canRunAhead(batch);
        if (ahead) {
            scheduler.advance(batch);
            ScheduledBatch next = scheduler.schedule();
            if (next != null) {
                launchedOutput = backend.launch(next.forwardBatch());
                launched = next;
            }
        }
        StepOutput out = pending.collect();
        if (failure != null) {
            return; // the watchdog gave up on this step and already failed its requests
        }
        failRowsWithoutAToken(batch, out);
        Map<Sequence, Integer> slots = new IdentityHashMap<>();
        List<Sequence> sequences = batch.sequences();
        if (sequences.size() > stats.peakRunning) {
            stats.peakRunning = sequences.size();
        }
        for (int i = 0; i < sequences.size(); i++) {
            slots.put(sequences.get(i), i);
        }
        List<Sequence> advanced = ahead ? scheduler.resolve(batch, out) : scheduler.postprocess(batch, out);
        int generated = 0;
        for (Sequence seq : advanced) {
            RequestState state = active.get(seq.seqId());
            generated++;
            state.record(slots.get(seq), out);
            if (seq.isFinished()) {
                finishedThisStep.add(Map.entry(state, state.finished()));
            }
        }
        stats.generatedTokens.addAndGet(generated);
        stats.steps.incrementAndGet();
        publishGauges();
        stats.preemptions = scheduler.numPreemptions();
        stats.cachedPromptTokens = scheduler.numCachedPromptTokens();
        stats.busyNanos.addAndGet(System.nanoTime() - start);
        // completed only now: a caller woken by its future sees metrics that already count this step (KV usage,
        // queue sizes, tokens)
        for (Map.Entry<RequestState, Supplier<Result>> done : finishedThisStep) {
            complete(done.getKey(), done.getValue());
        }
        finishedThisStep.clear();
    }

    /**
     * Every sequence that could run waits for a guided mask being built in the background: wait for one (briefly,
     * so new requests and aborts are still taken in), then the loop schedules again. A failed build is rethrown by
     * the next schedule.
     */
    private void awaitMasks() {
        try {
            scheduler.maskWait().get(MASK_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            // schedule again: new requests may have come, and a failed build surfaces there
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the watchdog ended the loop: run() sees the failure and stops
        }
    }

    /**
     * Ends each row whose logits were not finite ({@link StepOutput#NON_FINITE}) or had no token left to draw
     * ({@link StepOutput#NO_CANDIDATE}) with an error naming the step, before postprocess (which skips finished
     * sequences): a token drawn from NaN logits would be silent garbage, and one bad row must not end the batch.
     */
    private void failRowsWithoutAToken(ScheduledBatch batch, StepOutput out) {
        int[] tokens = out.tokens();
        for (int i = 0; i < tokens.length; i++) {
            Sequence seq = batch.sequences().get(i);
            if ((tokens[i] != StepOutput.NON_FINITE && tokens[i] != StepOutput.NO_CANDIDATE) || seq.isFinished()) {
                continue;
            }
            RequestState state = active.get(seq.seqId());
            scheduler.finish(seq, FinishReason.ERROR);
            stats.requestErrors.incrementAndGet();
            String where = "at engine step " + (stats.steps.get() + 1) + " (output token " + seq.numOutputTokens()
                    + " of this request, after " + seq.numPromptTokens() + " prompt tokens)";
            String message = tokens[i] == StepOutput.NON_FINITE
                    ? "the model's logits were NaN or infinite " + where + ": the checkpoint holds non-finite weights,"
                    + " or the model's arithmetic overflowed (try dtype=bfloat16 or float32); no token was sampled"
                    + " from them"
                    : "every token was masked " + where + ": repetition_penalty, frequency_penalty, presence_penalty,"
                    + " min_tokens and stop_token_ids left no token with a finite logit";
            Result error = Result.error(state.requestId, message, seq.numPromptTokens());
            finishedThisStep.add(Map.entry(state, () -> error));
        }
    }

    /** The metrics' point-in-time readings: running and waiting sequences, KV-cache usage. */
    private void publishGauges() {
        stats.running = scheduler.numRunning();
        stats.waiting = scheduler.numWaiting();
        stats.kvUsage = blockManager.usage();
    }

    private void complete(RequestState state, Supplier<Result> result) {
        active.remove(state.sequence.seqId());
        unsettled.remove(state);
        if (state.settle()) {
            onDone.accept(state);
            results.execute(() -> {
                try {
                    state.future.complete(result.get());
                } catch (Throwable t) {
                    state.future.completeExceptionally(t);
                }
            });
        }
    }

    /**
     * On stop or failure: every unfinished request completes (aborted, or exceptionally with the failure). Nothing
     * here may leave a future pending: a caller in generate() would wait forever, so any Throwable (an Error from the
     * device included) becomes the failure, and one request's completion failing does not skip the others.
     */
    private void finishAll() {
        synchronized (this) {
            ended = true;
        }
        try {
            if (launchedOutput != null && failure == null) {
                try {
                    launchedOutput.collect(); // let a step launched ahead finish before the backend is closed
                } catch (Throwable e) {
                    failure = e;
                }
                launched = null;
                launchedOutput = null;
            }
            List<RequestState> left = new ArrayList<>(active.values());
            RequestState s;
            while ((s = incoming.poll()) != null) {
                left.add(s);
            }
            for (RequestState r : left) {
                active.remove(r.sequence.seqId());
                unsettled.remove(r);
                if (!r.settle()) {
                    continue;
                }
                onDone.accept(r);
                Throwable cause = failure;
                if (cause != null) {
                    r.future.completeExceptionally(cause);
                    continue;
                }
                try {
                    r.future.complete(r.aborted());
                } catch (Throwable t) {
                    r.future.completeExceptionally(t);
                }
            }
        } finally {
            // results already handed over are built before the loop counts as ended
            results.shutdown();
            try {
                results.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
