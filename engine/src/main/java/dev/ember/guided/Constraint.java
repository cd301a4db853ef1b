package dev.ember.guided;

import dev.ember.ConfigException;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a request's output must be: one of a list of strings ({@code guided_choice}), a full match of a regular
 * expression ({@code guided_regex}), or a JSON text valid under a schema ({@code guided_json}). Immutable value:
 * equal constraints share one compiled index in an engine.
 *
 * @param kind    which option set it
 * @param pattern the regular expression or the schema's JSON text; null for a choice
 * @param choices the allowed outputs, in order; empty unless a choice
 * @param returnType the Spark DDL type a {@code return_type} option gave (its JSON Schema is {@code pattern}), or null
 */
public record Constraint(Kind kind, String pattern, List<String> choices, String returnType)
        implements java.io.Serializable {
    public enum Kind {
        CHOICE("guided_choice"), REGEX("guided_regex"), JSON("guided_json");

        private final String option;

        Kind(String option) {
            this.option = option;
        }

        /** The option name that sets this kind. */
        public String option() {
            return option;
        }
    }

    public Constraint {
        Objects.requireNonNull(kind, "kind");
        choices = choices == null ? List.of() : List.copyOf(choices);
        if (kind == Kind.CHOICE) {
            if (choices.isEmpty()) {
                throw ConfigException.invalid("guided_choice", choices, "a non-empty list of non-empty strings");
            }
            for (String c : choices) {
                if (c.isEmpty()) {
                    throw ConfigException.invalid("guided_choice", choices, "non-empty strings (\"\" is among them)");
                }
            }
            if (pattern != null) {
                throw new IllegalArgumentException("a choice constraint has no pattern");
            }
        } else if (pattern == null || pattern.isBlank()) {
            throw ConfigException.invalid(kind.option(), pattern,
                    kind == Kind.REGEX ? "a regular expression" : "a JSON Schema document");
        }
    }

    public static Constraint choice(List<String> choices) {
        return new Constraint(Kind.CHOICE, null, choices, null);
    }

    public static Constraint regex(String regex) {
        return new Constraint(Kind.REGEX, regex, null, null);
    }

    public static Constraint json(String schema) {
        return new Constraint(Kind.JSON, schema, null, null);
    }

    /** The compact JSON of a Spark DDL type: its JSON Schema, remembering the DDL (the Spark result's value type). */
    public static Constraint returnType(String ddl) {
        return new Constraint(Kind.JSON, ReturnType.parse(ddl).jsonSchema(), null, ddl.trim());
    }

    /**
     * Parses the constraint and checks it is within the supported syntax (regex features, schema keywords), without
     * a tokenizer: the planning-time check. Throws {@link ConfigException} naming what is not supported.
     */
    public void check() {
        ByteNfa nfa = new ByteNfa(toRx(), describe());
        if (!nfa.live(nfa.start)) {
            throw new ConfigException(describe() + " matches no output at all");
        }
    }

    Rx toRx() {
        return switch (kind) {
            case CHOICE -> {
                List<Rx> options = new ArrayList<>();
                for (String c : choices) {
                    options.add(Rx.literal(c));
                }
                yield Rx.alt(options);
            }
            case REGEX -> RegexParser.parse("guided_regex", pattern);
            case JSON -> JsonSchemaCompiler.compile(pattern);
        };
    }

    /** A short description for messages: the option and the start of its value. */
    public String describe() {
        if (returnType != null) {
            return "return_type " + RegexParser.quote(returnType);
        }
        return kind.option() + " " + (kind == Kind.CHOICE ? choices.toString() : RegexParser.quote(pattern));
    }
}
