package dev.ember.option;

import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * A constraint on an option's parsed value and its description ("an integer >= 1"), the {@code allowed} part of
 * every bad-value message. Immutable.
 *
 * @param test    whether a value is allowed
 * @param allowed what is allowed, in words
 */
public record Check<T>(Predicate<T> test, String allowed) {

    /** Any value of the type; {@code allowed} describes the type. */
    public static <T> Check<T> any(String allowed) {
        return new Check<>(v -> true, allowed);
    }

    /** An integer >= {@code min}. */
    public static Check<Integer> atLeast(int min) {
        return new Check<>(v -> v >= min, "an integer >= " + min);
    }

    /** An integer in [{@code min}, {@code max}]. */
    public static Check<Integer> between(int min, int max) {
        return new Check<>(v -> v >= min && v <= max, "an integer in [" + min + ", " + max + "]");
    }

    /** A finite number >= 0. */
    public static Check<Double> nonNegative() {
        return new Check<>(v -> v >= 0 && !v.isInfinite(), "a finite number >= 0");
    }

    /** A finite number > 0. */
    public static Check<Double> positive() {
        return new Check<>(v -> v > 0 && !v.isInfinite(), "a finite number > 0");
    }

    /** A number in [{@code min}, {@code max}]. */
    public static Check<Double> range(double min, double max) {
        return new Check<>(v -> v >= min && v <= max, "a number in [" + fmt(min) + ", " + fmt(max) + "]");
    }

    /** A number in ({@code min}, {@code max}]. */
    public static Check<Double> rangeOpenLow(double min, double max) {
        return new Check<>(v -> v > min && v <= max, "a number in (" + fmt(min) + ", " + fmt(max) + "]");
    }

    /** One of {@code values} (already lower case; values are compared lower-cased). */
    public static Check<String> oneOf(String... values) {
        List<String> allowed = List.of(values);
        return new Check<>(v -> allowed.contains(v.trim().toLowerCase(Locale.ROOT)), String.join(", ", allowed));
    }

    /** A non-blank string. */
    public static Check<String> nonBlank(String what) {
        return new Check<>(v -> !v.isBlank(), what);
    }

    /** This check with another description (where the message should say more, e.g. "0 = automatic"). */
    public Check<T> described(String allowed) {
        return new Check<>(test, allowed);
    }

    boolean accepts(T value) {
        return value != null && test.test(value);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
