package dev.ember.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's {@code str.format}: fields {}, {0}, {name}, {0.attr}, {0[key]}, conversions !s !r, and the
 * format-spec subset [[fill]align][sign][0][width][,][.precision][type] with types s d f F e E % g.
 */
final class StrFormat {
    private StrFormat() {
    }

    static String format(String fmt, List<Object> args, Map<String, Object> kwargs, Budget budget) {
        StringBuilder b = new StringBuilder();
        int auto = 0;              // {} fields seen so far
        boolean manual = false;    // a {0} field was seen: Python refuses a string with both
        int i = 0;
        while (i < fmt.length()) {
            char c = fmt.charAt(i);
            if (c == '}') {
                if (i + 1 < fmt.length() && fmt.charAt(i + 1) == '}') {
                    b.append('}');
                    i += 2;
                    continue;
                }
                throw new TemplateException("ValueError: Single '}' encountered in format string");
            }
            if (c != '{') {
                b.append(c);
                i++;
                continue;
            }
            if (i + 1 < fmt.length() && fmt.charAt(i + 1) == '{') {
                b.append('{');
                i += 2;
                continue;
            }
            int close = fmt.indexOf('}', i);
            if (close < 0) {
                throw new TemplateException("ValueError: Single '{' encountered in format string");
            }
            String field = fmt.substring(i + 1, close);
            if (field.indexOf('{') >= 0) {
                // valid Python ('{0:{1}}'): say it is this renderer's limit, not an unbalanced brace
                throw new TemplateException("ValueError: nested replacement fields ('{0:{1}}') are not supported in"
                        + " chat templates");
            }
            i = close + 1;
            String spec = "";
            int colon = field.indexOf(':');
            if (colon >= 0) {
                spec = field.substring(colon + 1);
                field = field.substring(0, colon);
            }
            char conversion = 0;
            int bang = field.indexOf('!');
            if (bang >= 0) {
                conversion = bang + 1 < field.length() ? field.charAt(bang + 1) : 0;
                field = field.substring(0, bang);
            }
            int end = 0;
            while (end < field.length() && field.charAt(end) != '.' && field.charAt(end) != '[') {
                end++;
            }
            String head = field.substring(0, end);
            Object value;
            if (head.isEmpty()) {
                if (manual) {
                    throw switchedNumbering();
                }
                value = positional(args, auto++);
            } else if (head.chars().allMatch(Character::isDigit)) {
                if (auto > 0) {
                    throw switchedNumbering();
                }
                manual = true;
                value = positional(args, Integer.parseInt(head));
            } else {
                if (!kwargs.containsKey(head)) {
                    throw new TemplateException("KeyError: " + PyFormat.repr(head));
                }
                value = kwargs.get(head);
            }
            value = accessors(value, field.substring(end));
            String text = conversion == 'r' ? PyFormat.repr(value) : conversion == 's' || conversion == 0 ? null : bad(conversion);
            if (specWidth(spec) > 0) {
                budget.checkSize(specWidth(spec));
            }
            b.append(text != null ? applySpec(text, spec, true) : formatValue(value, spec));
            budget.checkSize(b.length());
        }
        return b.toString();
    }

    private static TemplateException switchedNumbering() {
        // string.Formatter (jinja2's sandboxed format) says this for either order
        return new TemplateException("ValueError: cannot switch from manual field specification to automatic field"
                + " numbering");
    }

    private static final java.util.regex.Pattern SPEC_WIDTH =
            java.util.regex.Pattern.compile("(?:.?[<>^=])?[-+ ]?#?0?(\\d+)");

    /** The width of a format spec ([[fill]align][sign][#][0]width...), to bound padding before building it. */
    private static long specWidth(String spec) {
        java.util.regex.Matcher m = SPEC_WIDTH.matcher(spec);
        if (!m.lookingAt()) {
            return 0;
        }
        String digits = m.group(1);
        return digits.length() > 10 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    private static String bad(char conversion) {
        throw new TemplateException("ValueError: Unknown conversion specifier " + conversion);
    }

    private static Object positional(List<Object> args, int index) {
        if (index >= args.size()) {
            throw new TemplateException("IndexError: Replacement index " + index + " out of range for positional args tuple");
        }
        return args.get(index);
    }

    private static Object accessors(Object value, String rest) {
        int i = 0;
        while (i < rest.length()) {
            if (rest.charAt(i) == '.') {
                int end = i + 1;
                while (end < rest.length() && rest.charAt(end) != '.' && rest.charAt(end) != '[') {
                    end++;
                }
                value = Attributes.getattr(value, rest.substring(i + 1, end));
                i = end;
            } else {
                int close = rest.indexOf(']', i);
                if (close < 0) {
                    throw new TemplateException("ValueError: Missing ']' in format string");
                }
                String key = rest.substring(i + 1, close);
                value = Attributes.getitem(value, key.chars().allMatch(Character::isDigit) && !key.isEmpty()
                        ? (Object) Long.parseLong(key) : key);
                i = close + 1;
            }
        }
        return value;
    }

    private static String formatValue(Object value, String spec) {
        if (spec.isEmpty()) {
            return PyFormat.str(value);
        }
        char type = Character.isLetter(spec.charAt(spec.length() - 1)) || spec.endsWith("%") ? spec.charAt(spec.length() - 1) : 0;
        if (type == 0 && PyOps.isIntegral(value) && !(value instanceof Boolean)) {
            type = 'd';
        }
        if (type == 0 || type == 's') {
            if (!(value instanceof String) && type == 's') {
                throw new TemplateException("ValueError: Unknown format code 's' for object of type '" + PyOps.typeName(value) + "'");
            }
            return applySpec(PyFormat.str(value), spec, value instanceof String);
        }
        if (!PyOps.isNumber(value)) {
            throw new TemplateException("ValueError: Unknown format code '" + type + "' for object of type '"
                    + PyOps.typeName(value) + "'");
        }
        return applySpec(number(value, spec, type), spec, false);
    }

    private static String number(Object value, String spec, char type) {
        int dot = spec.indexOf('.');
        int precision = 6;
        if (dot >= 0) {
            int end = dot + 1;
            while (end < spec.length() && Character.isDigit(spec.charAt(end))) {
                end++;
            }
            precision = (int) Math.min(1000, Long.parseLong("0" + spec.substring(dot + 1, end)));
        }
        boolean grouping = spec.contains(",");
        switch (type) {
            case 'd':
                if (!PyOps.isIntegral(value)) {
                    throw new TemplateException("ValueError: Unknown format code 'd' for object of type 'float'");
                }
                return String.format(Locale.ROOT, grouping ? "%,d" : "%d", PyOps.toLong(value));
            case 'f':
            case 'F':
            case '%': {
                double d = PyOps.toDouble(value) * (type == '%' ? 100 : 1);
                String s = new BigDecimal(d).setScale(precision, RoundingMode.HALF_EVEN).toPlainString();
                if (grouping) {
                    s = String.format(Locale.ROOT, "%,." + precision + "f", new BigDecimal(s));
                }
                return type == '%' ? s + "%" : s;
            }
            case 'e':
            case 'E': {
                String s = String.format(Locale.ROOT, "%." + precision + "e", PyOps.toDouble(value));
                return type == 'E' ? s.toUpperCase(Locale.ROOT) : s;
            }
            case 'g':
                return PyFormat.repr(PyOps.isIntegral(value) ? (Object) PyOps.toLong(value) : PyOps.toDouble(value));
            default:
                throw new TemplateException("ValueError: format code '" + type + "' is not supported in chat templates");
        }
    }

    /** Fill, alignment, sign and width of a format spec, applied to already-formatted text. */
    private static String applySpec(String text, String spec, boolean isString) {
        int i = 0;
        char fill = ' ';
        char align = isString ? '<' : '>';
        if (spec.length() >= 2 && "<>^=".indexOf(spec.charAt(1)) >= 0) {
            fill = spec.charAt(0);
            align = spec.charAt(1);
            i = 2;
        } else if (!spec.isEmpty() && "<>^=".indexOf(spec.charAt(0)) >= 0) {
            align = spec.charAt(0);
            i = 1;
        }
        if (i < spec.length() && spec.charAt(i) == '+' && !isString && !text.startsWith("-")) {
            text = "+" + text;
            i++;
        }
        if (i < spec.length() && spec.charAt(i) == '0') {
            fill = '0';
            align = '=';
            i++;
        }
        long width = 0;
        while (i < spec.length() && Character.isDigit(spec.charAt(i))) {
            width = Math.min(Integer.MAX_VALUE, width * 10 + (spec.charAt(i++) - '0'));
        }
        int pad = (int) (width - PyStr.length(text));
        if (pad <= 0) {
            return text;
        }
        String f = String.valueOf(fill);
        switch (align) {
            case '<': return text + f.repeat(pad);
            case '^': return f.repeat(pad / 2) + text + f.repeat(pad - pad / 2);
            case '=': {
                int sign = text.startsWith("-") || text.startsWith("+") ? 1 : 0;
                return text.substring(0, sign) + f.repeat(pad) + text.substring(sign);
            }
            default: return f.repeat(pad) + text;
        }
    }
}
