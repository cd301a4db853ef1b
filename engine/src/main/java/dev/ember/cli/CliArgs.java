package dev.ember.cli;

import dev.ember.ConfigException;
import dev.ember.api.EngineConfig;
import dev.ember.api.EngineOptions;
import dev.ember.option.OptionSet;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingOptions;
import dev.ember.sampling.SamplingParams;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line arguments shared by the entry points: {@code --name value} pairs (dashes and underscores alike),
 * flags, and positional arguments. Engine and sampling options are those of {@link #OPTIONS} (the same registry the
 * Spark connector and {@code conf/engine.properties} use); each entry point names its own extra keys. An unknown
 * name fails suggesting the closest known one.
 */
final class CliArgs {
    /** The options the command line takes by name: the engine's and the sampling options. */
    static final OptionSet OPTIONS = OptionSet.union(EngineOptions.ALL, SamplingOptions.ALL);
    private static final Set<String> FLAGS = Set.of("ignore_eos", "chat", "help", "quiet", "json");

    final Map<String, String> values = new LinkedHashMap<>();
    final List<String> stops = new ArrayList<>();
    final List<String> prompts = new ArrayList<>();
    final List<String> positional = new ArrayList<>();

    static CliArgs parse(String[] args, Set<String> extraKeys) {
        CliArgs a = new CliArgs();
        Set<String> known = new TreeSet<>(extraKeys);
        known.addAll(FLAGS);
        known.addAll(FLAGS);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                a.positional.add(arg);
                continue;
            }
            String key = arg.substring(2).replace('-', '_');
            String value = null;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            }
            if (!known.contains(key)) {
                key = option(key);
            }
            if (FLAGS.contains(key) && value == null) {
                a.values.put(key, "true");
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new ConfigException("option --" + key + " needs a value");
                }
                value = args[++i];
            }
            switch (key) {
                case "stop" -> a.stops.add(value);
                case "prompt" -> a.prompts.add(value);
                default -> a.values.put(key, value);
            }
        }
        return a;
    }

    /** The canonical name of option {@code --key}; an unknown one fails suggesting the closest name. */
    private static String option(String key) {
        try {
            return OPTIONS.get(key).name();
        } catch (ConfigException e) {
            String close = OPTIONS.suggest(key);
            throw new ConfigException("unknown option --" + key.replace('_', '-') + "; "
                    + (close != null ? "did you mean --" + close.replace('_', '-') + "?" : "see --help for the options"));
        }
    }

    boolean flag(String key) {
        return "true".equalsIgnoreCase(values.get(key));
    }

    String get(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    /** Engine settings; without --model, the built-in demo model written to a temporary directory. */
    EngineConfig engineConfig() {
        Map<String, String> options = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (EngineOptions.ALL.contains(e.getKey())) {
                options.put(e.getKey(), e.getValue());
            }
        }
        if (!options.containsKey("model")) {
            try {
                Path dir = Files.createTempDirectory("ember-demo-model");
                DemoModel.write(dir);
                options.put("model", dir.toString());
                System.err.println("no --model given: using the built-in tiny demo model (random weights) in " + dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the demo model", e);
            }
        }
        return EngineConfig.fromOptions(options);
    }

    /**
     * Sampling settings from the sampling options, starting from {@code base}. {@code --guided-json} takes a file
     * holding the schema (or the schema itself when it starts with '{'); {@code --return-type} (a sampling option) a Spark
     * DDL type, turned into its JSON Schema.
     */
    SamplingParams sampling(SamplingParams.Builder base) {
        if (!stops.isEmpty()) {
            base.stop(stops);
        }
        Map<String, String> options = new LinkedHashMap<>(values);
        String schema = options.get("guided_json");
        if (schema != null && !schema.trim().startsWith("{")) {
            try {
                options.put("guided_json", Files.readString(Path.of(schema)));
            } catch (IOException e) {
                throw ConfigException.invalid("guided_json", schema, "a JSON Schema file that can be read (" + e + ")");
            }
        }
        return SamplingOptions.apply(options, base);
    }
}
