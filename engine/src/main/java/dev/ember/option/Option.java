package dev.ember.option;

import dev.ember.ConfigException;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * One option, described once: its snake_case name, value type, default, documentation, the check its values must
 * pass, and its {@link Scope} (where it takes effect). Options are constants of the class that reads them
 * ({@code EngineOptions}, {@code SamplingOptions}, the connector's {@code EmberOptions}) and are collected into an
 * {@link OptionSet}, which resolves names; everything that lists, documents or checks options reads them from there.
 * Immutable and thread-safe.
 *
 * <p>Numbers and booleans ignore surrounding blanks; strings are kept as given (a stop string may be a space).
 *
 * @param <T> the parsed value's type: Integer, Long, Double, Boolean, String, or a structured type with its own parser
 */
public final class Option<T> {
    private final String name;
    private final Scope scope;
    private final Class<T> type;
    private final T defaultValue;
    private final String defaultText;
    private final String doc;
    private final Function<String, T> parser;
    private final String parseAllowed;
    private final Check<T> check;

    private Option(String name, Scope scope, Class<T> type, T defaultValue, String defaultText, String doc,
                   Function<String, T> parser, String parseAllowed, Check<T> check) {
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("option names are snake_case: " + name);
        }
        this.name = name;
        this.scope = Objects.requireNonNull(scope, "scope");
        this.type = type;
        this.defaultValue = defaultValue;
        this.defaultText = defaultText != null ? defaultText : defaultValue == null ? "none" : String.valueOf(defaultValue);
        this.doc = doc;
        this.parser = parser;
        this.parseAllowed = parseAllowed;
        this.check = check;
        if (defaultValue != null && !check.accepts(defaultValue)) {
            throw new IllegalArgumentException("option " + name + ": default " + defaultValue + " fails its own check");
        }
    }

    /** An integer option. */
    public static Option<Integer> integer(String name, Scope scope, Integer defaultValue, Check<Integer> check, String doc) {
        return new Option<>(name, scope, Integer.class, defaultValue, null, doc, Option::parseInt, "an integer", check);
    }

    /** A 64-bit integer option. */
    public static Option<Long> longInt(String name, Scope scope, Long defaultValue, String doc) {
        return new Option<>(name, scope, Long.class, defaultValue, null, doc, Option::parseLong, "an integer",
                Check.any("an integer"));
    }

    /** A floating-point option. */
    public static Option<Double> number(String name, Scope scope, Double defaultValue, Check<Double> check, String doc) {
        return new Option<>(name, scope, Double.class, defaultValue, null, doc, Option::parseDouble, "a number", check);
    }

    /** A boolean option: {@code true} or {@code false}, any case. */
    public static Option<Boolean> bool(String name, Scope scope, boolean defaultValue, String doc) {
        return new Option<>(name, scope, Boolean.class, defaultValue, null, doc, Option::parseBoolean, "true, false",
                Check.any("true, false"));
    }

    /** A string option (trimmed). */
    public static Option<String> string(String name, Scope scope, String defaultValue, Check<String> check, String doc) {
        return new Option<>(name, scope, String.class, defaultValue, null, doc, v -> v, check.allowed(), check);
    }

    /** An option with its own parser, which throws {@link ConfigException} (or returns null) for a bad value. */
    public static <T> Option<T> custom(String name, Scope scope, Class<T> type, T defaultValue, String allowed,
                                       Function<String, T> parser, String doc) {
        return new Option<>(name, scope, type, defaultValue, null, doc, parser, allowed, Check.any(allowed));
    }

    /** This option with the default shown as {@code text} (a computed default: "the model's limit"). */
    public Option<T> defaultShownAs(String text) {
        return new Option<>(name, scope, type, defaultValue, text, doc, parser, parseAllowed, check);
    }

    /**
     * Parses and checks a string value (surrounding blanks are ignored); a bad value throws a
     * {@link ConfigException} naming this option, the value and what is allowed.
     */
    public T parse(String raw) {
        T v;
        try {
            v = raw == null ? null : parser.apply(raw);
        } catch (ConfigException e) {
            throw e;
        } catch (RuntimeException e) {
            v = null;
        }
        if (v == null || !check.accepts(v)) {
            throw ConfigException.invalid(name, raw, check.allowed()); // the value as the user wrote it
        }
        return v;
    }

    /** Checks a typed value (what a builder was given); a bad one throws a {@link ConfigException}. */
    public T check(T value) {
        if (!check.accepts(value)) {
            throw ConfigException.invalid(name, value, check.allowed());
        }
        return value;
    }

    public String name() {
        return name;
    }

    public Scope scope() {
        return scope;
    }

    /** The parsed value's type (Integer, Long, Double, Boolean, String, ...). */
    public Class<T> type() {
        return type;
    }

    /** The default, or null where the option has none (or a computed one, see {@link #defaultText()}). */
    public T defaultValue() {
        return defaultValue;
    }

    /** The default in words: the value, "none", or how it is computed. */
    public String defaultText() {
        return defaultText;
    }

    /** What the option does, one sentence. */
    public String doc() {
        return doc;
    }

    /** What values are allowed, in words. */
    public String allowed() {
        return check.allowed();
    }

    /** "doc [allowed] (default d)": the one-line description the command line, the docs and the conf file show. */
    public String describe() {
        return doc + " [" + allowed() + "] (default " + defaultText + ")";
    }

    @Override
    public String toString() {
        return name;
    }

    private static Integer parseInt(String v) {
        return Integer.parseInt(v.trim());
    }

    private static Long parseLong(String v) {
        return Long.parseLong(v.trim());
    }

    private static Double parseDouble(String v) {
        double d = Double.parseDouble(v.trim());
        return Double.isNaN(d) ? null : d;
    }

    private static Boolean parseBoolean(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> null;
        };
    }
}
