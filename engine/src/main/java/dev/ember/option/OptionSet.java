package dev.ember.option;

import dev.ember.ConfigException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A registry of {@link Option}s: resolves a name given by a user (any case, dashes or underscores) to its option,
 * or fails suggesting the closest known name; canonicalizes option maps; lists and documents the options (the
 * command line's help, the generated {@code conf/engine.properties}). Immutable and thread-safe.
 *
 * <p>The engine's set is {@code EngineOptions.ALL} plus {@code SamplingOptions.ALL}; the Spark connector's
 * {@code EmberOptions.REGISTRY} adds its own. How to add an option: docs/ARCHITECTURE.md, "Options".
 */
public final class OptionSet {
    private final Map<String, Option<?>> byName;
    /** Names options had before (squashed: lower case, no separators) to today's: suggested, never accepted. */
    private final Map<String, String> formerNames;

    private OptionSet(Map<String, Option<?>> byName, Map<String, String> formerNames) {
        this.byName = Collections.unmodifiableMap(byName);
        this.formerNames = Map.copyOf(formerNames);
    }

    /** A set of {@code options} in this order; a name given twice is a programming error. */
    public static OptionSet of(Collection<? extends Option<?>> options) {
        Map<String, Option<?>> m = new LinkedHashMap<>();
        for (Option<?> o : options) {
            if (m.put(o.name(), o) != null) {
                throw new IllegalArgumentException("option " + o.name() + " declared twice");
            }
        }
        return new OptionSet(m, Map.of());
    }

    /**
     * This set, suggesting today's name for a former one ({@code onError} -> {@code fail_on_error}) where the
     * spelling alone would not lead there. Former names are refused like any unknown name.
     */
    public OptionSet withFormerNames(Map<String, String> formerToCurrent) {
        Map<String, String> f = new LinkedHashMap<>(formerNames);
        formerToCurrent.forEach((former, current) -> {
            if (!byName.containsKey(current)) {
                throw new IllegalArgumentException("former name " + former + " points to unknown option " + current);
            }
            f.put(squash(former), current);
        });
        return new OptionSet(new LinkedHashMap<>(byName), f);
    }

    /** The union of several sets, in order. */
    public static OptionSet union(OptionSet... sets) {
        List<Option<?>> all = new ArrayList<>();
        for (OptionSet s : sets) {
            all.addAll(s.all());
        }
        return of(all);
    }

    /** Every option, in declaration order. */
    public List<Option<?>> all() {
        return List.copyOf(byName.values());
    }

    /** The options of the given scopes, in declaration order. */
    public List<Option<?>> inScope(Scope first, Scope... rest) {
        Set<Scope> scopes = EnumSet.of(first, rest);
        return byName.values().stream().filter(o -> scopes.contains(o.scope())).toList();
    }

    /** Whether {@code name} (exactly, canonical spelling) is an option of this set. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * The option {@code name} designates: matched ignoring case and surrounding blanks, with {@code -} read as
     * {@code _}. An unknown name throws a {@link ConfigException} with the closest known name, or all of them.
     */
    public Option<?> get(String name) {
        Option<?> o = name == null ? null : byName.get(normalize(name));
        if (o == null) {
            throw new ConfigException(unknownMessage(name));
        }
        return o;
    }

    /**
     * {@code options} with canonical names, in the map's order; an unknown name fails, and so does one option given
     * in two spellings ({@code max_tokens} and {@code Max-Tokens}) with different values: which one won would depend
     * on the map's iteration order (a HashMap's), not on the user. The same value twice (blanks aside) is no conflict.
     */
    public Map<String, String> canonicalize(Map<String, String> options) {
        Canonicalizer c = canonicalizer();
        options.forEach((name, value) -> c.put(name, name, value));
        return c.values();
    }

    /** An empty {@link Canonicalizer} of this set's names. */
    public Canonicalizer canonicalizer() {
        return new Canonicalizer();
    }

    /**
     * {@link #canonicalize} one entry at a time, for a caller that reads entries from elsewhere (a Spark conf, a
     * properties file) and says which entry a failure came from. Mutable, not thread-safe: one per map.
     */
    public final class Canonicalizer {
        private final Map<String, String> values = new LinkedHashMap<>();
        /** The spelling each canonical name was first given in. */
        private final Map<String, String> givenAs = new HashMap<>();

        private Canonicalizer() {
        }

        /**
         * Puts {@code value} under the canonical name of the option {@code name} designates (an unknown name fails);
         * {@code given} is how the user wrote it, for the message when another spelling gave another value: the name
         * itself, or the key it came under ({@code spark.ember.Max-Tokens}).
         */
        public void put(String name, String given, String value) {
            String canonical = get(name).name();
            String first = givenAs.putIfAbsent(canonical, given);
            if (first != null) {
                String before = values.get(canonical);
                if (!(before == null ? value == null : value != null && before.trim().equals(value.trim()))) {
                    throw new ConfigException("option '" + canonical + "' is given twice with different values, as '"
                            + first + "' = '" + before + "' and as '" + given + "' = '" + value + "'; give it once");
                }
            }
            values.put(canonical, value);
        }

        /** The values put so far by canonical name, in the order first given; a new map the caller may change. */
        public Map<String, String> values() {
            return new LinkedHashMap<>(values);
        }
    }

    /** The closest known name to {@code name}, or null when none is close. */
    public String suggest(String name) {
        if (name == null) {
            return null;
        }
        String squashed = squash(name);
        if (formerNames.containsKey(squashed)) {
            return formerNames.get(squashed);
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String known : byName.keySet()) {
            int d = distance(squashed, squash(known));
            if (d < bestDistance) {
                best = known;
                bestDistance = d;
            }
        }
        // Same letters without separators (maxTokens, MaxTokens, max-tokens) or a typo or two away.
        int tolerance = Math.max(1, Math.min(3, squashed.length() / 4));
        return bestDistance <= tolerance ? best : null;
    }

    /** "unknown Ember option 'x'; did you mean 'y'?" or, with nothing close, the list of known names. */
    public String unknownMessage(String name) {
        String suggestion = suggest(name);
        if (suggestion != null) {
            return "unknown Ember option '" + name + "'; did you mean '" + suggestion + "'?";
        }
        return "unknown Ember option '" + name + "'; known options: " + String.join(", ", new TreeMap<>(byName).keySet());
    }

    /**
     * The options as a Java properties template, every entry commented out with its default: the text of
     * {@code conf/engine.properties}.
     *
     * @param sections a heading per scope group, in order; options of scopes not listed are left out
     */
    public String propertiesTemplate(String header, Map<String, List<Scope>> sections) {
        StringBuilder b = new StringBuilder(header);
        for (Map.Entry<String, List<Scope>> section : sections.entrySet()) {
            b.append("\n# ---- ").append(section.getKey()).append('\n');
            for (Option<?> o : byName.values()) {
                if (section.getValue().contains(o.scope())) {
                    b.append("# ").append(o.doc()).append(" [").append(o.allowed()).append("]\n");
                    b.append('#').append(o.name()).append('=')
                            .append(o.defaultValue() == null ? "" : String.valueOf(o.defaultValue())).append('\n');
                }
            }
        }
        return b.toString();
    }

    static String normalize(String name) {
        return name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    }

    private static String squash(String name) {
        return normalize(name).replace("_", "");
    }

    /** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
    private static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(d[i - 1][j - 1] + cost, Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1));
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
