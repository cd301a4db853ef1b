package dev.ember.engine;

import dev.ember.LlmException;
import dev.ember.backend.Backend;
import dev.ember.kv.BlockManager;
import dev.ember.model.ModelConfig;
import dev.ember.scheduler.Scheduler;
import dev.ember.scheduler.Sequence;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The inference engine: one step-loop thread running a continuous batch over a paged KV cache.
 * Thread-safe: {@link #submit} may be called from any number of threads; all requests share one batch, and at
 * most {@code max_in_flight} are unfinished at a time (submit waits beyond that). Owns its model files, tokenizer
 * and backend (weights, KV cache, device memory); {@link #close()} aborts unfinished requests and frees all of it.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    private final EngineConfig config;
    private final LoadedModel model;
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
    private boolean closed;

    private Engine(EngineConfig config, LoadedModel model, Backend backend, long startNanos) {
        this.config = config;
        this.model = model;
        this.backend = backend;
        this.maxModelLen = config.maxModelLen() > 0
                ? Math.min(config.maxModelLen(), model.config.maxPositionEmbeddings())
                : model.config.maxPositionEmbeddings();
        this.numKvBlocks = backend.allocateKvCache(config.blockSize(), config.numKvBlocks());
        BlockManager blocks = new BlockManager(numKvBlocks, config.blockSize(), config.enablePrefixCaching());
        Scheduler scheduler = new Scheduler(blocks, config.maxNumSeqs(), config.maxNumBatchedTokens(), maxModelLen,
                model.config.eosTokenIds());
        this.preparer = new PromptPreparer(model.tokenizer, model.config.vocabSize(), maxModelLen,
                numKvBlocks * config.blockSize(), config.seed());
        this.inFlight = new Semaphore(config.maxInFlight());
        this.loop = new StepLoop(scheduler, blocks, backend, stats, done -> inFlight.release());
        this.thread = new Thread(loop, "ember-step-loop");
        this.thread.setDaemon(true);
        this.loadSeconds = (System.nanoTime() - startNanos) / 1e9;
        this.thread.start();
        LOG.info(readyMessage(loadSeconds, config.model(), backend.description(), maxModelLen));
    }

    /**
     * The one line logged when an engine is ready: load time, model, the backend's own description (device, dtype,
     * memory, KV cache: each figure once) and the context limit.
     */
    static String readyMessage(double loadSeconds, Path model, String backendDescription, int maxModelLen) {
        return String.format(java.util.Locale.ROOT, "engine ready in %.2f s: model %s, %s, max_model_len %d",
                loadSeconds, model, backendDescription, maxModelLen);
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
        long start = System.nanoTime();
        LoadedModel model = LoadedModel.open(config.model());
        Backend backend = null;
        try {
            backend = BackendFactory.create(config, model.config, model.weights);
            return new Engine(config, model, backend, start);
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
                throw new LlmException("the engine is closed; create a new one to submit requests");
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
        Sequence seq = new Sequence(nextSeqId.getAndIncrement(), prompt, request.params(), preparer.seed(request, prompt));
        CompletableFuture<Result> future = new CompletableFuture<>();
        RequestState state = new RequestState(request.requestId(), seq, future, model.tokenizer.newDetokenizer(prompt));
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
        future.whenComplete((r, t) -> {
            stats.requestsFinished.incrementAndGet();
        });
        return future;
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
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                backend.close();
            } finally {
                model.close();
            }
        }
    }
}
