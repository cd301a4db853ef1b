package dev.ember.backend.cuda;

import java.util.Locale;

/**
 * The CUDA backend's benchmark switches, {@code -Dember.cuda.NAME=true|false}, for A/B runs of one build. Validated:
 * a typo ("flase", "0") fails naming the property instead of measuring the default by mistake.
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
}
