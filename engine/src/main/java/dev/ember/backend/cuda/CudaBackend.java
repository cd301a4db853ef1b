package dev.ember.backend.cuda;

import dev.ember.ConfigException;
import dev.ember.CudaException;
import dev.ember.Laps;
import dev.ember.backend.Backend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.api.EngineConfig;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import dev.ember.weights.ModelWeights;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The CUDA backend: JCuda's driver API on the GPU's primary context, one stream, cuBLAS GEMMs (fused QKV and
 * gate/up), Ember's kernels (engine/src/main/cuda) and sampling on the GPU; decode steps replay CUDA graphs
 * unless {@code enforce_eager}. Memory plan at {@link #allocateKvCache}: weights, then the activations sized
 * for max_num_batched_tokens with their peak measured by a profiling forward pass, then the KV cache takes what
 * remains under gpu_memory_utilization.
 *
 * <p>Owns every device resource; driven by the engine's step thread (not thread-safe; each call makes the
 * context current on the calling thread). {@code close()} is idempotent.
 */
public final class CudaBackend implements Backend {
    /** Device memory kept out of the KV cache for CUDA graphs and the sampler's small buffers. */
    static final long RESERVE_BYTES = 256L << 20;

    private final ModelConfig config;
    private final EngineConfig engine;
    private final DType dtype;
    private final int maxModelLen;
    private final int maxTokens;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final CudaDevice device;
    private final CudaStream stream;
    private final Kernels kernels;
    private final String kernelOrigin; // the nvcc fatbin, or NVRTC and its cache file
    private final String prefillKernel; // which prefill attention kernel runs, and why not wgmma
    private final Cublas blas;
    /** The fused gate/up + SwiGLU kernel where the GPU, the build and the model allow it (steps of 65 to 192 rows). */
    private final SwigluGemm swiglu;
    /** Whether Ember's split-K cluster GEMMs (sm_90a) compete in the GEMM tuning race. */
    private final boolean clusterGemms;
    private final DeviceWeights weights;
    /** The parts of this backend's start (device, kernel images, weights, ..., KV cache), for the ready line. */
    private final Laps startLaps = new Laps();
    private Activations act;
    private StepInputs inputs;
    private CudaModel model;
    private GpuSampler sampler;
    private DecodeGraphs graphs;
    private KvCache kv;
    private long activationBytes;
    /** Free device memory right after the device was opened: what this engine allocates is measured from it. */
    private long freeAtOpen;
    private long startMillis = -1;
    private long graphMillis;
    private long tuneMillis;
    private final List<GemmPlans.Tuning> tunings = new ArrayList<>();
    private StepTimeline timeline;
    /** The previous launch's sampler plan: its GPU rows resolve the next step's placeholder token ids. */
    private GpuSampler.Plan lastPlan;
    private long hostPrepNanos;
    private long enqueueNanos;
    private boolean closed;

    private CudaBackend(ModelConfig config, ModelWeights modelWeights, EngineConfig engine) {
        this.config = config;
        this.engine = engine;
        this.dtype = computeDtype(engine.dtype(), config, modelWeights);
        this.maxModelLen = engine.maxModelLen() > 0 ? engine.maxModelLen() : config.maxPositionEmbeddings();
        this.maxTokens = Math.max(engine.maxNumBatchedTokens(), engine.maxNumSeqs());
        checkSupported(config);
        if (!KernelImage.available()) {
            throw new CudaException("device=cuda is not available in this build: " + KernelImage.unavailableReason()
                    + "; or use device=cpu");
        }
        device = CudaDevice.open(engine.deviceOrdinal());
        owned.push(device);
        try {
            freeAtOpen = device.memoryInfo()[0];
            stream = own(new CudaStream());
            startLaps.lap("device");
            KernelModule module = own(new KernelModule(device));
            // the sm_90a image, loaded only where this model would run one of its kernels, so no other engine holds it
            boolean wgmmaApplies = WgmmaPrefill.handles(dtype, config.headDim(), config.groupSize());
            WgmmaPrefill.Decision wgmmaDecision = WgmmaPrefill.decide(device);
            boolean wgmmaWanted = wgmmaApplies && wgmmaDecision == WgmmaPrefill.Decision.LOAD;
            boolean swigluWanted = SwigluGemm.enabled() && SwigluGemm.handles(dtype, config.hiddenSize(),
                    config.intermediateSize());
            boolean clusterWanted = ClusterGemm.enabled() && dtype == DType.BF16 && GEMM_TUNING;
            KernelModule sm90a = wgmmaWanted || swigluWanted || clusterWanted ? Sm90aImage.openOn(device) : null;
            if (sm90a != null) {
                own(sm90a);
            }
            KernelModule wgmma = wgmmaWanted ? sm90a : null;
            startLaps.lap("kernel images");
            kernels = new Kernels(module, wgmma, stream, dtype);
            kernelOrigin = module.origin();
            prefillKernel = kernels.prefillKernel(config.headDim())
                    + wgmmaNote(wgmma != null, wgmmaApplies, wgmmaDecision);
            clusterGemms = clusterWanted && sm90a != null;
            blas = own(new Cublas(stream, SKINNY_GEMMS ? new SkinnyGemm(module, stream) : null,
                    clusterGemms ? new ClusterGemm(sm90a, stream, device.multiprocessors()) : null));
            startLaps.lap("cuBLAS");
            weights = own(new DeviceWeights(config, modelWeights, dtype));
            startLaps.lap("weights");
            swiglu = swigluWanted && sm90a != null ? new SwigluGemm(sm90a, stream, device.multiprocessors(),
                    config.hiddenSize(), config.intermediateSize(), gateUpAddresses(weights)) : null;
            FiniteWeights.require(kernels, stream, weights.parts(), dtype);
            startLaps.lap("finite check");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The engine's factory for device=cuda: opens GPU {@code engine.deviceOrdinal()} and uploads the weights.
     * Fails with a {@link CudaException} where there is no usable GPU, driver, cuBLAS or compiled kernel image.
     */
    public static Backend create(ModelConfig config, ModelWeights weights, EngineConfig engine) {
        return open(config, weights, engine);
    }

    /** As {@link #create}, typed for tests that call {@link #forwardLogits}. */
    public static CudaBackend open(ModelConfig config, ModelWeights weights, EngineConfig engine) {
        return new CudaBackend(config, weights, engine);
    }

    private static long[] gateUpAddresses(DeviceWeights weights) {
        return weights.layers.stream().mapToLong(l -> l.gateUp().address()).toArray();
    }

    /** The start log's note on the wgmma prefill kernel: why a GPU that could run it does not ("" where it cannot). */
    static String wgmmaNote(boolean loaded, boolean applies, WgmmaPrefill.Decision decision) {
        if (loaded) {
            return " (sm_90a, -D" + WgmmaPrefill.PROPERTY + "=false for attn_prefill_tc)";
        }
        if (!applies || decision == WgmmaPrefill.Decision.NOT_SM90) {
            return "";
        }
        return decision == WgmmaPrefill.Decision.LOAD ? " (the sm_90a image did not load: see the warning)"
                : " (wgmma prefill " + decision.reason + ")";
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    static DType computeDtype(String option, ModelConfig config, ModelWeights weights) {
        return switch (option) {
            case "float32" -> DType.F32;
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            case "auto" -> weights.embedTokens().dtype() == DType.F16 || "float16".equals(config.torchDtype())
                    ? DType.F16 : DType.BF16;
            default -> throw ConfigException.invalid("dtype", option, "auto, bfloat16, float16, float32");
        };
    }

    static void checkSupported(ModelConfig c) {
        if (c.headDim() != 64 && c.headDim() != 128) {
            throw new CudaException("head_dim=" + c.headDim() + " is not supported by the CUDA attention kernels"
                    + " (64 or 128); use device=cpu for this model");
        }
        if (c.groupSize() > 8) {
            throw new CudaException("num_attention_heads / num_key_value_heads = " + c.groupSize()
                    + " query heads per KV head is not supported by the CUDA decode kernel (at most 8); use device=cpu");
        }
    }

    @Override
    public int allocateKvCache(int blockSize, int maxBlocks) {
        requireOpen();
        if (kv != null) {
            throw new IllegalStateException("the CUDA KV cache is already allocated (" + kv.numBlocks + " blocks)");
        }
        if (blockSize < 1 || maxBlocks < 0) {
            throw new IllegalArgumentException("block size " + blockSize + " and block cap " + maxBlocks
                    + " must be >= 1 and >= 0");
        }
        device.makeCurrent();
        int maxSeqs = engine.maxNumSeqs();
        int maxBlocksPerSeq = (maxModelLen + blockSize - 1) / blockSize;
        long free0 = device.memoryInfo()[0];
        act = own(new Activations(config, dtype, maxTokens, maxSeqs, CudaModel.inverseFrequencies(config)));
        inputs = own(new StepInputs(maxTokens, maxSeqs, maxBlocksPerSeq, kernels.prefillTileTokens(config.headDim(), config.groupSize())));
        sampler = own(new GpuSampler(kernels, act, inputs, stream, config.eosTokenIds(), config.vocabSize(), maxSeqs,
                SAMPLER_SPLIT ? device.multiprocessors() : 0));
        model = new CudaModel(config, weights, act, inputs, kernels, blas, swiglu, device.multiprocessors());
        startLaps.lap("activations");
        profileRun(blockSize, maxSeqs);
        startLaps.lap("profile pass");
        long[] mem = device.memoryInfo();
        activationBytes = free0 - mem[0];

        long perBlock = KvCache.bytesPerBlock(config.numLayers(), blockSize, config.numKvHeads(), config.headDim(), dtype);
        long[] plan = kvBudget(mem[1], mem[0], freeAtOpen, engine.gpuMemoryUtilization());
        long budget = plan[0];
        long used = plan[1];
        long blocks = Math.max(0, budget / perBlock);
        if (maxBlocks > 0) {
            blocks = Math.min(blocks, maxBlocks);
        }
        blocks = Math.min(blocks, Integer.MAX_VALUE);
        if (blocks < maxBlocksPerSeq) {
            throw new ConfigException("the GPU cannot hold the KV cache of one sequence of max_model_len=" + maxModelLen
                    + " tokens (" + maxBlocksPerSeq + " blocks of " + perBlock + " bytes) under gpu_memory_utilization="
                    + engine.gpuMemoryUtilization() + ": " + (mem[1] >> 20) + " MiB total, " + (used >> 20)
                    + " MiB this engine's (weights " + (weights.totalBytes() >> 20) + " MiB, activations "
                    + (activationBytes >> 20) + " MiB), " + (mem[0] >> 20) + " MiB free (other engines or processes"
                    + " hold the rest), room for " + blocks + " blocks; raise gpu_memory_utilization,"
                    + " lower max_model_len, max_num_batched_tokens or max_num_seqs, or set num_kv_blocks"
                    + (maxBlocks > 0 ? " (now " + maxBlocks + ")" : ""));
        }
        kv = own(new KvCache(config.numLayers(), (int) blocks, blockSize, config.numKvHeads(), config.headDim(), dtype));
        startLaps.lap("KV cache");
        if (!engine.enforceEager()) {
            graphs = own(new DecodeGraphs(stream, maxSeqs, maxBlocksPerSeq));
            long g0 = System.nanoTime();
            captureDecodeGraphs();
            graphMillis = (System.nanoTime() - g0) / 1_000_000;  // the description's "captured in": not also a lap
        }
        startMillis = startLaps.elapsedNanos() / 1_000_000;
        if (Boolean.getBoolean("ember.cuda.timeline")) {
            timeline = own(new StepTimeline(stream));
        }
        return (int) blocks;
    }

    /**
     * Captures the decode graph of every (batch, stride) bucket: per batch bucket the GEMM algorithms are chosen by
     * timing (CudaModel.tuneGemms), then one eager pass over padding rows
     * (context 0: they store and read nothing) lets cuBLAS pick and load its kernels for that shape, then one
     * capture per stride bucket.
     */
    private void captureDecodeGraphs() {
        ForwardBatch empty = new ForwardBatch(0, new int[0], new int[0], new int[0], new int[] {0}, new int[0],
                new int[0][], kv.blockSize, new boolean[0], new SamplingParams[0], new long[0], new int[0], new int[0][],
                new int[0]);
        for (int batch : graphs.batchBuckets()) {
            long t0 = System.nanoTime();
            if (GEMM_TUNING) {
                tunings.addAll(model.tuneGemms(batch, TUNE_ITERATIONS));
            }
            tuneMillis += (System.nanoTime() - t0) / 1_000_000;
            List<Integer> strides = graphs.strideBuckets();
            inputs.write(empty, batch, strides.get(0), new int[0]);
            inputs.upload(stream);
            model.forward(kv, batch, batch, batch, true, strides.get(0) * kv.blockSize);
            for (int stride : strides) {
                inputs.write(empty, batch, stride, new int[0]);
                graphs.capture(batch, stride, (bb, ss) -> model.forward(kv, bb, bb, bb, true, ss * kv.blockSize));
            }
        }
        stream.synchronize();
    }

    /**
     * The KV cache's byte budget and this engine's own use: gpu_memory_utilization bounds what this engine allocates
     * itself (weights, activations, cache: measured from the free memory when its device was opened, as vLLM's
     * per-instance limit), and the cache never takes more than is free. So a second engine on a GPU that another
     * engine or process already fills gets what is left instead of "room for 0 blocks".
     *
     * @return {budget bytes (may be negative), bytes this engine holds}
     */
    static long[] kvBudget(long totalBytes, long freeBytes, long freeAtOpenBytes, double gpuMemoryUtilization) {
        long own = Math.max(0, freeAtOpenBytes - freeBytes);
        long byUtilization = (long) (totalBytes * gpuMemoryUtilization) - own - RESERVE_BYTES;
        return new long[] {Math.min(byUtilization, freeBytes - RESERVE_BYTES), own};
    }

    /** One forward pass of max_num_batched_tokens tokens over a one-block scratch cache, to measure the peak. */
    private void profileRun(int blockSize, int maxSeqs) {
        int len = Math.min(maxTokens, maxModelLen);
        int seqs = Math.min(maxSeqs, (maxTokens + len - 1) / len);
        int tokens = Math.min(maxTokens, seqs * len);
        int[] ids = new int[tokens];
        int[] positions = new int[tokens];
        int[] slots = new int[tokens];
        int[] queryStart = new int[seqs + 1];
        int[] contextLens = new int[seqs];
        int[][] tables = new int[seqs][(len + blockSize - 1) / blockSize];
        int[] logitRow = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            queryStart[s + 1] = Math.min(tokens, (s + 1) * len);
            contextLens[s] = queryStart[s + 1] - queryStart[s];
            logitRow[s] = queryStart[s + 1] - 1;
            for (int t = queryStart[s]; t < queryStart[s + 1]; t++) {
                positions[t] = t - queryStart[s];
                slots[t] = -1;
            }
        }
        ForwardBatch dummy = new ForwardBatch(seqs, ids, positions, slots, queryStart, contextLens, tables, blockSize,
                new boolean[seqs], new SamplingParams[seqs], new long[seqs], new int[seqs], new int[seqs][0], new int[seqs]);
        try (KvCache scratch = new KvCache(config.numLayers(), 1, blockSize, config.numKvHeads(), config.headDim(), dtype)) {
            inputs.write(dummy, 0, tables[0].length, logitRow);
            inputs.upload(stream);
            model.forward(scratch, tokens, seqs, seqs, false, len);
            stream.synchronize();
        }
    }

    @Override
    public StepOutput step(ForwardBatch batch) {
        return launch(batch).collect();
    }

    /**
     * Enqueues the step (inputs, forward pass or graph replay, sampling, the copy of the results) and returns; the
     * step's placeholder token ids name the previous launch's samples (see {@link Backend#launch}).
     */
    @Override
    public Pending launch(ForwardBatch batch) {
        if (timeline != null) {
            device.makeCurrent(); // the step loop's thread: forward() makes it current too, but after this event
            timeline.begin(batch);
        }
        GpuSampler.Plan plan = forward(batch);
        int slot = sampler.launch(batch, plan);
        if (timeline != null) {
            timeline.end();
        }
        lastPlan = plan;
        return () -> sampler.collect(batch, plan, slot);
    }

    @Override
    public boolean runsAhead() {
        return true;
    }

    /**
     * The batch's token ids for the device: a placeholder -(s + 1) (the previous launch's sample for its sequence s)
     * becomes -(r + 1) with r that sample's row in the sampler's outputs, which the embedding kernel reads.
     */
    private int[] deviceTokenIds(ForwardBatch b) {
        int[] ids = b.tokenIds;
        int[] out = null;
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] >= 0) {
                continue;
            }
            int s = -ids[t] - 1;
            int row = lastPlan == null || s >= lastPlan.gpuIndexOf().length ? -1 : lastPlan.gpuIndexOf()[s];
            if (row < 0) {
                throw new IllegalStateException("token " + t + " names sequence " + s + " of the previous step, which"
                        + " sampled nothing on the GPU");
            }
            if (out == null) {
                out = ids.clone();
            }
            out[t] = -(row + 1);
        }
        return out == null ? ids : out;
    }

    /**
     * Runs the model over the batch (writing its K/V into the cache) without sampling; for parity tests.
     *
     * @return (S) the raw float32 logits of the last new token of each sequence with {@code sample[s]}, null elsewhere
     */
    public float[][] forwardLogits(ForwardBatch batch) {
        GpuSampler.Plan plan = forward(batch);
        stream.synchronize();
        float[][] out = new float[batch.numSeqs][];
        for (int s = 0; s < batch.numSeqs; s++) {
            int row = plan.logitRowOf()[s];
            if (row >= 0) {
                out[s] = new float[config.vocabSize()];
                act.logits.download((long) row * config.vocabSize() * 4, out[s]);
            }
        }
        return out;
    }

    private GpuSampler.Plan forward(ForwardBatch b) {
        return forward(b, false);
    }

    /**
     * Profiling: one eager forward pass (no graph) with its GPU time charged to categories (gemm, attention,
     * other); waits for the GPU.
     */
    java.util.Map<String, Double> profileEager(ForwardBatch b) {
        try (KernelTimer timer = new KernelTimer(stream)) {
            model.setTimer(timer);
            try {
                forward(b, true);
            } finally {
                model.setTimer(null);
            }
            stream.synchronize();
            return timer.totals();
        }
    }

    /**
     * Profiling: GPU milliseconds of sampling alone (penalties, the sampling kernel, the copy of the results) over
     * the logits of one forward pass of {@code b}, averaged over {@code reps} launches.
     */
    double profileSampling(ForwardBatch b, int reps) {
        GpuSampler.Plan plan = forward(b);
        stream.synchronize();
        try (KernelTimer timer = new KernelTimer(stream)) {
            for (int i = 0; i < reps; i++) {
                timer.mark("sampling");
                int slot = sampler.launch(b, plan);
                timer.mark(null);
                sampler.collect(b, plan, slot);
            }
            return timer.totals().get("sampling") / reps;
        }
    }

    /** Profiling: the forward pass as step() runs it (a graph replay for decode), then waits for the GPU. */
    void forwardAndWait(ForwardBatch b) {
        forward(b, false);
        stream.synchronize();
    }

    CudaStream stream() {
        return stream;
    }

    /** Profiling: host time of the last step's input preparation (sampler plan, inputs, the copy) and of its eager enqueue. */
    long[] lastHostNanos() {
        return new long[] {hostPrepNanos, enqueueNanos};
    }

    private GpuSampler.Plan forward(ForwardBatch b, boolean eager) {
        requireOpen();
        if (kv == null) {
            throw new IllegalStateException("allocateKvCache must be called before the first step");
        }
        if (b.blockSize != kv.blockSize) {
            throw new IllegalArgumentException("batch block size " + b.blockSize + " differs from the KV cache's " + kv.blockSize);
        }
        device.makeCurrent();
        int needed = 1;
        int maxContext = 1;
        for (int s = 0; s < b.numSeqs; s++) {
            maxContext = Math.max(maxContext, b.contextLens[s]);
            needed = Math.max(needed, (b.contextLens[s] + kv.blockSize - 1) / kv.blockSize);
        }
        long t0 = System.nanoTime();
        int[] tokenIds = deviceTokenIds(b);
        inputs.beginStep();
        GpuSampler.Plan plan = sampler.plan(b);
        if (b.isDecodeOnly() && graphs != null && !eager) {
            int batch = graphs.batchBucket(b.numSeqs);
            int stride = graphs.strideBucket(needed);
            inputs.write(b, tokenIds, batch - b.numSeqs, stride, plan.logitTokenOf());
            inputs.upload(stream);
            long t1 = System.nanoTime();
            hostPrepNanos = t1 - t0;
            if (!graphs.replay(batch, stride)) {
                model.forward(kv, batch, batch, batch, true, stride * kv.blockSize);
                graphs.capture(batch, stride, (bb, ss) -> model.forward(kv, bb, bb, bb, true, ss * kv.blockSize));
            }
        } else {
            inputs.write(b, tokenIds, 0, needed, plan.logitTokenOf());
            inputs.upload(stream);
            long t1 = System.nanoTime();
            hostPrepNanos = t1 - t0;
            model.forward(kv, b.numTokens(), b.numSeqs, plan.numLogitRows(), b.isDecodeOnly(), maxContext);
            enqueueNanos = System.nanoTime() - t1;
        }
        return plan;
    }

    /** Weights, activation peak and KV cache sizes in bytes, and the number of KV blocks (0 before allocation). */
    public long[] memoryPlan() {
        return new long[] {weights.totalBytes(), activationBytes, kv == null ? 0 : kv.sizeBytes(),
                kv == null ? 0 : kv.numBlocks};
    }

    /** Fewest calls of a GEMM timing (GemmPlans makes more for small matrices). */
    static final int TUNE_ITERATIONS = 2;
    /** Benchmarks only: {@code -Dember.cuda.gemmTuning=false} keeps cuBLAS's default choice, to compare the two. */
    private static final boolean GEMM_TUNING = Switches.read("ember.cuda.gemmTuning", true);
    /** Benchmarks only: {@code -Dember.cuda.samplerSplit=false} keeps one sampling CTA per row at every batch. */
    private static final boolean SAMPLER_SPLIT = Switches.read("ember.cuda.samplerSplit", true);
    /** Benchmarks only: {@code -Dember.cuda.skinnyGemm=false} keeps Ember's skinny GEMMs out of the tuning race. */
    private static final boolean SKINNY_GEMMS = Switches.read("ember.cuda.skinnyGemm", true);

    /** The GEMM tunings of engine start (batch bucket x linear layer), for benchmarks. */
    List<GemmPlans.Tuning> gemmTunings() {
        return List.copyOf(tunings);
    }

    /** The decode step's GEMM time at the largest batch bucket, cuBLAS's default against the tuned choice. */
    private String tuningSummary() {
        if (tunings.isEmpty()) {
            return "none";
        }
        int rows = tunings.stream().mapToInt(GemmPlans.Tuning::rows).max().getAsInt();
        double dflt = 0;
        double tuned = 0;
        StringBuilder shapes = new StringBuilder();
        for (GemmPlans.Tuning t : tunings) {
            if (t.rows() == rows) {
                int times = t.out() == config.vocabSize() ? 1 : config.numLayers();
                dflt += times * t.defaultMicros();
                tuned += times * t.runMicros();
                shapes.append(String.format("; %d x %d: %.1f -> %.1f µs (%s)", t.out(), t.in(), t.defaultMicros(),
                        t.runMicros(), t.chosen()));
            }
        }
        return String.format("a %d-row decode step's GEMMs %.0f µs with cuBLAS's default, %.0f µs tuned%s", rows, dflt,
                tuned, shapes);
    }

    @Override
    public String description() {
        String kvText = kv == null ? "KV cache not allocated"
                : "KV cache " + (kv.sizeBytes() >> 20) + " MiB = " + kv.numBlocks + " blocks x " + kv.blockSize + " tokens";
        return "cuda:" + device.ordinal() + " " + device.name() + " (sm " + device.computeCapability() + ", "
                + device.multiprocessors() + " SMs), kernels from " + kernelOrigin + ", prefill attention " + prefillKernel + ", "
                + (model == null ? "" : model.decodeRopeDescription() + ", ") + (swiglu == null ? ""
                        : "gate/up + SwiGLU fused at " + SwigluGemm.MIN_ENGINE_ROWS + "-" + SwigluGemm.MAX_ENGINE_ROWS + " rows (sm_90a; -D" + SwigluGemm.PROPERTY
                        + "=false: cuBLAS + silu_mul), ") + (clusterGemms ? "split-K cluster GEMMs in the tuning race (sm_90a; -D"
                        + ClusterGemm.PROPERTY + "=false leaves them out), " : "") + dtype + ", weights " + (weights.totalBytes() >> 20)
                + " MiB, activations " + (activationBytes >> 20) + " MiB (peak at " + maxTokens + " tokens), " + kvText
                + ", gpu_memory_utilization " + engine.gpuMemoryUtilization() + ", "
                + (engine.enforceEager() ? "eager" : graphs.size() + " decode CUDA graphs captured in " + graphMillis + " ms (GEMM tuning "
                        + tuneMillis + " ms: " + tuningSummary() + ")")
                + (startMillis >= 0 ? ", ready " + startMillis + " ms after the weights were handed over ("
                        + startLaps.describe() + ")" : "");
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        try {
            device.makeCurrent();
        } catch (RuntimeException e) {
            first = e;
        }
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new CudaException("closing the CUDA backend failed", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed");
        }
    }
}
