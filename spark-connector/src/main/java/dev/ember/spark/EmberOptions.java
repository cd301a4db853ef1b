package dev.ember.spark;

import dev.ember.ConfigException;
import dev.ember.engine.EngineConfig;
import dev.ember.sampling.SamplingOptions;
import org.apache.spark.SparkConf;
import scala.Tuple2;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every option of the connector, documented in one place, and how their values are merged. Three groups share
 * one flat namespace: the engine's options ({@link EngineConfig#OPTIONS}, e.g. {@code model}, {@code device},
 * {@code max_num_seqs}), the sampling options ({@link SamplingOptions#OPTIONS}, e.g. {@code max_tokens},
 * {@code temperature}) and the connector's own ({@link #CONNECTOR}, e.g. {@code onError}). Names match
 * case-insensitively (Spark's reader options are case-insensitive).
 *
 * <p>A value comes from, lowest precedence first: the properties file ({@code confFile}; by default
 * {@code $EMBER_CONF_DIR/engine.properties} when that variable is set), the Spark conf as
 * {@code spark.ember.<name>}, then the function's or reader's own options. Unknown names fail at planning time
 * with the list of known ones; values are checked by {@link EmberSettings#resolve}.
 */
public final class EmberOptions {
    /** Prefix of the options in the Spark conf. */
    public static final String SPARK_CONF_PREFIX = "spark.ember.";

    public static final String ON_ERROR = "onError";
    public static final String PROMPT_COLUMN = "promptColumn";
    public static final String INPUT = "input";
    public static final String INPUT_FORMAT = "inputFormat";
    public static final String SYSTEM_PROMPT = "systemPrompt";
    public static final String CHAT = "chat";
    public static final String CACHE_DIR = "cacheDir";
    public static final String PRELOAD = "preload";
    public static final String MAX_IN_FLIGHT_PER_TASK = "maxInFlightPerTask";
    public static final String PRICE_PER_GPU_HOUR = "pricePerGpuHour";
    public static final String PROGRESS_INTERVAL_SECONDS = "progressIntervalSeconds";
    public static final String CONF_FILE = "confFile";

    /** The connector's own options with their defaults and meaning. */
    public static final Map<String, String> CONNECTOR;

    static {
        Map<String, String> o = new LinkedHashMap<>();
        o.put(ON_ERROR, "null | fail: a bad row gets its error in the row's 'error' field (null), or fails the job"
                + " naming the row (fail) (default null)");
        o.put(PROMPT_COLUMN, "format(\"llm\"): the input column holding the prompts (default prompt)");
        o.put(INPUT, "format(\"llm\"): the input dataset, a path or a table name (required there)");
        o.put(INPUT_FORMAT, "format(\"llm\"): parquet | json | csv | orc | text ... the input's format (default parquet)");
        o.put(SYSTEM_PROMPT, "a system message; with it the prompt becomes the user message of a chat rendered with"
                + " the model's chat template (default none)");
        o.put(CHAT, "true | false: render plain prompts as one user message through the chat template (default false)");
        o.put(CACHE_DIR, "executor-local directory where remote (Hadoop URI) checkpoints and the demo model are"
                + " copied once (default <java.io.tmpdir>/ember-models)");
        o.put(PRELOAD, "true | false: EmberPlugin loads the engine when the executor starts (default false)");
        o.put(MAX_IN_FLIGHT_PER_TASK, "requests one task keeps submitted to the engine, >= 1 (default 512)");
        o.put(PRICE_PER_GPU_HOUR, "price of one device-hour for the job report's cost estimate, >= 0; 0 = none"
                + " (default 0)");
        o.put(PROGRESS_INTERVAL_SECONDS, "seconds between the driver's progress lines, > 0 (default 10)");
        o.put(CONF_FILE, "a properties file of options with the lowest precedence"
                + " (default $EMBER_CONF_DIR/engine.properties when EMBER_CONF_DIR is set)");
        CONNECTOR = Collections.unmodifiableMap(o);
    }

    private static final Map<String, String> CANONICAL;

    static {
        Map<String, String> c = new TreeMap<>();
        for (String k : EngineConfig.OPTIONS.keySet()) {
            c.put(k.toLowerCase(Locale.ROOT), k);
        }
        for (String k : SamplingOptions.OPTIONS.keySet()) {
            c.put(k.toLowerCase(Locale.ROOT), k);
        }
        for (String k : CONNECTOR.keySet()) {
            c.put(k.toLowerCase(Locale.ROOT), k);
        }
        CANONICAL = Collections.unmodifiableMap(c);
    }

    private EmberOptions() {
    }

    /** Every option: engine, sampling, connector, with its documentation. */
    public static Map<String, String> all() {
        Map<String, String> all = new LinkedHashMap<>(EngineConfig.OPTIONS);
        all.putAll(SamplingOptions.OPTIONS);
        all.putAll(CONNECTOR);
        return Collections.unmodifiableMap(all);
    }

    /** The canonical spelling of an option name, or a {@link ConfigException} listing the known names. */
    public static String canonical(String name) {
        String c = name == null ? null : CANONICAL.get(name.trim().toLowerCase(Locale.ROOT));
        if (c == null) {
            throw new ConfigException("unknown Ember option '" + name + "'; known options: "
                    + String.join(", ", new TreeSet<>(all().keySet())));
        }
        return c;
    }

    /** {@code options} with canonical names; an unknown name fails. Later duplicates (case-insensitive) win. */
    public static Map<String, String> canonicalize(Map<String, String> options) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            out.put(canonical(e.getKey()), e.getValue());
        }
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

    /** The {@code spark.ember.*} entries of a Spark conf, prefix removed, canonicalized. */
    public static Map<String, String> fromSparkConf(Map<String, String> sparkConf) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : new TreeMap<>(sparkConf).entrySet()) {
            if (e.getKey().startsWith(SPARK_CONF_PREFIX)) {
                String name = e.getKey().substring(SPARK_CONF_PREFIX.length());
                try {
                    out.put(canonical(name), e.getValue());
                } catch (ConfigException ex) {
                    throw new ConfigException("Spark conf '" + e.getKey() + "': " + ex.getMessage());
                }
            }
        }
        return out;
    }

    /** The options of a properties file, canonicalized; a missing or unreadable file fails naming it. */
    public static Map<String, String> fromPropertiesFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw ConfigException.invalid(CONF_FILE, file, "an existing properties file");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Ember options file " + file, e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : new TreeSet<>(p.stringPropertyNames())) {
            try {
                out.put(canonical(name), p.getProperty(name).trim());
            } catch (ConfigException ex) {
                throw new ConfigException(file + ": " + ex.getMessage());
            }
        }
        return out;
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
        String file = call.getOrDefault(CONF_FILE, conf.get(CONF_FILE));
        if (file == null && env.get("EMBER_CONF_DIR") != null) {
            file = Path.of(env.get("EMBER_CONF_DIR"), "engine.properties").toString();
        }
        Map<String, String> merged = new LinkedHashMap<>();
        if (file != null) {
            merged.putAll(fromPropertiesFile(Path.of(file)));
        }
        merged.putAll(conf);
        merged.putAll(call);
        return merged;
    }
}
