package dev.ember.engine;

import dev.ember.ConfigException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static dev.ember.OptionValues.parseBoolean;
import static dev.ember.OptionValues.parseDouble;
import static dev.ember.OptionValues.parseInt;
import static dev.ember.OptionValues.parseLong;

/**
 * Runtime settings of one engine, immutable and validated here. {@link #fromOptions(Map)} reads the
 * snake_case option names documented in {@link #OPTIONS} (the same names the Spark connector and
 * {@code conf/engine.properties} use); an unknown name or a bad value fails naming the option.
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
 * @param numThreads          CPU backend threads; 0 = available processors
 * @param seed                job seed, from which requests without a seed derive theirs
 * @param enforceEager        cuda: no CUDA graphs
 * @param asyncScheduling     cuda: plan and launch each decode step while the previous one runs on the GPU
 * @param stallTimeoutSeconds a step running longer than this fails the engine's requests with a timeout error
 *                            (a hung device or a deadlock must not hang the job); 0 = never
 */
public record EngineConfig(Path model, String device, int deviceOrdinal, String dtype, int blockSize, int maxNumSeqs,
                           int maxNumBatchedTokens, int maxModelLen, int numKvBlocks, long cpuKvCacheBytes,
                           double gpuMemoryUtilization, boolean enablePrefixCaching, int maxInFlight, int numThreads,
                           long seed, boolean enforceEager, double stallTimeoutSeconds, boolean asyncScheduling) {

    /** Every option name with its default and meaning; the one place options are documented. */
    public static final Map<String, String> OPTIONS;

    static {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("model", "(required) checkpoint directory: config.json, *.safetensors, tokenizer.json");
        o.put("device", "cpu | cuda (default cpu)");
        o.put("device_ordinal", "GPU ordinal for cuda (default 0)");
        o.put("dtype", "auto | bfloat16 | float16 | float32: cuda compute dtype (default auto); the CPU computes in float32");
        o.put("block_size", "tokens per KV-cache block, 1..256 (default 16)");
        o.put("max_num_seqs", "most sequences per step (default 256)");
        o.put("max_num_batched_tokens", "token budget per step, >= block_size (default 4096)");
        o.put("max_model_len", "longest prompt + output; 0 = the model's max_position_embeddings (default 0)");
        o.put("num_kv_blocks", "cap on KV-cache blocks; 0 = what the memory budget allows (default 0)");
        o.put("cpu_kv_cache_mb", "KV-cache budget of the CPU backend in MiB (default 512)");
        o.put("gpu_memory_utilization", "fraction of GPU memory for weights, activations and KV cache, (0, 1] (default 0.90)");
        o.put("enable_prefix_caching", "true | false (default true)");
        o.put("max_in_flight", "most unfinished submitted requests before submit() waits (default 4096)");
        o.put("num_threads", "CPU backend threads; 0 = all processors (default 0)");
        o.put("seed", "job seed for requests without their own (default 0)");
        o.put("enforce_eager", "true | false: cuda without CUDA graphs (default false)");
        o.put("async_scheduling", "true | false: cuda plans and launches the next decode step while the GPU runs this one"
                + " (default true; false: one step at a time, same tokens)");
        o.put("stall_timeout_s", "seconds one engine step may run before its requests fail with a timeout; 0 = never (default 600)");
        OPTIONS = java.util.Collections.unmodifiableMap(o);
    }

    private static final Set<String> DEVICES = Set.of("cpu", "cuda");
    private static final Set<String> DTYPES = Set.of("auto", "bfloat16", "float16", "float32");

    public EngineConfig {
        if (model == null) {
            throw ConfigException.invalid("model", null, "a checkpoint directory");
        }
        if (device == null || !DEVICES.contains(device)) {
            throw ConfigException.invalid("device", device, "cpu, cuda");
        }
        if (deviceOrdinal < 0) {
            throw ConfigException.invalid("device_ordinal", deviceOrdinal, "an integer >= 0");
        }
        if (dtype == null || !DTYPES.contains(dtype)) {
            throw ConfigException.invalid("dtype", dtype, "auto, bfloat16, float16, float32");
        }
        if (blockSize < 1 || blockSize > 256) {
            throw ConfigException.invalid("block_size", blockSize, "an integer in [1, 256]");
        }
        if (maxNumSeqs < 1) {
            throw ConfigException.invalid("max_num_seqs", maxNumSeqs, "an integer >= 1");
        }
        if (maxNumBatchedTokens < blockSize) {
            throw ConfigException.invalid("max_num_batched_tokens", maxNumBatchedTokens, "an integer >= block_size (" + blockSize + ")");
        }
        if (maxModelLen < 0) {
            throw ConfigException.invalid("max_model_len", maxModelLen, "0 (the model's limit) or a positive integer");
        }
        if (numKvBlocks < 0) {
            throw ConfigException.invalid("num_kv_blocks", numKvBlocks, "0 (automatic) or a positive integer");
        }
        if (cpuKvCacheBytes < 1) {
            throw ConfigException.invalid("cpu_kv_cache_mb", cpuKvCacheBytes / (1 << 20), "a positive number of MiB");
        }
        if (!(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1)) {
            throw ConfigException.invalid("gpu_memory_utilization", gpuMemoryUtilization, "a number in (0, 1]");
        }
        if (maxInFlight < 1) {
            throw ConfigException.invalid("max_in_flight", maxInFlight, "an integer >= 1");
        }
        if (numThreads < 0) {
            throw ConfigException.invalid("num_threads", numThreads, "0 (all processors) or a positive integer");
        }
        if (!(stallTimeoutSeconds >= 0) || Double.isInfinite(stallTimeoutSeconds)) {
            throw ConfigException.invalid("stall_timeout_s", stallTimeoutSeconds, "a finite number of seconds >= 0 (0 = never)");
        }
    }

    /** CPU threads to use: numThreads, or all processors when 0. */
    public int effectiveThreads() {
        return numThreads > 0 ? numThreads : Runtime.getRuntime().availableProcessors();
    }

    public static Builder builder(Path model) {
        return new Builder().model(model);
    }

    /**
     * Builds a config from option names of {@link #OPTIONS}; unknown names fail with the list of known ones.
     */
    public static EngineConfig fromOptions(Map<String, String> options) {
        Builder b = new Builder();
        for (Map.Entry<String, String> e : new TreeMap<>(options).entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            String v = e.getValue() == null ? null : e.getValue().trim();
            switch (key) {
                case "model" -> b.model(v == null || v.isEmpty() ? null : Path.of(v));
                case "device" -> b.device(v);
                case "device_ordinal" -> b.deviceOrdinal(parseInt(key, v));
                case "dtype" -> b.dtype(v);
                case "block_size" -> b.blockSize(parseInt(key, v));
                case "max_num_seqs" -> b.maxNumSeqs(parseInt(key, v));
                case "max_num_batched_tokens" -> b.maxNumBatchedTokens(parseInt(key, v));
                case "max_model_len" -> b.maxModelLen(parseInt(key, v));
                case "num_kv_blocks" -> b.numKvBlocks(parseInt(key, v));
                case "cpu_kv_cache_mb" -> b.cpuKvCacheBytes(parseLong(key, v) << 20);
                case "gpu_memory_utilization" -> b.gpuMemoryUtilization(parseDouble(key, v));
                case "enable_prefix_caching" -> b.enablePrefixCaching(parseBoolean(key, v));
                case "max_in_flight" -> b.maxInFlight(parseInt(key, v));
                case "num_threads" -> b.numThreads(parseInt(key, v));
                case "seed" -> b.seed(parseLong(key, v));
                case "enforce_eager" -> b.enforceEager(parseBoolean(key, v));
                case "stall_timeout_s" -> b.stallTimeoutSeconds(parseDouble(key, v));
                case "async_scheduling" -> b.asyncScheduling(parseBoolean(key, v));
                default -> throw new ConfigException("unknown engine option '" + e.getKey() + "'; known options: "
                        + String.join(", ", OPTIONS.keySet()));
            }
        }
        return b.build();
    }

    public Builder toBuilder() {
        return new Builder().model(model).device(device).deviceOrdinal(deviceOrdinal).dtype(dtype).blockSize(blockSize)
                .maxNumSeqs(maxNumSeqs).maxNumBatchedTokens(maxNumBatchedTokens).maxModelLen(maxModelLen)
                .numKvBlocks(numKvBlocks).cpuKvCacheBytes(cpuKvCacheBytes).gpuMemoryUtilization(gpuMemoryUtilization)
                .enablePrefixCaching(enablePrefixCaching).maxInFlight(maxInFlight).numThreads(numThreads).seed(seed)
                .enforceEager(enforceEager).stallTimeoutSeconds(stallTimeoutSeconds).asyncScheduling(asyncScheduling);
    }

    /** Mutable builder with the documented defaults. */
    public static final class Builder {
        private Path model;
        private String device = "cpu";
        private int deviceOrdinal;
        private String dtype = "auto";
        private int blockSize = 16;
        private int maxNumSeqs = 256;
        private int maxNumBatchedTokens = 4096;
        private int maxModelLen;
        private int numKvBlocks;
        private long cpuKvCacheBytes = 512L << 20;
        private double gpuMemoryUtilization = 0.90;
        private boolean enablePrefixCaching = true;
        private int maxInFlight = 4096;
        private int numThreads;
        private long seed;
        private boolean enforceEager;
        private double stallTimeoutSeconds = 600;
        private boolean asyncScheduling = true;

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

        public EngineConfig build() {
            return new EngineConfig(model, device, deviceOrdinal, dtype, blockSize, maxNumSeqs, maxNumBatchedTokens,
                    maxModelLen, numKvBlocks, cpuKvCacheBytes, gpuMemoryUtilization, enablePrefixCaching, maxInFlight,
                    numThreads, seed, enforceEager, stallTimeoutSeconds, asyncScheduling);
        }
    }
}
