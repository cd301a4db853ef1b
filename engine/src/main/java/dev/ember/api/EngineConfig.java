package dev.ember.api;

import dev.ember.ConfigException;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static dev.ember.api.EngineOptions.ASYNC_SCHEDULING;
import static dev.ember.api.EngineOptions.BLOCK_SIZE;
import static dev.ember.api.EngineOptions.CPU_KV_CACHE_MB;
import static dev.ember.api.EngineOptions.DEVICE;
import static dev.ember.api.EngineOptions.DEVICE_ORDINAL;
import static dev.ember.api.EngineOptions.DTYPE;
import static dev.ember.api.EngineOptions.ENABLE_PREFIX_CACHING;
import static dev.ember.api.EngineOptions.ENFORCE_EAGER;
import static dev.ember.api.EngineOptions.GPU_MEMORY_UTILIZATION;
import static dev.ember.api.EngineOptions.MAX_IN_FLIGHT;
import static dev.ember.api.EngineOptions.MAX_MODEL_LEN;
import static dev.ember.api.EngineOptions.MAX_NUM_BATCHED_TOKENS;
import static dev.ember.api.EngineOptions.MAX_NUM_SEQS;
import static dev.ember.api.EngineOptions.NUM_KV_BLOCKS;
import static dev.ember.api.EngineOptions.NUM_THREADS;
import static dev.ember.api.EngineOptions.GUIDED_MASK_THREADS;
import static dev.ember.api.EngineOptions.SEED;
import static dev.ember.api.EngineOptions.STALL_TIMEOUT_S;

/**
 * Runtime settings of one engine, immutable and validated here with the checks of {@link EngineOptions}.
 * {@link #fromOptions(Map)} reads the snake_case option names of {@link EngineOptions#ALL} (the same names the
 * Spark connector and {@code conf/engine.properties} use); an unknown name or a bad value fails naming the option.
 *
 * @param model               checkpoint directory (config.json, *.safetensors, tokenizer files)
 * @param device              "cpu" or "cuda"
 * @param deviceOrdinal       GPU ordinal for cuda
 * @param dtype               compute dtype on cuda: "auto" (bf16, or fp16 for fp16 checkpoints), "bfloat16", "float16", "float32"; the CPU always computes in float32
 * @param blockSize           tokens per KV block
 * @param maxNumSeqs          most sequences in one step
 * @param maxNumBatchedTokens token budget of one step (prefill chunks + decodes)
 * @param maxModelLen         longest prompt + output; 0 = the model's max_position_embeddings
 * @param numKvBlocks         cap on KV blocks; 0 = as many as the memory budget allows
 * @param cpuKvCacheBytes     KV cache budget of the CPU backend
 * @param gpuMemoryUtilization fraction of GPU memory the engine may take (weights + activations + KV cache)
 * @param enablePrefixCaching reuse full KV blocks of identical prompt prefixes
 * @param maxInFlight         most submitted-but-unfinished requests; submit() blocks beyond it (back-pressure)
 * @param numThreads          CPU backend threads; 0 = available processors (the Spark connector fills in the executor's cores)
 * @param seed                job seed, from which requests without a seed derive theirs
 * @param enforceEager        cuda: no CUDA graphs
 * @param stallTimeoutSeconds a step running longer than this fails the engine's requests with a timeout error (0: never)
 * @param asyncScheduling     cuda: plan and launch each decode step while the previous one runs on the GPU
 * @param guidedMaskThreads   threads building guided decoding's token masks off the step loop; 0 = on the step loop
 */
public record EngineConfig(Path model, String device, int deviceOrdinal, String dtype, int blockSize, int maxNumSeqs,
                           int maxNumBatchedTokens, int maxModelLen, int numKvBlocks, long cpuKvCacheBytes,
                           double gpuMemoryUtilization, boolean enablePrefixCaching, int maxInFlight, int numThreads,
                           long seed, boolean enforceEager, double stallTimeoutSeconds, boolean asyncScheduling,
                           int guidedMaskThreads) {

    public EngineConfig {
        if (model == null) {
            throw ConfigException.invalid("model", null, "a checkpoint directory");
        }
        DEVICE.check(device);
        DEVICE_ORDINAL.check(deviceOrdinal);
        DTYPE.check(dtype);
        BLOCK_SIZE.check(blockSize);
        MAX_NUM_SEQS.check(maxNumSeqs);
        if (maxNumBatchedTokens < blockSize) {
            throw ConfigException.invalid("max_num_batched_tokens", maxNumBatchedTokens, "an integer >= block_size (" + blockSize + ")");
        }
        MAX_MODEL_LEN.check(maxModelLen);
        NUM_KV_BLOCKS.check(numKvBlocks);
        if (cpuKvCacheBytes < 1) {
            throw ConfigException.invalid("cpu_kv_cache_mb", cpuKvCacheBytes / (1 << 20), CPU_KV_CACHE_MB.allowed());
        }
        GPU_MEMORY_UTILIZATION.check(gpuMemoryUtilization);
        MAX_IN_FLIGHT.check(maxInFlight);
        NUM_THREADS.check(numThreads);
        STALL_TIMEOUT_S.check(stallTimeoutSeconds);
        GUIDED_MASK_THREADS.check(guidedMaskThreads);
    }

    /** CPU threads to use: numThreads, or all processors when 0. */
    public int effectiveThreads() {
        return numThreads > 0 ? numThreads : Runtime.getRuntime().availableProcessors();
    }

    public static Builder builder(Path model) {
        return new Builder().model(model);
    }

    /**
     * Builds a config from the options of {@link EngineOptions#ALL} by name (any case); an unknown name fails
     * suggesting the closest known one, a bad value names the option, the value and what is allowed.
     */
    public static EngineConfig fromOptions(Map<String, String> options) {
        Builder b = new Builder();
        for (Map.Entry<String, String> e : new TreeMap<>(options).entrySet()) {
            String key = EngineOptions.ALL.get(e.getKey()).name();
            String v = e.getValue();
            switch (key) {
                case "model" -> b.model(v == null || v.isBlank() ? null : Path.of(v.trim()));
                case "device" -> b.device(DEVICE.parse(v).trim());
                case "device_ordinal" -> b.deviceOrdinal(DEVICE_ORDINAL.parse(v));
                case "dtype" -> b.dtype(DTYPE.parse(v).trim());
                case "block_size" -> b.blockSize(BLOCK_SIZE.parse(v));
                case "max_num_seqs" -> b.maxNumSeqs(MAX_NUM_SEQS.parse(v));
                case "max_num_batched_tokens" -> b.maxNumBatchedTokens(MAX_NUM_BATCHED_TOKENS.parse(v));
                case "max_model_len" -> b.maxModelLen(MAX_MODEL_LEN.parse(v));
                case "num_kv_blocks" -> b.numKvBlocks(NUM_KV_BLOCKS.parse(v));
                case "cpu_kv_cache_mb" -> b.cpuKvCacheBytes((long) CPU_KV_CACHE_MB.parse(v) << 20);
                case "gpu_memory_utilization" -> b.gpuMemoryUtilization(GPU_MEMORY_UTILIZATION.parse(v));
                case "enable_prefix_caching" -> b.enablePrefixCaching(ENABLE_PREFIX_CACHING.parse(v));
                case "max_in_flight" -> b.maxInFlight(MAX_IN_FLIGHT.parse(v));
                case "num_threads" -> b.numThreads(NUM_THREADS.parse(v));
                case "seed" -> b.seed(SEED.parse(v));
                case "enforce_eager" -> b.enforceEager(ENFORCE_EAGER.parse(v));
                case "stall_timeout_s" -> b.stallTimeoutSeconds(STALL_TIMEOUT_S.parse(v));
                case "async_scheduling" -> b.asyncScheduling(ASYNC_SCHEDULING.parse(v));
                case "guided_mask_threads" -> b.guidedMaskThreads(GUIDED_MASK_THREADS.parse(v));
                default -> throw new IllegalStateException("engine option " + key + " is declared but not read");
            }
        }
        return b.build();
    }

    public Builder toBuilder() {
        return new Builder().model(model).device(device).deviceOrdinal(deviceOrdinal).dtype(dtype).blockSize(blockSize)
                .maxNumSeqs(maxNumSeqs).maxNumBatchedTokens(maxNumBatchedTokens).maxModelLen(maxModelLen)
                .numKvBlocks(numKvBlocks).cpuKvCacheBytes(cpuKvCacheBytes).gpuMemoryUtilization(gpuMemoryUtilization)
                .enablePrefixCaching(enablePrefixCaching).maxInFlight(maxInFlight).numThreads(numThreads).seed(seed)
                .enforceEager(enforceEager).stallTimeoutSeconds(stallTimeoutSeconds).asyncScheduling(asyncScheduling)
                .guidedMaskThreads(guidedMaskThreads);
    }

    /** Mutable builder with the documented defaults. */
    public static final class Builder {
        private Path model;
        private String device = DEVICE.defaultValue();
        private int deviceOrdinal = DEVICE_ORDINAL.defaultValue();
        private String dtype = DTYPE.defaultValue();
        private int blockSize = BLOCK_SIZE.defaultValue();
        private int maxNumSeqs = MAX_NUM_SEQS.defaultValue();
        private int maxNumBatchedTokens = MAX_NUM_BATCHED_TOKENS.defaultValue();
        private int maxModelLen = MAX_MODEL_LEN.defaultValue();
        private int numKvBlocks = NUM_KV_BLOCKS.defaultValue();
        private long cpuKvCacheBytes = (long) CPU_KV_CACHE_MB.defaultValue() << 20;
        private double gpuMemoryUtilization = GPU_MEMORY_UTILIZATION.defaultValue();
        private boolean enablePrefixCaching = ENABLE_PREFIX_CACHING.defaultValue();
        private int maxInFlight = MAX_IN_FLIGHT.defaultValue();
        private int numThreads = NUM_THREADS.defaultValue();
        private long seed = SEED.defaultValue();
        private boolean enforceEager = ENFORCE_EAGER.defaultValue();
        private double stallTimeoutSeconds = STALL_TIMEOUT_S.defaultValue();
        private boolean asyncScheduling = ASYNC_SCHEDULING.defaultValue();
        private int guidedMaskThreads = GUIDED_MASK_THREADS.defaultValue();

        public Builder model(Path v) { model = v; return this; }
        public Builder device(String v) { device = v == null ? null : v.toLowerCase(Locale.ROOT); return this; }
        public Builder deviceOrdinal(int v) { deviceOrdinal = v; return this; }
        public Builder dtype(String v) { dtype = v == null ? null : v.toLowerCase(Locale.ROOT); return this; }
        public Builder blockSize(int v) { blockSize = v; return this; }
        public Builder maxNumSeqs(int v) { maxNumSeqs = v; return this; }
        public Builder maxNumBatchedTokens(int v) { maxNumBatchedTokens = v; return this; }
        public Builder maxModelLen(int v) { maxModelLen = v; return this; }
        public Builder numKvBlocks(int v) { numKvBlocks = v; return this; }
        public Builder cpuKvCacheBytes(long v) { cpuKvCacheBytes = v; return this; }
        public Builder gpuMemoryUtilization(double v) { gpuMemoryUtilization = v; return this; }
        public Builder enablePrefixCaching(boolean v) { enablePrefixCaching = v; return this; }
        public Builder maxInFlight(int v) { maxInFlight = v; return this; }
        public Builder numThreads(int v) { numThreads = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder enforceEager(boolean v) { enforceEager = v; return this; }
        public Builder stallTimeoutSeconds(double v) { stallTimeoutSeconds = v; return this; }
        public Builder asyncScheduling(boolean v) { asyncScheduling = v; return this; }
        public Builder guidedMaskThreads(int v) { guidedMaskThreads = v; return this; }

        public EngineConfig build() {
            return new EngineConfig(model, device, deviceOrdinal, dtype, blockSize, maxNumSeqs, maxNumBatchedTokens,
                    maxModelLen, numKvBlocks, cpuKvCacheBytes, gpuMemoryUtilization, enablePrefixCaching, maxInFlight,
                    numThreads, seed, enforceEager, stallTimeoutSeconds, asyncScheduling, guidedMaskThreads);
        }
    }
}
