package dev.ember.engine;

import dev.ember.Laps;
import dev.ember.LlmException;
import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.backend.Backend;
import dev.ember.guided.Constraint;
import dev.ember.guided.ConstraintCache;
import dev.ember.guided.TokenGuide;
import dev.ember.guided.TokenIndex;
import dev.ember.guided.TokenVocabulary;
import dev.ember.kv.BlockManager;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.SamplingParams;
import dev.ember.scheduler.Scheduler;
import dev.ember.scheduler.Sequence;
import dev.ember.tokenizer.Tokenizer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * The inference engine: one step-loop thread running a continuous batch over a paged KV cache.
 * Thread-safe: {@link #submit} may be called from any number of threads; all requests share one batch, and at
 * most {@code max_in_flight} are unfinished at a time (submit waits beyond that). Owns its model files, tokenizer
 * and backend (weights, KV cache, device memory); {@link #close()} aborts unfinished requests and frees all of it.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** How long close() waits for a step thread after the engine failed (it may be stuck in a hung device call). */
    private static final long STUCK_JOIN_MS = 5_000;
    /** How often close() looks whether the loop failed while it waits for a running step. */
    private static final long STALL_CHECK_MS = 100;

    private final EngineConfig config;
    private final LoadedModel model;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final PromptPreparer preparer;
    private final StepLoop loop;
    private final Thread thread;
    private final EngineStats stats = new EngineStats();
    private final Semaphore inFlight;
    private final AtomicLong nextSeqId = new AtomicLong();
    private final int numKvBlocks;
    private final int maxModelLen;
    private final double loadSeconds;
    private final Object lifecycle = new Object();
    private volatile ConstraintCache constraints;
    private boolean closed;

    private Engine(EngineConfig config, LoadedModel model, Backend backend, Laps laps) {
        this.config = config;
        this.model = model;
        this.backend = backend;
        this.numKvBlocks = backend.allocateKvCache(config.blockSize(), config.numKvBlocks());
        laps.lap("KV cache and warm-up");  // the backend's own parts are in its description
        this.maxModelLen = ContextLimit.effective(config.maxModelLen(), model.config.maxPositionEmbeddings(), numKvBlocks,
                config.blockSize(), LOG::warn);
        BlockManager blocks = new BlockManager(numKvBlocks, config.blockSize(), config.enablePrefixCaching());
        Scheduler scheduler = new Scheduler(blocks, config.maxNumSeqs(), config.maxNumBatchedTokens(), maxModelLen,
                model.config.eosTokenIds());
        laps.lap("scheduler");
        this.tokenizer = model.tokenizer(); // loaded while the backend was built and its cache allocated
        laps.lap("tokenizer wait");
        this.preparer = new PromptPreparer(tokenizer, model.config.vocabSize(), maxModelLen,
                numKvBlocks * config.blockSize(), config.seed());
        this.inFlight = new Semaphore(config.maxInFlight());
        // counted before the future completes (the loop calls onDone first), so a caller it wakes sees its request
        this.loop = new StepLoop(scheduler, blocks, backend, stats, done -> {
            stats.requestsFinished.incrementAndGet();
            inFlight.release();
        }, config.asyncScheduling());
        this.thread = new Thread(loop, "ember-step-loop");
        this.thread.setDaemon(true);
        this.loadSeconds = laps.elapsedNanos() / 1e9;
        laps.lap("step loop");
        this.thread.start();
        if (config.stallTimeoutSeconds() > 0) {
            Thread watchdog = new Thread(this::watchForStalls, "ember-stall-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }
        LOG.info(readyMessage(loadSeconds, laps.describe(), config.model(), backend.description(), maxModelLen));
    }

    /**
     * The one line logged when an engine is ready: load time and its parts ({@link Laps}), model, the backend's own
     * description (device, dtype, memory, KV cache, and its own start's parts: each figure once) and the context
     * limit.
     */
    static String readyMessage(double loadSeconds, String parts, Path model, String backendDescription,
                               int maxModelLen) {
        return String.format(java.util.Locale.ROOT, "engine ready in %.2f s (%s): model %s, %s, max_model_len %d",
                loadSeconds, parts, model, backendDescription, maxModelLen);
    }

    /**
     * Checks, without loading the model, that {@code modelDir} would load: config.json (supported architecture,
     * valid fields), every weight tensor's name and shape against it, a tokenizer.json. Throws the same
     * {@link dev.ember.ModelFormatException} or {@link dev.ember.ConfigException} {@link #create} would; returns
     * the model's configuration. For callers that plan work on one machine and run it on others (Spark's driver).
     */
    public static ModelConfig checkModel(Path modelDir) {
        return LoadedModel.check(modelDir);
    }

    /** Loads the model of {@code config} and starts the step loop. */
    public static Engine create(EngineConfig config) {
        return create(config, UnaryOperator.identity());
    }

    /**
     * As {@link #create(EngineConfig)}, with the backend wrapped: tests inject device faults this way (here and in
     * the Spark connector, whose engine registry must evict an engine whose step loop died), tools may time steps.
     */
    public static Engine create(EngineConfig config, UnaryOperator<Backend> wrap) {
        Laps laps = new Laps();
        LoadedModel model = LoadedModel.open(config.model());
        laps.lap("model files");
        Backend backend = null;
        try {
            ContextLimit.requireWithinModel(config.maxModelLen(), model.config.maxPositionEmbeddings());
            backend = wrap.apply(BackendFactory.create(config, model.config, model.weights));
            laps.lap("backend");
            return new Engine(config, model, backend, laps);
        } catch (RuntimeException | Error e) {
            if (backend != null) {
                backend.close();
            }
            model.close();
            throw e;
        }
    }

    /**
     * Queues a request; waits while max_in_flight requests are unfinished (back-pressure). A request that cannot
     * run (null or empty prompt, too long, bad token ids) completes at once with {@link FinishReason#ERROR}.
     *
     * @throws LlmException when the engine is closed or its step loop failed
     */
    public CompletableFuture<Result> submit(Request request) {
        synchronized (lifecycle) {
            if (closed) {
                Throwable failure = loop.failure();
                throw failure != null
                        ? new LlmException("the engine is closed after its step loop failed: " + failure, failure)
                        : new LlmException("the engine is closed; create a new one to submit requests");
            }
        }
        int[] prompt;
        try {
            prompt = preparer.tokens(request);
        } catch (PromptPreparer.BadRequest e) {
            stats.requestErrors.incrementAndGet();
            stats.requestsFinished.incrementAndGet();
            return CompletableFuture.completedFuture(Result.error(request.requestId(), e.getMessage(), 0));
        }
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LlmException("interrupted while waiting for room in the engine (max_in_flight="
                    + config.maxInFlight() + ")", e);
        }
        CompletableFuture<Result> future;
        RequestState state;
        try {
            TokenGuide guide = null;
            if (request.params().guided() != null) {
                try {
                    TokenIndex index = constraints().get(request.params().guided());
                    guide = index.newGuide();
                    if (config.guidedMaskThreads() > 0) {
                        index.requestMask(index.start()); // built in the background while the prompt waits its turn
                    }
                } catch (LlmException e) {
                    // a constraint Ember cannot enforce, or a vocabulary it cannot read: this row's error, not the
                    // batch's
                    inFlight.release();
                    stats.requestErrors.incrementAndGet();
                    stats.requestsFinished.incrementAndGet();
                    return CompletableFuture.completedFuture(
                            Result.error(request.requestId(), e.getMessage(), prompt.length));
                }
            }
            SamplingParams params = request.params();
            if (params.logprobs() > 0 && guide != null && params.guided().kind() == Constraint.Kind.CHOICE) {
                // a choice's probability needs every allowed token's: the sampler reports the most it can (the result
                // still carries only the top log-probabilities asked for)
                params = params.toBuilder().logprobs(SamplingParams.MAX_LOGPROBS).build();
            }
            Sequence seq = new Sequence(nextSeqId.getAndIncrement(), prompt, params, preparer.seed(request, prompt),
                    guide);
            future = new CompletableFuture<>();
            state = new RequestState(request.requestId(), seq, future, tokenizer.newDetokenizer(prompt),
                    request.params().logprobs());
        } catch (RuntimeException | Error e) {
            // a failure submit() did not foresee must not keep the permit: max_in_flight of them would block every
            // later submit() forever
            inFlight.release();
            throw e;
        }
        boolean queued;
        synchronized (lifecycle) {
            queued = !closed && loop.enqueue(state);
        }
        if (!queued) {
            inFlight.release();
            Throwable failure = loop.failure();
            throw new LlmException(failure != null ? "the engine's step loop failed: " + failure : "the engine is closed", failure);
        }
        stats.promptTokens.addAndGet(prompt.length);
        return future;
    }

    /**
     * The stall watchdog: a step that runs longer than stall_timeout_s (a hung kernel, a deadlock) fails every
     * unfinished request with a timeout naming the setting, so the caller's job fails instead of hanging; the
     * engine then counts as failed ({@link #failure()}) and takes no more work.
     */
    private void watchForStalls() {
        long limitNanos = (long) (config.stallTimeoutSeconds() * 1e9);
        long periodMs = Math.max(5, Math.min(1000, limitNanos / 4_000_000));
        try {
            while (thread.isAlive() && loop.failure() == null) {
                Thread.sleep(periodMs);
                long running = loop.stepRunningNanos();
                if (running > limitNanos) {
                    LlmException stall = new LlmException(String.format("the engine made no progress for %.1f s: one"
                            + " step ran longer than stall_timeout_s=%s (a hung device or a deadlock); its requests"
                            + " fail and the engine takes no more. Raise stall_timeout_s if steps are legitimately this"
                            + " slow (0 turns the check off)", running / 1e9, config.stallTimeoutSeconds()));
                    LOG.error(stall.getMessage());
                    loop.failStalled(stall);
                    thread.interrupt();
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The engine's compiled output constraints; the vocabulary is read from the model's tokenizer.json on first use,
     * so engines that never see a constraint pay nothing.
     */
    public ConstraintCache constraints() {
        ConstraintCache c = constraints;
        if (c == null) {
            synchronized (this) {
                c = constraints;
                if (c == null) {
                    c = new ConstraintCache(TokenVocabulary.load(config.model()), model.config.eosTokenIds(),
                            model.config.vocabSize(), config.guidedMaskThreads());
                    constraints = c;
                }
            }
        }
        return c;
    }

    /** Submits all and waits; results in input order. */
    public List<Result> generate(List<Request> requests) {
        List<CompletableFuture<Result>> futures = new ArrayList<>(requests.size());
        for (Request r : requests) {
            futures.add(submit(r));
        }
        List<Result> out = new ArrayList<>(futures.size());
        for (CompletableFuture<Result> f : futures) {
            try {
                out.add(f.join());
            } catch (CompletionException e) {
                throw new LlmException("generation failed: " + e.getCause(), e.getCause());
            }
        }
        return out;
    }

    /** Aborts every unfinished request with this id; their futures complete with {@link FinishReason#ABORT}. */
    public void abort(String requestId) {
        loop.abort(requestId);
    }

    /**
     * Why the step loop died, or null while it runs (or ended by {@link #close}). A failed engine answers no more
     * requests: its owner should close it (freeing its memory) and create a new one.
     */
    public Throwable failure() {
        return loop.failure();
    }

    public EngineMetrics metrics() {
        return stats.snapshot(numKvBlocks);
    }

    public int numKvBlocks() {
        return numKvBlocks;
    }

    /** The model's vocabulary size (rows of the embedding). */
    public int vocabSize() {
        return model.config.vocabSize();
    }

    /** The effective context: max_model_len (or max_position_embeddings), at most what the KV cache holds for one sequence. */
    public int maxModelLen() {
        return maxModelLen;
    }

    /** Seconds from create() to ready (model load, backend setup, KV allocation). */
    public double loadSeconds() {
        return loadSeconds;
    }

    public String backendDescription() {
        return backend.description();
    }

    public EngineConfig config() {
        return config;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        synchronized (lifecycle) {
            return closed;
        }
    }

    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
        }
        loop.stop();
        try {
            awaitStepThread();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.error("the engine's step thread is still inside the backend after close(); its device memory and"
                    + " mapped weights are left to the process's exit rather than freed under a running step");
            return;
        }
        try {
            backend.close();
        } finally {
            closeConstraints();
            model.close();
        }
    }

    /**
     * Waits for the step thread to end; once the loop has failed, at most STUCK_JOIN_MS more: a step thread stuck in
     * the backend (the stall watchdog fired) may never return. The failure is checked again while waiting, since the
     * watchdog may fire after close() began, while the step it gives up on still runs.
     */
    private void awaitStepThread() throws InterruptedException {
        long failedAt = 0;
        while (thread.isAlive()) {
            if (loop.failure() == null) {
                thread.join(STALL_CHECK_MS);
                continue;
            }
            if (failedAt == 0) {
                failedAt = System.nanoTime();
            }
            long leftMs = STUCK_JOIN_MS - (System.nanoTime() - failedAt) / 1_000_000;
            if (leftMs <= 0) {
                return;
            }
            thread.join(leftMs);
        }
    }

    private void closeConstraints() {
        ConstraintCache c;
        synchronized (this) {
            c = constraints;
        }
        if (c != null) {
            c.close();
        }
    }
}
