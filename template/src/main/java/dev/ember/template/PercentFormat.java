package dev.ember.template;

import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Python's printf-style {@code 'fmt' % args} (also jinja2's format filter): s r d i f F e E x X o c and %%. */
final class PercentFormat {
    private PercentFormat() {
    }

    static String format(String fmt, Object args, Budget budget) {
        List<?> positional = args instanceof PyTuple ? (List<?>) args : null;
        Map<?, ?> named = args instanceof Map ? (Map<?, ?>) args : null;
        int next = 0;
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < fmt.length()) {
            char c = fmt.charAt(i++);
            if (c != '%') {
                b.append(c);
                continue;
            }
            if (i >= fmt.length()) {
                throw new TemplateException("ValueError: incomplete format");
            }
            Object value = null;
            boolean haveValue = false;
            if (fmt.charAt(i) == '(') {
                int close = fmt.indexOf(')', i);
                if (close < 0 || named == null) {
                    throw PyOps.typeError("format requires a mapping");
                }
                value = named.get(fmt.substring(i + 1, close));
                haveValue = true;
                i = close + 1;
            }
            String flags = "";
            while (i < fmt.length() && "-+ #0".indexOf(fmt.charAt(i)) >= 0) {
                flags += fmt.charAt(i++);
            }
            int width = 0;
            while (i < fmt.length() && Character.isDigit(fmt.charAt(i))) {
                width = (int) Math.min(Integer.MAX_VALUE, width * 10L + (fmt.charAt(i++) - '0'));
            }
            budget.checkSize(width);
            int precision = -1;
            if (i < fmt.length() && fmt.charAt(i) == '.') {
                i++;
                precision = 0;
                while (i < fmt.length() && Character.isDigit(fmt.charAt(i))) {
                    precision = (int) Math.min(1000, precision * 10L + (fmt.charAt(i++) - '0'));
                }
            }
            if (i >= fmt.length()) {
                throw new TemplateException("ValueError: incomplete format");
            }
            char conversion = fmt.charAt(i++);
            if (conversion == '%') {
                b.append('%');
                continue;
            }
            if (!haveValue) {
                if (positional != null) {
                    if (next >= positional.size()) {
                        throw PyOps.typeError("not enough arguments for format string");
                    }
                    value = positional.get(next++);
                } else {
                    if (next++ > 0) {
                        throw PyOps.typeError("not enough arguments for format string");
                    }
                    value = args;
                }
            }
            String text = convert(conversion, value, precision, flags);
            boolean left = flags.indexOf('-') >= 0;
            int pad = width - PyStr.length(text);
            if (pad > 0) {
                boolean zero = flags.indexOf('0') >= 0 && !left && "diouxXeEfF".indexOf(conversion) >= 0;
                if (zero) {
                    int sign = text.startsWith("-") || text.startsWith("+") || text.startsWith(" ") ? 1 : 0;
                    sign += alternatePrefix(conversion, flags).length(); // Python pads after 0x: %#06x is 0x00ff
                    text = text.substring(0, sign) + "0".repeat(pad) + text.substring(sign);
                } else {
                    text = left ? text + " ".repeat(pad) : " ".repeat(pad) + text;
                }
            }
            b.append(text);
            budget.checkSize(b.length());
        }
        if (positional != null && next < positional.size()) {
            throw PyOps.typeError("not all arguments converted during string formatting");
        }
        if (positional == null && named == null && next == 0 && !(args instanceof Map)) {
            throw PyOps.typeError("not all arguments converted during string formatting");
        }
        return b.toString();
    }

    private static String convert(char conversion, Object value, int precision, String flags) {
        PyOps.failIfUndefined(value instanceof Undefined && conversion != 's' ? value : null);
        switch (conversion) {
            case 's': {
                String s = PyFormat.str(value);
                return precision >= 0 && precision < PyStr.length(s) ? PyStr.codePointSubstring(s, 0, precision) : s;
            }
            case 'r':
                return PyFormat.repr(value);
            case 'd':
            case 'i':
            case 'u': // Python's obsolete alias of d
            case 'x':
            case 'X':
            case 'o': {
                long n = integer(value, conversion);
                String digits = conversion == 'x' ? Long.toHexString(Math.abs(n))
                        : conversion == 'X' ? Long.toHexString(Math.abs(n)).toUpperCase(Locale.ROOT)
                        : conversion == 'o' ? Long.toOctalString(Math.abs(n)) : Long.toString(Math.abs(n));
                return sign(n < 0, flags) + alternatePrefix(conversion, flags) + digits;
            }
            case 'f':
            case 'F':
            case 'e':
            case 'E': {
                double d = number(value, conversion);
                int p = precision < 0 ? 6 : precision;
                String body;
                if (Double.isNaN(d) || Double.isInfinite(d)) {
                    body = Double.isNaN(d) ? "nan" : "inf";
                } else if (conversion == 'f' || conversion == 'F') {
                    body = new BigDecimal(Math.abs(d)).setScale(p, java.math.RoundingMode.HALF_EVEN).toPlainString();
                } else {
                    body = String.format(Locale.ROOT, "%." + p + "e", Math.abs(d));
                }
                if (Character.isUpperCase(conversion)) {
                    body = body.toUpperCase(Locale.ROOT);
                }
                return sign(d < 0 || (d == 0 && 1 / d < 0), flags) + body;
            }
            case 'c':
                if (value instanceof String && PyStr.length((String) value) == 1) {
                    return (String) value;
                }
                return new String(Character.toChars((int) integer(value, 'c')));
            case 'g':
            case 'G':
            case 'a':
            case '*':
                // valid Python: say it is this renderer's limit, not the template's mistake
                throw new TemplateException("ValueError: format character '" + conversion
                        + "' is not supported in chat templates");
            default:
                throw new TemplateException("ValueError: unsupported format character '" + conversion + "'");
        }
    }

    /** Python's alternate form ('#' flag) of %x, %X and %o: 0x, 0X, 0o before the digits. */
    private static String alternatePrefix(char conversion, String flags) {
        if (flags.indexOf('#') < 0) {
            return "";
        }
        return conversion == 'x' ? "0x" : conversion == 'X' ? "0X" : conversion == 'o' ? "0o" : "";
    }

    private static String sign(boolean negative, String flags) {
        return negative ? "-" : flags.indexOf('+') >= 0 ? "+" : flags.indexOf(' ') >= 0 ? " " : "";
    }

    private static long integer(Object value, char conversion) {
        if (PyOps.isIntegral(value)) {
            return PyOps.toLong(value);
        }
        if (value instanceof Double) {
            return (long) (double) (Double) value;
        }
        throw PyOps.typeError("%" + conversion + " format: a real number is required, not " + PyOps.typeName(value));
    }

    private static double number(Object value, char conversion) {
        if (PyOps.isNumber(value)) {
            return PyOps.toDouble(value);
        }
        throw PyOps.typeError("must be real number, not " + PyOps.typeName(value));
    }
}
