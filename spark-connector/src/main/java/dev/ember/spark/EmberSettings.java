package dev.ember.spark;

import dev.ember.ConfigException;
import dev.ember.api.EngineConfig;
import dev.ember.api.EngineOptions;
import dev.ember.option.Option;
import dev.ember.option.Scope;
import dev.ember.sampling.SamplingOptions;
import dev.ember.sampling.SamplingParams;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The resolved, typed options of one generation call (a function call, a reader, a transformer), shipped from the
 * driver to the executors. Built by {@link #resolve} at planning time so that a bad option fails the query before
 * any task runs, naming the option, the value and what is allowed. Per-row options merge onto {@link #sampling}.
 * Immutable and serializable.
 *
 * @param model              the checkpoint as given: a local directory, a Hadoop URI, or {@code demo}
 * @param engineOptions      the engine options other than {@code model}, canonical and checked (sorted; part of
 *                           the engine's identity)
 * @param sampling           the sampling parameters every row starts from
 * @param failOnError        a bad row fails the job (true) or gets its message in 'error' (false)
 * @param cacheDir           the {@code cache_dir} option, or null for the executor's default ({@link #localCacheDir()})
 * @param outputColumn       format("llm"): the name of the generation struct column
 * @param input              format("llm"): the input dataset, or null (only the reader requires it)
 * @param inputFormat        format("llm"): the input's format, or null to take it from the input's name
 */
public record EmberSettings(String model, Map<String, String> engineOptions, SamplingParams sampling,
                            boolean failOnError, String systemPrompt, boolean chat, String cacheDir,
                            int maxInFlightPerTask, String promptColumn, String outputColumn, String input,
                            String inputFormat)
        implements Serializable {

    /** The model value that selects the built-in tiny demo model (random weights). */
    public static final String DEMO_MODEL = "demo";

    public EmberSettings {
        engineOptions = Collections.unmodifiableMap(new TreeMap<>(engineOptions));
    }

    /**
     * Checks and types merged options ({@link EmberOptions#merge}); a bad value fails naming the option. Options
     * the connector does not read (scope {@link Scope#ENGINE_REQUEST}) fail; job and executor options (read from
     * the same Spark conf and file by {@code EmberProgress} and {@code EmberPlugin}) are checked and left out.
     */
    public static EmberSettings resolve(Map<String, String> merged) {
        Map<String, String> options = EmberOptions.canonicalize(merged);
        String model = options.get(EngineOptions.MODEL.name());
        if (model == null || model.isBlank()) {
            throw ConfigException.invalid("model", model, "a checkpoint directory, a Hadoop FileSystem URI"
                    + " (hdfs://, s3a://, file://) or '" + DEMO_MODEL + "' (set it as an option or spark.ember.model)");
        }
        Map<String, String> engine = new TreeMap<>();
        Map<String, String> sampling = new TreeMap<>();
        Map<String, Object> connector = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            Option<?> o = EmberOptions.REGISTRY.get(e.getKey());
            switch (o.scope()) {
                case ENGINE -> {
                    if (o != EngineOptions.MODEL) {
                        engine.put(o.name(), e.getValue());
                    }
                }
                case REQUEST -> sampling.put(o.name(), e.getValue());
                case ENGINE_REQUEST -> throw new ConfigException("option '" + o.name() + "' is " + o.scope().description()
                        + "; the Spark connector's result has no field for it: remove it from the options, the"
                        + " spark.ember.* conf and the properties file");
                default -> connector.put(o.name(), o.parse(e.getValue()));
            }
        }
        // The engine options are checked here with a placeholder model path; the executor resolves the real one.
        Map<String, String> probe = new TreeMap<>(engine);
        probe.put("model", ".");
        EngineConfig.fromOptions(probe);
        SamplingParams params = SamplingOptions.apply(sampling, SamplingParams.builder());
        if (params.guided() != null) {
            // a regex or schema Ember cannot enforce fails the query here, naming the keyword or construct
            params.guided().check();
            if (params.guided().returnType() != null) {
                TypedValues.sparkType(params.guided().returnType());
            }
        }
        return new EmberSettings(model.trim(), engine, params,
                get(connector, EmberOptions.FAIL_ON_ERROR), get(connector, EmberOptions.SYSTEM_PROMPT),
                get(connector, EmberOptions.CHAT), get(connector, EmberOptions.CACHE_DIR),
                get(connector, EmberOptions.MAX_IN_FLIGHT_PER_TASK), get(connector, EmberOptions.PROMPT_COLUMN),
                get(connector, EmberOptions.OUTPUT_COLUMN),
                get(connector, EmberOptions.INPUT), get(connector, EmberOptions.INPUT_FORMAT));
    }

    @SuppressWarnings("unchecked")
    private static <T> T get(Map<String, Object> parsed, Option<T> option) {
        Object v = parsed.get(option.name());
        return v != null ? (T) v : option.defaultValue();
    }

    /**
     * The sampling parameters of one row: {@link #sampling} with {@code rowOptions} merged on (sampling options
     * only). A bad value throws a {@link ConfigException} naming the option.
     */
    public SamplingParams samplingParams(Map<String, String> rowOptions) {
        if (rowOptions.isEmpty()) {
            return sampling;
        }
        Map<String, String> row = EmberOptions.checkGivenTo("a per-row options map (only sampling options may vary"
                + " per row)", rowOptions, EmberOptions.ROW_SCOPES);
        if (row.containsKey(SamplingOptions.RETURN_TYPE.name())) {
            throw ConfigException.invalid(SamplingOptions.RETURN_TYPE.name(), row.get(SamplingOptions.RETURN_TYPE.name()),
                    "return_type per call only: it sets the type of the result's value field (per row, use guided_json)");
        }
        if (sampling.guided() != null && sampling.guided().returnType() != null) {
            // the result's value field has the call's return type: a row generated under another constraint would be
            // parsed as that type (a struct's fields the row's schema leaves out read as nulls)
            for (Option<?> o : List.of(SamplingOptions.GUIDED_CHOICE, SamplingOptions.GUIDED_REGEX,
                    SamplingOptions.GUIDED_JSON)) {
                if (row.get(o.name()) != null) {
                    throw ConfigException.invalid(o.name(), row.get(o.name()), "no per-row constraint on a call with"
                            + " return_type (" + sampling.guided().returnType() + "), whose typed value field every row"
                            + " shares; use guided_json per row on a call without return_type");
                }
            }
        }
        SamplingParams params = SamplingOptions.apply(row, sampling.toBuilder());
        if (params.logprobs() > 0 && sampling.logprobs() == 0) {
            // the result struct is the call's: without logprobs on the call it has no field for the row's
            throw ConfigException.invalid(SamplingOptions.LOGPROBS.name(), row.get(SamplingOptions.LOGPROBS.name()),
                    "0 per row on a call without logprobs (the result's logprobs, confidence and choice_probs fields"
                            + " are added by logprobs >= 1 on the call; set it there, then vary it per row)");
        }
        return params;
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
     * The directory remote checkpoints are copied into on this JVM: the {@code cache_dir} option, or
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
}
