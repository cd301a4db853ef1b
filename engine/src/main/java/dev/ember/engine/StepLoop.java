package dev.ember.engine;

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
import java.util.concurrent.BlockingQueue;
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
    /** Builds finished requests' results (the text's one decode) off the step loop, in finishing order. */
    private final ExecutorService results = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ember-results");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stopping;
    private volatile Throwable failure;
    private boolean ended;

    StepLoop(Scheduler scheduler, BlockManager blockManager, Backend backend, EngineStats stats, Consumer<RequestState> onDone) {
        this.scheduler = scheduler;
        this.blockManager = blockManager;
        this.backend = backend;
        this.stats = stats;
        this.onDone = onDone;
    }

    /** Queues a request for admission; false once the loop has ended (closed or failed). */
    synchronized boolean enqueue(RequestState state) {
        if (ended) {
            return false;
        }
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

    @Override
    public void run() {
        try {
            while (!stopping) {
                admit();
                if (!scheduler.hasUnfinished()) {
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
            failure = t;
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
        ScheduledBatch batch = scheduler.schedule();
        if (batch == null) {
            throw new IllegalStateException("scheduler has unfinished sequences but scheduled none"
                    + " (running=" + scheduler.numRunning() + ", waiting=" + scheduler.numWaiting() + ")");
        }
        StepOutput out = backend.step(batch.forwardBatch());
        Map<Sequence, Integer> slots = new IdentityHashMap<>();
        List<Sequence> sequences = batch.sequences();
        if (sequences.size() > stats.peakRunning) {
            stats.peakRunning = sequences.size();
        }
        for (int i = 0; i < sequences.size(); i++) {
            slots.put(sequences.get(i), i);
        }
        List<Sequence> advanced = scheduler.postprocess(batch, out);
        int generated = 0;
        for (Sequence seq : advanced) {
            RequestState state = active.get(seq.seqId());
            generated++;
            boolean stoppedByToken = seq.isFinished() && seq.finishReason() == FinishReason.STOP;
            if (state.accept(slots.get(seq), out, stoppedByToken) && !seq.isFinished()) {
                scheduler.finish(seq, FinishReason.STOP);
            }
            if (seq.isFinished()) {
                complete(state, state.finished());
            }
        }
        stats.generatedTokens.addAndGet(generated);
        stats.steps.incrementAndGet();
        publishGauges();
        stats.preemptions = scheduler.numPreemptions();
        stats.cachedPromptTokens = scheduler.numCachedPromptTokens();
        stats.busyNanos.addAndGet(System.nanoTime() - start);
    }

    /** The metrics' point-in-time readings: running and waiting sequences, KV-cache usage. */
    private void publishGauges() {
        stats.running = scheduler.numRunning();
        stats.waiting = scheduler.numWaiting();
        stats.kvUsage = blockManager.usage();
    }

    private void complete(RequestState state, Supplier<Result> result) {
        active.remove(state.sequence.seqId());
        onDone.accept(state);
        results.execute(() -> {
            try {
                state.future.complete(result.get());
            } catch (Throwable t) {
                state.future.completeExceptionally(t);
            }
        });
    }

    /** On stop or failure: every unfinished request completes (aborted, or exceptionally with the failure). */
    private void finishAll() {
        synchronized (this) {
            ended = true;
        }
        List<RequestState> left = new ArrayList<>(active.values());
        RequestState s;
        while ((s = incoming.poll()) != null) {
            left.add(s);
        }
        for (RequestState r : left) {
            active.remove(r.sequence.seqId());
            onDone.accept(r);
            if (failure != null) {
                r.future.completeExceptionally(failure);
            } else {
                r.future.complete(r.aborted());
            }
        }
        // results already handed over are built before the loop counts as ended
        results.shutdown();
        try {
            results.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
