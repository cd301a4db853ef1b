package dev.ember;

import java.util.Locale;

/**
 * Parses option values given as strings (command line, properties files, Spark options), failing with
 * {@link ConfigException#invalid} so every message names the option, the value and what is allowed.
 */
public final class OptionValues {
    private OptionValues() {
    }

    public static int parseInt(String option, String v) {
        try {
            return Integer.parseInt(v == null ? "" : v.trim());
        } catch (NumberFormatException e) {
            throw ConfigException.invalid(option, v, "an integer");
        }
    }

    public static long parseLong(String option, String v) {
        try {
            return Long.parseLong(v == null ? "" : v.trim());
        } catch (NumberFormatException e) {
            throw ConfigException.invalid(option, v, "an integer");
        }
    }

    public static double parseDouble(String option, String v) {
        try {
            return Double.parseDouble(v == null ? "" : v.trim());
        } catch (NumberFormatException e) {
            throw ConfigException.invalid(option, v, "a number");
        }
    }

    /** An integer >= 1. */
    public static int parsePositiveInt(String option, String v) {
        int n = parseInt(option, v);
        if (n < 1) {
            throw ConfigException.invalid(option, v, "an integer >= 1");
        }
        return n;
    }

    /** A finite number > 0. */
    public static double parsePositiveDouble(String option, String v) {
        double d = parseDouble(option, v);
        if (!(d > 0) || Double.isInfinite(d)) {
            throw ConfigException.invalid(option, v, "a finite number > 0");
        }
        return d;
    }

    /** A finite number >= 0. */
    public static double parseNonNegativeDouble(String option, String v) {
        double d = parseDouble(option, v);
        if (!(d >= 0) || Double.isInfinite(d)) {
            throw ConfigException.invalid(option, v, "a finite number >= 0");
        }
        return d;
    }

    public static boolean parseBoolean(String option, String v) {
        return switch (v == null ? "" : v.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ConfigException.invalid(option, v, "true, false");
        };
    }
}
