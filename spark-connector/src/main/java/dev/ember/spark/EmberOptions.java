package dev.ember.spark;

import dev.ember.ConfigException;
import dev.ember.api.EngineOptions;
import dev.ember.option.Check;
import dev.ember.option.Option;
import dev.ember.option.OptionSet;
import dev.ember.option.Scope;
import dev.ember.sampling.SamplingOptions;
import org.apache.spark.SparkConf;
import scala.Tuple2;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The one option registry of the connector: the engine's options ({@link EngineOptions}, e.g. {@code model},
 * {@code device}, {@code max_num_seqs}), the sampling options ({@link SamplingOptions}, e.g. {@code max_tokens},
 * {@code temperature}) and the connector's own (below, e.g. {@code fail_on_error}), all snake_case, in one
 * {@link #REGISTRY}. Names match ignoring case; an unknown name fails suggesting the closest known one.
 *
 * <p>A value comes from, lowest precedence first: the properties file ({@code conf_file}; by default
 * {@code $EMBER_CONF_DIR/engine.properties} when that variable is set), the Spark conf as
 * {@code spark.ember.<name>}, then the function's, reader's or transformer's own options ({@link #merge}). Each
 * option's {@link Scope} says where it takes effect, and an option given directly where it has no effect is refused
 * there ({@link #checkGivenTo}). Values are checked and typed by {@link EmberSettings#resolve}, on the driver.
 * How to add an option: docs/ARCHITECTURE.md, "Options".
 */
public final class EmberOptions {
    /** Prefix of the options in the Spark conf. */
    public static final String SPARK_CONF_PREFIX = "spark.ember.";

    public static final Option<Boolean> FAIL_ON_ERROR = Option.bool("fail_on_error", Scope.CALL, false,
            "true: a bad row (null, empty or too long prompt, bad per-row option) fails the job naming the row;"
                    + " false: the row gets a null text and its message in 'error'");
    public static final Option<String> SYSTEM_PROMPT = Option.string("system_prompt", Scope.CALL, null,
            Check.any("any text"), "a system message; with it each prompt becomes the user message of a chat rendered"
                    + " with the model's chat template");
    public static final Option<Boolean> CHAT = Option.bool("chat", Scope.CALL, false,
            "render each plain prompt as one user message through the model's chat template");
    public static final Option<String> CACHE_DIR = Option.string("cache_dir", Scope.CALL, null,
            Check.nonBlank("a directory path"), "executor-local directory where remote (Hadoop URI) checkpoints and the"
                    + " demo model are copied once").defaultShownAs("<java.io.tmpdir>/ember-models");
    public static final Option<Integer> MAX_IN_FLIGHT_PER_TASK = Option.integer("max_in_flight_per_task", Scope.CALL,
            512, Check.atLeast(1), "requests one task keeps submitted to the engine");
    public static final Option<String> CONF_FILE = Option.string("conf_file", Scope.CALL, null,
            Check.nonBlank("a properties file path"), "a properties file of options with the lowest precedence")
            .defaultShownAs("$EMBER_CONF_DIR/engine.properties when EMBER_CONF_DIR is set");
    public static final Option<String> INPUT = Option.string("input", Scope.READER, null,
            Check.nonBlank("a path or a table name"), "format(\"llm\"): the input dataset (or load(path))")
            .defaultShownAs("required there");
    public static final Option<String> INPUT_FORMAT = Option.string("input_format", Scope.READER, null,
            Check.nonBlank(dev.ember.spark.InputFormats.DESCRIPTION),
            "format(\"llm\"): the input's format (dev.ember.spark.InputFormats, as the examples read it)")
            .defaultShownAs("from the input's extension (.jsonl, .json, .csv, .orc, .txt), else parquet; a name the"
                    + " catalog knows is a table");
    public static final Option<String> PROMPT_COLUMN = Option.string("prompt_column", Scope.READER, "prompt",
            Check.nonBlank("a column name"), "format(\"llm\"): the input's string column of prompts");
    public static final Option<String> OUTPUT_COLUMN = Option.string("output_column", Scope.READER, "generation",
            Check.nonBlank("a column name"), "format(\"llm\"): the struct column of each row's generation, after"
                    + " the input's columns");
    public static final Option<Boolean> PRELOAD = Option.bool("preload", Scope.EXECUTOR, false,
            "EmberPlugin loads the engine of the spark.ember.* options when the executor starts");
    public static final Option<Double> PRICE_PER_GPU_HOUR = Option.number("price_per_gpu_hour", Scope.JOB, 0.0,
            Check.nonNegative(), "price of one device-hour for the job report's cost estimate; 0 = no estimate");
    public static final Option<Double> PROGRESS_INTERVAL_SECONDS = Option.number("progress_interval_seconds",
            Scope.JOB, 10.0, Check.positive(), "seconds between the driver's progress lines");

    /** The connector's own options. */
    public static final OptionSet CONNECTOR = OptionSet.of(List.of(FAIL_ON_ERROR, SYSTEM_PROMPT, CHAT, CACHE_DIR,
            MAX_IN_FLIGHT_PER_TASK, CONF_FILE, INPUT, INPUT_FORMAT, PROMPT_COLUMN, OUTPUT_COLUMN, PRELOAD, PRICE_PER_GPU_HOUR,
            PROGRESS_INTERVAL_SECONDS));

    /** Every option the connector knows: engine, sampling, connector. */
    public static final OptionSet REGISTRY = OptionSet.union(EngineOptions.ALL, SamplingOptions.ALL, CONNECTOR)
            .withFormerNames(Map.of("onError", FAIL_ON_ERROR.name()));

    /** Scopes a generate() / llm_generate / LlmTransformer call reads from its own options. */
    public static final Set<Scope> CALL_SCOPES = Set.copyOf(EnumSet.of(Scope.ENGINE, Scope.REQUEST, Scope.CALL));
    /** Scopes format("llm") reads from its options. */
    public static final Set<Scope> READER_SCOPES = Set.copyOf(EnumSet.of(Scope.ENGINE, Scope.REQUEST, Scope.CALL,
            Scope.READER));
    /** Scopes that may vary per row. */
    public static final Set<Scope> ROW_SCOPES = Set.of(Scope.REQUEST);

    private EmberOptions() {
    }

    /** The canonical spelling of an option name, or a {@link ConfigException} suggesting the closest one. */
    public static String canonical(String name) {
        return REGISTRY.get(name).name();
    }

    /**
     * {@code options} with canonical names ({@link OptionSet#canonicalize}): an unknown name fails, and so does one
     * option given in two spellings ({@code max_tokens} and {@code Max-Tokens}) with different values.
     */
    public static Map<String, String> canonicalize(Map<String, String> options) {
        return REGISTRY.canonicalize(options);
    }

    /**
     * Refuses options given to {@code where} (e.g. "generate()") that it does not read: an option outside
     * {@code scopes} fails naming the option and where it takes effect. Returns the options canonicalized.
     */
    public static Map<String, String> checkGivenTo(String where, Map<String, String> options, Set<Scope> scopes) {
        Map<String, String> canonical = canonicalize(options);
        for (String name : canonical.keySet()) {
            Option<?> o = REGISTRY.get(name);
            if (!scopes.contains(o.scope())) {
                throw new ConfigException("option '" + name + "' is " + o.scope().description() + "; " + where
                        + " does not read it" + (o.scope() == Scope.ENGINE_REQUEST
                        ? " (the connector's result has no field for it)" : ""));
            }
        }
        return canonical;
    }

    /**
     * The entries of {@code options} whose option is of one of {@code scopes} (canonical names): a job's options
     * split between what its generate() calls read ({@link #CALL_SCOPES}) and what EmberProgress reads.
     */
    public static Map<String, String> only(Map<String, String> options, Set<Scope> scopes) {
        Map<String, String> out = new LinkedHashMap<>();
        canonicalize(options).forEach((k, v) -> {
            if (scopes.contains(REGISTRY.get(k).scope())) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Every entry of a Spark conf as a map, for {@link #merge}. */
    public static Map<String, String> entries(SparkConf conf) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Tuple2<String, String> t : conf.getAll()) {
            out.put(t._1(), t._2());
        }
        return out;
    }

    /**
     * The {@code spark.ember.*} entries of a Spark conf, prefix removed, canonicalized; a failure (an unknown name,
     * two spellings with different values) names the conf entry.
     */
    public static Map<String, String> fromSparkConf(Map<String, String> sparkConf) {
        OptionSet.Canonicalizer out = REGISTRY.canonicalizer();
        // sorted, so that of two spellings the message names the same one first on every JVM
        for (Map.Entry<String, String> e : new TreeMap<>(sparkConf).entrySet()) {
            if (e.getKey().startsWith(SPARK_CONF_PREFIX)) {
                try {
                    out.put(e.getKey().substring(SPARK_CONF_PREFIX.length()), e.getKey(), e.getValue());
                } catch (ConfigException ex) {
                    throw new ConfigException("Spark conf '" + e.getKey() + "': " + ex.getMessage());
                }
            }
        }
        return out.values();
    }

    /**
     * The value the Spark conf gives {@code option}, in any spelling ({@code spark.ember.PRELOAD}), or null. For the
     * readers of one option outside a query (the executor plugin, the progress listener): entries of other options,
     * or that are not options, are left to the queries' own checks, so a typo elsewhere does not stop them. Two
     * spellings with different values fail naming both ({@link #fromSparkConf}).
     */
    public static String confValue(Map<String, String> sparkConf, Option<?> option) {
        Map<String, String> entries = new HashMap<>();
        sparkConf.forEach((key, value) -> {
            if (key.startsWith(SPARK_CONF_PREFIX) && designates(key.substring(SPARK_CONF_PREFIX.length()), option)) {
                entries.put(key, value);
            }
        });
        return fromSparkConf(entries).get(option.name());
    }

    /** Whether {@code name} is a spelling of {@code option}'s name; an unknown name is not. */
    private static boolean designates(String name, Option<?> option) {
        try {
            return canonical(name).equals(option.name());
        } catch (ConfigException unknown) {
            return false;
        }
    }

    /** The options of a properties file, canonicalized; a missing or unreadable file fails naming it. */
    public static Map<String, String> fromPropertiesFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw ConfigException.invalid(CONF_FILE.name(), file, "an existing properties file");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Ember options file " + file, e);
        }
        OptionSet.Canonicalizer out = REGISTRY.canonicalizer();
        for (String name : new TreeSet<>(p.stringPropertyNames())) {
            try {
                out.put(name, name, p.getProperty(name).trim());
            } catch (ConfigException ex) {
                throw new ConfigException(file + ": " + ex.getMessage());
            }
        }
        return out.values();
    }

    /**
     * Merges the three sources (properties file &lt; Spark conf &lt; call options) into one canonical map.
     *
     * @param sparkConf   all Spark conf entries (only {@code spark.ember.*} are read)
     * @param callOptions the function's or reader's options
     * @param env         environment variables ({@code EMBER_CONF_DIR})
     */
    public static Map<String, String> merge(Map<String, String> sparkConf, Map<String, String> callOptions,
                                            Map<String, String> env) {
        Map<String, String> conf = fromSparkConf(sparkConf);
        Map<String, String> call = canonicalize(callOptions);
        String file = call.getOrDefault(CONF_FILE.name(), conf.get(CONF_FILE.name()));
        boolean fromEnv = file == null && env.get("EMBER_CONF_DIR") != null;
        if (fromEnv) {
            file = Path.of(env.get("EMBER_CONF_DIR"), "engine.properties").toString();
        }
        Map<String, String> merged = new LinkedHashMap<>();
        if (file != null) {
            try {
                merged.putAll(fromPropertiesFile(Path.of(file)));
            } catch (ConfigException e) {
                // the user set no conf_file: say where the path came from
                throw fromEnv ? new ConfigException("EMBER_CONF_DIR is " + env.get("EMBER_CONF_DIR") + ", so the"
                        + " options file " + file + " is read by default: " + e.getMessage() + " (create it, set"
                        + " conf_file, or unset EMBER_CONF_DIR)") : e;
            }
        }
        merged.putAll(conf);
        merged.putAll(call);
        return merged;
    }

    /** The options table of spark-connector/README.md: one row per option (name, where it is read, meaning). */
    public static String markdownTable() {
        StringBuilder b = new StringBuilder("| option | where | meaning [allowed] (default) |\n| --- | --- | --- |\n");
        for (Option<?> o : REGISTRY.all()) {
            String where = switch (o.scope()) {
                case ENGINE -> "engine";
                case REQUEST -> "sampling, per row too";
                case ENGINE_REQUEST -> "engine CLI/API only";
                case CALL -> "call";
                case READER -> "format(\"llm\")";
                case JOB -> "job report (conf, EmberProgress)";
                case EXECUTOR -> "executor plugin (conf)";
            };
            b.append("| `").append(o.name()).append("` | ").append(where).append(" | ")
                    .append(o.describe().replace("|", "\\|")).append(" |\n");
        }
        return b.toString();
    }

    /** The text of {@code conf/engine.properties}: every option, commented out with its default. */
    public static String propertiesTemplate() {
        Map<String, List<Scope>> sections = new LinkedHashMap<>();
        sections.put("Engine options (the engine's identity: calls with different values get different engines)",
                List.of(Scope.ENGINE));
        sections.put("Sampling options (defaults of every request; the Spark connector also takes them per row)",
                List.of(Scope.REQUEST));
        sections.put("Engine command line and Java API only (the Spark connector refuses them)",
                List.of(Scope.ENGINE_REQUEST));
        sections.put("Spark connector, per call (generate(), llm_generate, format(\"llm\"), LlmTransformer)",
                List.of(Scope.CALL));
        sections.put("Spark connector, format(\"llm\") only", List.of(Scope.READER));
        sections.put("Spark connector, the driver's job report and progress lines (not call options)",
                List.of(Scope.JOB));
        sections.put("Spark connector, the executor plugin (not a call option)", List.of(Scope.EXECUTOR));
        return REGISTRY.propertiesTemplate("""
                # Ember options (generated from EmberOptions.REGISTRY by EmberSettingsTest; do not edit by hand).
                # Every entry is commented out with its default: uncomment to set.
                # One vocabulary everywhere: the engine's command line (--max-tokens or --max_tokens), this file,
                # the Spark conf (spark.ember.<name>), generate()/llm_generate/format("llm") options, LlmTransformer
                # params. Precedence: call option > spark.ember.* > this file (conf_file or
                # $EMBER_CONF_DIR/engine.properties) > built-in default.
                """, sections);
    }
}
