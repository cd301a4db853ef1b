package dev.ember.examples;

import dev.ember.ConfigException;
import dev.ember.spark.EmberOptions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line of an example job: the job's own arguments ({@code --input PATH}, flags such as
 * {@code --resume}) and Ember options, given as {@code --option name=value} (repeatable) or as
 * {@code --name value} for any name of {@link EmberOptions#all()} ({@code --max_tokens 8}, {@code --max-tokens 8}
 * and {@code --fail-on-error true} all work). Anything else fails with a {@link UsageException} naming it.
 */
final class JobArgs {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> options = new LinkedHashMap<>();
    private final Set<String> flagsGiven = new HashSet<>();

    private JobArgs() {
    }

    /**
     * Parses {@code args}.
     *
     * @param valued the job's arguments that take a value (without "--")
     * @param flags  the job's arguments without a value (without "--"); "help" is always one
     */
    static JobArgs parse(String[] args, Set<String> valued, Set<String> flags) {
        JobArgs a = new JobArgs();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new UsageException("unexpected argument '" + arg + "'; arguments are --name value or --flag");
            }
            String name = arg.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq > 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name) || name.equals("help")) {
                if (inline != null) {
                    throw new UsageException("--" + name + " takes no value");
                }
                a.flagsGiven.add(name);
                continue;
            }
            String value = inline;
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException("--" + name + " needs a value");
                }
                value = args[++i];
            }
            if (name.equals("option")) {
                int kv = value.indexOf('=');
                if (kv <= 0) {
                    throw new UsageException("--option needs name=value, got '" + value + "'");
                }
                a.options.put(emberOption(value.substring(0, kv).trim()), value.substring(kv + 1));
            } else if (valued.contains(name)) {
                a.values.put(name, value);
            } else {
                a.options.put(emberOption(name), value);
            }
        }
        return a;
    }

    /** The canonical Ember option for a command-line name ({@code --max-tokens}), or a {@link UsageException}. */
    private static String emberOption(String name) {
        try {
            return EmberOptions.canonical(name);
        } catch (ConfigException e) {
            throw new UsageException("unknown argument --" + name + " (neither an argument of this job nor an Ember"
                    + " option" + (EmberOptions.REGISTRY.suggest(name) != null ? "; did you mean --"
                    + EmberOptions.REGISTRY.suggest(name).replace('_', '-') + "?" : "; --help lists both") + ")");
        }
    }

    boolean flag(String name) {
        return flagsGiven.contains(name);
    }

    String get(String name, String def) {
        return values.getOrDefault(name, def);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null || v.isBlank()) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    int intValue(String name, int def, int min) {
        String v = values.get(name);
        if (v == null) {
            return def;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min) {
                throw new UsageException("--" + name + " must be >= " + min + ", got " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    /** The Ember options given, canonical names, in order. */
    Map<String, String> options() {
        return Collections.unmodifiableMap(options);
    }

    /** The Ember options given over {@code defaults} (defaults lose). */
    Map<String, String> optionsOver(Map<String, String> defaults) {
        Map<String, String> out = new LinkedHashMap<>(defaults);
        out.putAll(options);
        return out;
    }

    /** A comma-separated value as a list of trimmed, non-empty items. */
    static List<String> list(String value) {
        List<String> out = new ArrayList<>();
        for (String s : value.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }
}
