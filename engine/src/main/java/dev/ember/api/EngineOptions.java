package dev.ember.api;

import dev.ember.option.Check;
import dev.ember.option.Option;
import dev.ember.option.OptionSet;
import dev.ember.option.Scope;

import java.util.List;

/**
 * The engine's options ({@link Scope#ENGINE}), each described once: name, type, default, check, meaning.
 * {@link EngineConfig#fromOptions} reads them; {@link EngineConfig}'s constructor checks values with them; its
 * builder starts from their defaults. To add one: a constant here, an entry in {@link #ALL}, a record component
 * and a {@code case} in {@link EngineConfig#fromOptions}.
 */
public final class EngineOptions {
    private static final Scope S = Scope.ENGINE;

    public static final Option<String> MODEL = Option.string("model", S, null,
            Check.nonBlank("a checkpoint directory"), "checkpoint directory: config.json, *.safetensors, tokenizer.json"
                    + " (Spark: also hdfs://, s3a://, file:// URIs, or 'demo')").defaultShownAs("required");
    public static final Option<String> DEVICE = Option.string("device", S, "cpu", Check.oneOf("cpu", "cuda"),
            "where the model runs");
    public static final Option<Integer> DEVICE_ORDINAL = Option.integer("device_ordinal", S, 0, Check.atLeast(0),
            "GPU ordinal for cuda (on Spark executors the task's GPU address wins)");
    public static final Option<String> DTYPE = Option.string("dtype", S, "auto",
            Check.oneOf("auto", "bfloat16", "float16", "float32"),
            "cuda compute dtype (auto: bf16, or fp16 for fp16 checkpoints); the CPU computes in float32");
    public static final Option<Integer> BLOCK_SIZE = Option.integer("block_size", S, 16, Check.between(1, 256),
            "tokens per KV-cache block");
    public static final Option<Integer> MAX_NUM_SEQS = Option.integer("max_num_seqs", S, 256, Check.atLeast(1),
            "most sequences per step");
    public static final Option<Integer> MAX_NUM_BATCHED_TOKENS = Option.integer("max_num_batched_tokens", S, 4096,
            Check.atLeast(1).described("an integer >= block_size"), "token budget per step (prefill chunks + decodes)");
    public static final Option<Integer> MAX_MODEL_LEN = Option.integer("max_model_len", S, 0,
            // one token of context leaves no room for an output token
            new Check<>(v -> v == 0 || v >= 2, "0 (the model's limit) or an integer >= 2 (a prompt token and an output"
                    + " token)"),
            "longest prompt + output; 0 = the model's max_position_embeddings");
    public static final Option<Integer> NUM_KV_BLOCKS = Option.integer("num_kv_blocks", S, 0,
            Check.atLeast(0).described("0 (automatic) or a positive integer"),
            "cap on KV-cache blocks; 0 = what the memory budget allows");
    public static final Option<Integer> CPU_KV_CACHE_MB = Option.integer("cpu_kv_cache_mb", S, 512,
            Check.atLeast(1).described("a positive number of MiB"), "KV-cache budget of the CPU backend in MiB");
    public static final Option<Double> GPU_MEMORY_UTILIZATION = Option.number("gpu_memory_utilization", S, 0.90,
            Check.rangeOpenLow(0, 1), "fraction of the GPU's memory for weights, activations and KV cache");
    public static final Option<Boolean> ENABLE_PREFIX_CACHING = Option.bool("enable_prefix_caching", S, true,
            "reuse full KV blocks of identical prompt prefixes");
    public static final Option<Integer> MAX_IN_FLIGHT = Option.integer("max_in_flight", S, 4096, Check.atLeast(1),
            "most unfinished submitted requests before submit() waits");
    public static final Option<Integer> NUM_THREADS = Option.integer("num_threads", S, 0,
            Check.atLeast(0).described("0 (automatic) or a positive integer"),
            "CPU backend threads; 0 = automatic: on a Spark executor the cores of its task slots (local[N]: N, else"
                    + " spark.executor.cores, in whole spark.task.cpus), elsewhere all processors the JVM sees; never"
                    + " more than the JVM sees (container limits apply). One pool per engine, shared by all tasks of an"
                    + " executor; a positive value wins");
    public static final Option<Integer> GUIDED_MASK_THREADS = Option.integer("guided_mask_threads", S, 2,
            Check.between(0, 64).described("0 (on the step loop) or an integer in [1, 64]"),
            "threads that build guided decoding's token masks off the step loop (a request waits for its mask while"
                    + " others run); 0 builds them on the step loop");
    public static final Option<Long> SEED = Option.longInt("seed", S, 0L,
            "job seed, from which requests without their own seed derive theirs");
    public static final Option<Boolean> ENFORCE_EAGER = Option.bool("enforce_eager", S, false,
            "cuda without CUDA graphs");
    public static final Option<Boolean> ASYNC_SCHEDULING = Option.bool("async_scheduling", S, true,
            "cuda plans and launches the next decode step while the GPU runs this one (false: one step at a time,"
                    + " same tokens)");
    public static final Option<Double> STALL_TIMEOUT_S = Option.number("stall_timeout_s", S, 600.0, Check.nonNegative(),
            "seconds one engine step may run before its requests fail with a timeout (a hung GPU); 0 = never");

    /** Every engine option, in the order the docs list them. */
    public static final OptionSet ALL = OptionSet.of(List.of(MODEL, DEVICE, DEVICE_ORDINAL, DTYPE, BLOCK_SIZE,
            MAX_NUM_SEQS, MAX_NUM_BATCHED_TOKENS, MAX_MODEL_LEN, NUM_KV_BLOCKS, CPU_KV_CACHE_MB, GPU_MEMORY_UTILIZATION,
            ENABLE_PREFIX_CACHING, MAX_IN_FLIGHT, NUM_THREADS, SEED, ENFORCE_EAGER, ASYNC_SCHEDULING, STALL_TIMEOUT_S,
            GUIDED_MASK_THREADS));

    private EngineOptions() {
    }
}
