package dev.ember.template;

import java.util.regex.Pattern;

/** Python's int() and float() as jinja2's int and float filters apply them, falling back to a default. */
final class Conversions {
    private static final Pattern FLOAT_TEXT = Pattern.compile(
            "[+-]?((\\d(_?\\d)*)?\\.?(\\d(_?\\d)*)([eE][+-]?\\d(_?\\d)*)?|(\\d(_?\\d)*)\\.|inf(inity)?|nan)",
            Pattern.CASE_INSENSITIVE);

    private Conversions() {
    }

    /** jinja2's int filter: int(value) or int(value, base) for strings, else int(float(value)), else default. */
    static Object toInt(Object value, Object defaultValue, long base) {
        PyOps.failIfUndefined(value);
        if (value instanceof String) {
            Long parsed = parseInt((String) value, base);
            if (parsed != null) {
                return parsed;
            }
        } else if (PyOps.isIntegral(value)) {
            return PyOps.toLong(value);
        }
        Double d = floatOf(value);
        if (d != null && !d.isNaN() && !d.isInfinite()) {
            return (long) (double) d;
        }
        return defaultValue;
    }

    static Object toFloat(Object value, Object defaultValue) {
        PyOps.failIfUndefined(value);
        Double d = floatOf(value);
        return d != null ? d : defaultValue;
    }

    private static Double floatOf(Object value) {
        if (PyOps.isNumber(value)) {
            return PyOps.toDouble(value);
        }
        if (value instanceof String) {
            String s = PyStr.strip((String) value, null);
            if (!FLOAT_TEXT.matcher(s).matches() || s.isEmpty()) {
                return null;
            }
            String lower = s.toLowerCase(java.util.Locale.ROOT);
            if (lower.contains("inf")) {
                return lower.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            }
            if (lower.contains("nan")) {
                return Double.NaN;
            }
            try {
                return Double.parseDouble(s.replace("_", ""));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /** Python int(text, base): optional sign, underscores between digits, a 0x/0o/0b prefix matching base. */
    private static Long parseInt(String text, long base) {
        String s = PyStr.strip(text, null);
        boolean negative = false;
        if (s.startsWith("-") || s.startsWith("+")) {
            negative = s.startsWith("-");
            s = s.substring(1);
        }
        if (base != 0 && (base < 2 || base > 36)) {
            return null;
        }
        String lower = s.toLowerCase(java.util.Locale.ROOT);
        int radix = (int) base;
        if (lower.length() > 2 && lower.charAt(0) == '0' && "xob".indexOf(lower.charAt(1)) >= 0) {
            int prefixRadix = lower.charAt(1) == 'x' ? 16 : lower.charAt(1) == 'o' ? 8 : 2;
            if (base == 0 || base == prefixRadix) {
                radix = prefixRadix;
                s = s.substring(2);
                if (s.startsWith("_")) {
                    s = s.substring(1);
                }
            }
        } else if (base == 0) {
            radix = 10;
            if (s.length() > 1 && s.replace("_", "").chars().allMatch(c -> c == '0') == false && s.startsWith("0")) {
                return null;
            }
        }
        if (s.isEmpty() || s.startsWith("_") || s.endsWith("_") || s.contains("__")) {
            return null;
        }
        try {
            long v = Long.parseLong(s.replace("_", ""), radix);
            return negative ? -v : v;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
