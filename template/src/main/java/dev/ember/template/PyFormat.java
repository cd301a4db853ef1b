package dev.ember.template;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Python's str() and repr() of template values, which is what {@code {{ x }}} prints. */
final class PyFormat {
    private PyFormat() {
    }

    /** Python {@code str(v)}; Undefined prints as "". */
    static String str(Object v) {
        if (v instanceof String) {
            return (String) v;
        }
        if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    /** Python {@code repr(v)}, as used for items inside printed lists, tuples and dicts. */
    static String repr(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Boolean) {
            return (Boolean) v ? "True" : "False";
        }
        if (v instanceof Long) {
            return v.toString();
        }
        if (v instanceof Double) {
            return reprFloat((Double) v);
        }
        if (v instanceof String) {
            return reprString((String) v);
        }
        if (v instanceof PyTuple) {
            List<?> t = (List<?>) v;
            if (t.size() == 1) {
                return "(" + repr(t.get(0)) + ",)";
            }
            return join("(", t.iterator(), ")");
        }
        if (v instanceof PyRange) {
            return v.toString();
        }
        if (v instanceof List) {
            return join("[", ((List<?>) v).iterator(), "]");
        }
        if (v instanceof Map) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) {
                    b.append(", ");
                }
                first = false;
                b.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
            }
            return b.append('}').toString();
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        if (v instanceof Namespace) {
            return "<Namespace " + repr(((Namespace) v).attributes) + ">";
        }
        if (v instanceof LoopState) {
            return "<LoopContext " + ((LoopState) v).index1() + "/" + ((LoopState) v).length() + ">";
        }
        if (v instanceof PyCallable) {
            return "<" + ((PyCallable) v).describe() + ">";
        }
        // Unreachable for values built by this package; never expose a Java object's own toString.
        return "<object>";
    }

    private static String join(String open, Iterator<?> items, String close) {
        StringBuilder b = new StringBuilder(open);
        boolean first = true;
        while (items.hasNext()) {
            if (!first) {
                b.append(", ");
            }
            first = false;
            b.append(repr(items.next()));
        }
        return b.append(close).toString();
    }

    static String reprString(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder b = new StringBuilder(s.length() + 2).append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == quote || cp == '\\') {
                b.append('\\').appendCodePoint(cp);
            } else if (cp == '\n') {
                b.append("\\n");
            } else if (cp == '\r') {
                b.append("\\r");
            } else if (cp == '\t') {
                b.append("\\t");
            } else if (isPrintable(cp)) {
                b.appendCodePoint(cp);
            } else if (cp < 0x100) {
                b.append(String.format("\\x%02x", cp));
            } else if (cp < 0x10000) {
                b.append(String.format("\\u%04x", cp));
            } else {
                b.append(String.format("\\U%08x", cp));
            }
        }
        return b.append(quote).toString();
    }

    /** Python's str.isprintable for one code point: not Cc, Cf, Cs, Co, Cn, Zl, Zp, nor Zs other than ' '. */
    private static boolean isPrintable(int cp) {
        if (cp == ' ') {
            return true;
        }
        switch (Character.getType(cp)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.UNASSIGNED:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
            case Character.SPACE_SEPARATOR:
                return false;
            default:
                return true;
        }
    }

    /**
     * Python's float repr: the shortest digits that read back as the same double, in fixed notation when
     * the decimal exponent is in [-4, 16), otherwise as {@code d.ddde+XX}.
     */
    static String reprFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(d);
        BigDecimal shortest = null;
        for (int precision = 1; precision <= 17; precision++) {
            BigDecimal candidate = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
            if (candidate.doubleValue() == d) {
                shortest = candidate;
                break;
            }
        }
        if (shortest == null) {
            shortest = exact.round(new MathContext(17, RoundingMode.HALF_EVEN));
        }
        String digits = shortest.unscaledValue().abs().toString();
        int scale = shortest.scale();
        // strip trailing zeros of the digit string, adjusting the scale
        int end = digits.length();
        while (end > 1 && digits.charAt(end - 1) == '0') {
            end--;
            scale--;
        }
        digits = digits.substring(0, end);
        // value = 0.digits * 10^decpt
        int decpt = digits.length() - scale;
        StringBuilder b = new StringBuilder();
        if (d < 0) {
            b.append('-');
        }
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                b.append("0.");
                for (int k = 0; k < -decpt; k++) {
                    b.append('0');
                }
                b.append(digits);
            } else if (decpt >= digits.length()) {
                b.append(digits);
                for (int k = digits.length(); k < decpt; k++) {
                    b.append('0');
                }
                b.append(".0");
            } else {
                b.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
            }
        } else {
            b.append(digits.charAt(0));
            if (digits.length() > 1) {
                b.append('.').append(digits, 1, digits.length());
            }
            int exp = decpt - 1;
            b.append(exp < 0 ? "e-" : "e+");
            int abs = Math.abs(exp);
            if (abs < 10) {
                b.append('0');
            }
            b.append(abs);
        }
        return b.toString();
    }
}
