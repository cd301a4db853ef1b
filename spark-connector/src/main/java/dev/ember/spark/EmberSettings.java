package dev.ember.spark;

import dev.ember.ConfigException;
import dev.ember.OptionValues;
import dev.ember.engine.EngineConfig;
import dev.ember.sampling.SamplingOptions;
import dev.ember.sampling.SamplingParams;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The resolved, validated options of one generation call (a function call, a reader, a transformer), shipped
 * from the driver to the executors. Built by {@link #resolve} at planning time so that a bad option fails the
 * query before any task runs, naming the option, the value and what is allowed. Immutable and serializable.
 *
 * @param model           the checkpoint as given: a local directory, a Hadoop URI, or {@code demo}
 * @param engineOptions   the engine options other than {@code model} (sorted; part of the engine's identity)
 * @param samplingOptions the sampling options every row starts from
 * @param cacheDir        the {@code cacheDir} option, or null for the executor's default ({@link #localCacheDir()})
 */
public record EmberSettings(String model, Map<String, String> engineOptions, Map<String, String> samplingOptions,
                            OnError onError, String systemPrompt, boolean chat, String cacheDir, boolean preload,
                            int maxInFlightPerTask, double pricePerGpuHour, double progressIntervalSeconds,
                            String promptColumn, String input, String inputFormat) implements Serializable {

    /** The model value that selects the built-in tiny demo model (random weights). */
    public static final String DEMO_MODEL = "demo";

    /** What a bad row does. */
    public enum OnError {
        /** The row's result has a null text and the message in 'error'; the job goes on. */
        NULL,
        /** The job fails with the row's index and message. */
        FAIL
    }

    public EmberSettings {
        engineOptions = Collections.unmodifiableMap(new TreeMap<>(engineOptions));
        samplingOptions = Collections.unmodifiableMap(new TreeMap<>(samplingOptions));
    }

    /** Validates merged options ({@link EmberOptions#merge}); a bad value fails naming the option. */
    public static EmberSettings resolve(Map<String, String> merged) {
        Map<String, String> options = EmberOptions.canonicalize(merged);
        String model = options.get("model");
        if (model == null || model.isBlank()) {
            throw ConfigException.invalid("model", model, "a checkpoint directory, a Hadoop FileSystem URI"
                    + " (hdfs://, s3a://, file://) or '" + DEMO_MODEL + "' (set it as an option or spark.ember.model)");
        }
        Map<String, String> engine = new TreeMap<>();
        Map<String, String> sampling = new TreeMap<>();
        Map<String, String> connector = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String k = e.getKey();
            if (k.equals("model")) {
                continue;
            }
            if (EngineConfig.OPTIONS.containsKey(k)) {
                engine.put(k, e.getValue());
            } else if (SamplingOptions.isOption(k)) {
                sampling.put(k, e.getValue());
            } else {
                connector.put(k, e.getValue());
            }
        }
        // The engine options are checked here with a placeholder model path; the executor resolves the real one.
        Map<String, String> probe = new TreeMap<>(engine);
        probe.put("model", ".");
        EngineConfig.fromOptions(probe);
        EmberSettings s = new EmberSettings(model.trim(), engine, sampling,
                onError(connector.getOrDefault(EmberOptions.ON_ERROR, "null")),
                connector.get(EmberOptions.SYSTEM_PROMPT),
                OptionValues.parseBoolean(EmberOptions.CHAT, connector.getOrDefault(EmberOptions.CHAT, "false")),
                connector.get(EmberOptions.CACHE_DIR),
                OptionValues.parseBoolean(EmberOptions.PRELOAD, connector.getOrDefault(EmberOptions.PRELOAD, "false")),
                OptionValues.parsePositiveInt(EmberOptions.MAX_IN_FLIGHT_PER_TASK, connector.getOrDefault(EmberOptions.MAX_IN_FLIGHT_PER_TASK, "512")),
                OptionValues.parseNonNegativeDouble(EmberOptions.PRICE_PER_GPU_HOUR, connector.getOrDefault(EmberOptions.PRICE_PER_GPU_HOUR, "0")),
                OptionValues.parsePositiveDouble(EmberOptions.PROGRESS_INTERVAL_SECONDS, connector.getOrDefault(EmberOptions.PROGRESS_INTERVAL_SECONDS, "10")),
                connector.getOrDefault(EmberOptions.PROMPT_COLUMN, "prompt"),
                connector.get(EmberOptions.INPUT),
                connector.getOrDefault(EmberOptions.INPUT_FORMAT, "parquet"));
        SamplingParams params = s.samplingParams(Map.of());
        if (params.guided() != null) {
            // a regex or schema Ember cannot enforce fails the query here, naming the keyword or construct
            params.guided().check();
        }
        if (sampling.containsKey("return_type")) {
            dev.ember.spark.TypedValues.sparkType(sampling.get("return_type"));
        }
        return s;
    }

    /**
     * The sampling parameters of one row: the call's sampling options overridden by {@code rowOptions}
     * (sampling option names only). A bad value throws a {@link ConfigException} naming the option.
     */
    public SamplingParams samplingParams(Map<String, String> rowOptions) {
        Map<String, String> merged = new LinkedHashMap<>(samplingOptions);
        for (Map.Entry<String, String> e : rowOptions.entrySet()) {
            String k = EmberOptions.canonical(e.getKey());
            if (!SamplingOptions.isOption(k)) {
                throw ConfigException.invalid(k, e.getValue(), "only sampling options may vary per row ("
                        + String.join(", ", SamplingOptions.OPTIONS.keySet()) + ")");
            }
            if (k.equals("return_type")) {
                throw ConfigException.invalid(k, e.getValue(), "return_type per call only: it sets the type of the"
                        + " result's value column (per row, use guided_json)");
            }
            merged.put(k, e.getValue());
        }
        return SamplingOptions.apply(merged, SamplingParams.builder());
    }

    /** The engine configuration for a local checkpoint directory and, on a GPU, the task's device ordinal. */
    public EngineConfig engineConfig(Path localModel, Integer gpuOrdinal) {
        Map<String, String> o = new TreeMap<>(engineOptions);
        o.put("model", localModel.toString());
        if (gpuOrdinal != null) {
            o.put("device_ordinal", gpuOrdinal.toString());
        }
        return EngineConfig.fromOptions(o);
    }

    /**
     * The directory remote checkpoints are copied into on this JVM: the {@code cacheDir} option, or
     * {@code <java.io.tmpdir>/ember-models} of the executor calling this (not the driver's: its temp dir may not
     * exist on the executors' hosts).
     */
    public Path localCacheDir() {
        return cacheDir != null ? Path.of(cacheDir) : Path.of(System.getProperty("java.io.tmpdir"), "ember-models");
    }

    /** "cpu" or "cuda". */
    public String device() {
        return engineOptions.getOrDefault("device", "cpu").trim().toLowerCase(Locale.ROOT);
    }

    private static OnError onError(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "null" -> OnError.NULL;
            case "fail" -> OnError.FAIL;
            default -> throw ConfigException.invalid(EmberOptions.ON_ERROR, v, "null, fail");
        };
    }
}
