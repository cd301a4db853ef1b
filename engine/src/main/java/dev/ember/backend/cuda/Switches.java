package dev.ember.backend.cuda;

import java.util.Arrays;
import java.util.Locale;

/**
 * The CUDA backend's benchmark switches, {@code -Dember.cuda.NAME=true|false} (or one of a few numbers), for A/B runs
 * of one build. Validated: a typo ("flase", "0", "3") fails naming the property instead of measuring the default by
 * mistake.
 */
final class Switches {
    private Switches() {
    }

    /** The system property {@code property}, or {@code dflt} where it is unset. */
    static boolean read(String property, boolean dflt) {
        return parse(property, System.getProperty(property), dflt);
    }

    /** {@code value} ("true" or "false" in any case, blanks around ignored; null: {@code dflt}). */
    static boolean parse(String property, String value, boolean dflt) {
        if (value == null) {
            return dflt;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(property + " is '" + value + "'; expected true or false");
        };
    }

    /** The system property {@code property} as one of {@code allowed}, or {@code dflt} where it is unset. */
    static int read(String property, int dflt, int... allowed) {
        return parse(property, System.getProperty(property), dflt, allowed);
    }

    /** {@code value}, an integer among {@code allowed} (blanks around ignored; null: {@code dflt}). */
    static int parse(String property, String value, int dflt, int... allowed) {
        if (value == null) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(value.trim());
            if (Arrays.stream(allowed).anyMatch(a -> a == v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // named below with what is allowed
        }
        throw new IllegalArgumentException(property + " is '" + value + "'; expected one of " + Arrays.toString(allowed));
    }
}
