package dev.ember.guided;

import java.util.ArrayList;
import java.util.List;

/**
 * A regular expression over Unicode code points, as parsed from a pattern ({@link RegexParser}) or built from a
 * JSON Schema ({@link JsonSchemaCompiler}); {@link ByteNfa} turns it into an automaton over UTF-8 bytes.
 * Immutable; shared subtrees are fine (they compile into separate states).
 */
sealed interface Rx {
    /** Largest code point. */
    int MAX_CODE_POINT = 0x10FFFF;

    /** One code point from a sorted list of disjoint, non-adjacent inclusive ranges {@code [lo0, hi0, lo1, hi1, ...]}. */
    record CharSet(int[] ranges) implements Rx {
    }

    /** Each part in turn; no parts is the empty string. */
    record Concat(List<Rx> parts) implements Rx {
    }

    /** Any one alternative; at least one. */
    record Alt(List<Rx> options) implements Rx {
    }

    /** {@code min} to {@code max} repetitions of {@code body}; {@code max < 0} means unbounded. */
    record Repeat(Rx body, int min, int max) implements Rx {
    }

    Rx EMPTY = new Concat(List.of());

    static Rx literal(String s) {
        List<Rx> parts = new ArrayList<>();
        s.codePoints().forEach(cp -> parts.add(charRange(cp, cp)));
        return parts.size() == 1 ? parts.get(0) : new Concat(parts);
    }

    static Rx charRange(int lo, int hi) {
        return new CharSet(new int[] {lo, hi});
    }

    static Rx concat(Rx... parts) {
        return new Concat(List.of(parts));
    }

    static Rx alt(List<Rx> options) {
        return options.size() == 1 ? options.get(0) : new Alt(List.copyOf(options));
    }

    static Rx optional(Rx body) {
        return new Repeat(body, 0, 1);
    }

    static Rx star(Rx body) {
        return new Repeat(body, 0, -1);
    }
}
