package dev.ember.backend.cpu;

import dev.ember.ConfigException;
import dev.ember.backend.Backend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.Sample;
import dev.ember.sampling.Sampler;
import dev.ember.weights.ModelWeights;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * The reference backend: plain Java, float32 math, multi-threaded over a fork-join pool of {@code numThreads}
 * workers that it owns. Weights are read in place through their {@code TensorView}s (bf16/f16 converted on the
 * fly); the paged KV cache is a pair of float32 heap arrays per layer, laid out
 * {@code [numBlocks][blockSize][numKvHeads][headDim]}.
 *
 * <p>Driven by the engine's single step thread (not thread-safe). {@link #close()} stops the workers and drops
 * the KV cache; it is idempotent. The weights stay owned by their checkpoint.
 */
public final class CpuBackend implements Backend {
    private final ModelConfig config;
    private final int numThreads;
    private final Kernels kernels;
    private final long kvCacheBytes;
    private final ForkJoinPool pool;
    /** Null where the matmuls run as Java tiles only. */
    private final OneDnnGemm gemm;
    private final Projections projections;
    private final Transformer transformer;
    private final Sampler sampler;
    private KvCache cache;
    private boolean closed;

    /**
     * @param config       the model's shape
     * @param weights      its tensors, matching {@code config}
     * @param numThreads   worker threads (>= 1)
     * @param kvCacheBytes the KV cache budget (option {@code cpu_kv_cache_mb})
     */
    public CpuBackend(ModelConfig config, ModelWeights weights, int numThreads, long kvCacheBytes) {
        // toy models (the demo, the tests' checkpoints) keep the Java tiles unless oneDNN is asked for by name, as
        // they keep the scalar kernels: their matmuls are too small for oneDNN's threads to pay (measured: the same
        // wall time, more CPU)
        this(config, weights, numThreads, kvCacheBytes, Simd.forHiddenSize(config.hiddenSize()),
                config.hiddenSize() >= Simd.MIN_SIMD_HIDDEN || OneDnnGemm.requested());
    }

    /**
     * As the public constructor, on the given kernels (tests run both implementations); {@code nativeGemm} lets
     * bf16 matmuls go through oneDNN where {@link OneDnnGemm#open} allows it, else every matmul runs the Java tiles.
     */
    CpuBackend(ModelConfig config, ModelWeights weights, int numThreads, long kvCacheBytes, Kernels kernels,
               boolean nativeGemm) {
        if (numThreads < 1) {
            throw ConfigException.invalid("num_threads", numThreads, "an integer >= 1 for the CPU backend");
        }
        if (kvCacheBytes < 1) {
            throw ConfigException.invalid("cpu_kv_cache_mb", kvCacheBytes / (1 << 20), "a positive number of MiB");
        }
        this.config = config;
        this.numThreads = numThreads;
        this.kernels = kernels;
        this.kvCacheBytes = kvCacheBytes;
        this.gemm = nativeGemm ? OneDnnGemm.open(numThreads, kernels) : null;
        this.pool = new ForkJoinPool(numThreads, CpuBackend::newWorker, null, false);
        this.projections = new Projections(kernels, pool, gemm);
        try {
            this.transformer = new Transformer(config, weights, pool, kernels, projections);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.sampler = new Sampler(config.eosTokenIds());
    }

    private static ForkJoinWorkerThread newWorker(ForkJoinPool pool) {
        ForkJoinWorkerThread t = new Scratch.Worker(pool);
        t.setName("ember-cpu-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }

    @Override
    public int allocateKvCache(int blockSize, int maxBlocks) {
        requireOpen();
        if (cache != null) {
            throw new IllegalStateException("the CPU KV cache is already allocated (" + cache.numBlocks + " blocks)");
        }
        if (blockSize < 1 || maxBlocks < 0) {
            throw new IllegalArgumentException("block size " + blockSize + " and block cap " + maxBlocks
                    + " must be >= 1 and >= 0");
        }
        long perBlock = KvCache.bytesPerBlock(config.numLayers(), blockSize, config.numKvHeads(), config.headDim());
        long blocks = kvCacheBytes / perBlock;
        if (maxBlocks > 0) {
            blocks = Math.min(blocks, maxBlocks);
        }
        // one Java array per layer: its length must stay an int
        long floatsPerBlock = (long) blockSize * config.numKvHeads() * config.headDim();
        blocks = Math.min(blocks, (Integer.MAX_VALUE - 16) / floatsPerBlock);
        if (blocks < 1) {
            long neededMiB = (perBlock + (1 << 20) - 1) >> 20;
            throw ConfigException.invalid("cpu_kv_cache_mb", kvCacheBytes / (double) (1 << 20),
                    "at least " + neededMiB + " MiB: one KV block of " + blockSize + " tokens takes " + perBlock
                            + " bytes for this model");
        }
        cache = new KvCache(config.numLayers(), (int) blocks, blockSize, config.numKvHeads(), config.headDim());
        return (int) blocks;
    }

    @Override
    public StepOutput step(ForwardBatch batch) {
        float[][] logits = forwardLogits(batch);
        int numSeqs = batch.numSeqs;
        int[] tokens = new int[numSeqs];
        float[] logprobs = new float[numSeqs];
        int[][] topIds = new int[numSeqs][];
        float[][] topLogprobs = new float[numSeqs][];
        Arrays.fill(tokens, -1);
        Arrays.fill(logprobs, Float.NaN);
        Parallel.forRange(pool, numSeqs, 1, (start, end) -> {
            for (int s = start; s < end; s++) {
                if (batch.sample[s] && !Sampler.allFinite(logits[s])) {
                    tokens[s] = StepOutput.NON_FINITE;
                } else if (batch.sample[s]) {
                    Sample sample = sampler.sample(logits[s], batch.params[s], batch.seeds[s], batch.outputIndex[s],
                            batch.tokenHistory[s], batch.numPromptTokens[s], batch.tokenMasks[s]);
                    tokens[s] = sample.tokenId();
                    logprobs[s] = sample.logprob();
                    topIds[s] = sample.topTokenIds();
                    topLogprobs[s] = sample.topLogprobs();
                }
            }
        });
        return new StepOutput(tokens, logprobs, topIds, topLogprobs);
    }

    /**
     * Runs the model over the batch (writing its K/V into the cache) without sampling; for parity tests.
     *
     * @return (S) the raw logits (vocab) of the last new token of each sequence with {@code sample[s]}, null elsewhere
     */
    public float[][] forwardLogits(ForwardBatch batch) {
        requireOpen();
        if (cache == null) {
            throw new IllegalStateException("allocateKvCache must be called before the first step");
        }
        BatchChecks.validate(batch, cache);
        return transformer.forward(batch, cache);
    }

    @Override
    public String description() {
        String kv = cache == null ? "KV cache not allocated"
                : "KV cache " + cache.numBlocks + " blocks x " + cache.blockSize + " tokens ("
                + (cache.sizeBytes() >> 20) + " MiB float32)";
        return "cpu: float32 math (" + kernels.description() + "; " + projections.describe() + "), " + numThreads + " threads, " + config.architecture().hfName() + ", " + kv;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        pool.shutdownNow();
        if (gemm != null) {
            gemm.close();
        }
        if (cache != null) {
            cache.release();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the CPU backend is closed");
        }
    }
}
