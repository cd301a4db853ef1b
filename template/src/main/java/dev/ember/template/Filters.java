package dev.ember.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** jinja2's builtin filters that chat templates use, plus transformers' tojson. */
final class Filters {
    private static final Set<String> NAMES = Set.of("abs", "attr", "batch", "capitalize", "center", "count", "d",
            "default", "dictsort", "e", "escape", "first", "float", "forceescape", "format", "indent", "int", "items",
            "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse",
            "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "truncate",
            "unique", "upper", "wordcount");
    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern TITLE_SPLIT = Pattern.compile("([-\\s({\\[<]+)", Pattern.UNICODE_CHARACTER_CLASS);

    private Filters() {
    }

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static Object apply(Renderer r, String name, Object value, List<Object> args, Map<String, Object> kwargs) {
        Budget budget = r.budget();
        Object[] a;
        switch (name) {
            case "abs":
                Args.bind(name, args, kwargs);
                PyOps.failIfUndefined(value);
                if (PyOps.isIntegral(value)) {
                    return Math.abs(PyOps.toLong(value));
                }
                if (value instanceof Double) {
                    return Math.abs((Double) value);
                }
                throw PyOps.typeError("bad operand type for abs(): '" + PyOps.typeName(value) + "'");
            case "attr":
                a = Args.bind(name, args, kwargs, "name", Args.REQUIRED);
                return Attributes.pythonAttribute(value, Args.string(name, "name", a[0]));
            case "batch": {
                a = Args.bind(name, args, kwargs, "linecount", Args.REQUIRED, "fill_with", null);
                long size = Args.integer(name, "linecount", a[0]);
                if (size <= 0) {
                    throw new TemplateException("ValueError: batch size must be positive");
                }
                List<Object> out = new ArrayList<>();
                List<Object> current = new ArrayList<>();
                for (Object item : PyOps.iterate(value)) {
                    budget.step();
                    current.add(item);
                    if (current.size() == size) {
                        out.add(current);
                        current = new ArrayList<>();
                    }
                }
                if (!current.isEmpty()) {
                    if (a[1] != null) {
                        while (current.size() < size) {
                            current.add(a[1]);
                        }
                    }
                    out.add(current);
                }
                return out;
            }
            case "capitalize":
                Args.bind(name, args, kwargs);
                return PyStr.capitalize(PyFormat.str(value));
            case "center": {
                a = Args.bind(name, args, kwargs, "width", 80L);
                long width = Args.integer(name, "width", a[0]);
                budget.checkSize(width);
                return PyStr.center(PyFormat.str(value), (int) width, " ");
            }
            case "count":
            case "length":
                Args.bind(name, args, kwargs);
                return PyOps.length(value);
            case "d":
            case "default": {
                a = Args.bind(name, args, kwargs, "default_value", "", "boolean", false);
                boolean useDefault = value instanceof Undefined || (PyOps.truthy(a[1]) && !PyOps.truthy(value));
                return useDefault ? a[0] : value;
            }
            case "dictsort":
                return SequenceFilters.dictsort(name, value, args, kwargs, budget);
            case "e":
            case "escape":
            case "forceescape":
                Args.bind(name, args, kwargs);
                return escape(PyFormat.str(value));
            case "first": {
                Args.bind(name, args, kwargs);
                List<Object> items = PyOps.iterate(value);
                return items.isEmpty() ? Undefined.because("No first item, sequence was empty.") : items.get(0);
            }
            case "last": {
                Args.bind(name, args, kwargs);
                List<Object> items = PyOps.iterate(value);
                return items.isEmpty() ? Undefined.because("No last item, sequence was empty.") : items.get(items.size() - 1);
            }
            case "float":
                a = Args.bind(name, args, kwargs, "default", 0.0);
                return Conversions.toFloat(value, a[0]);
            case "int":
                a = Args.bind(name, args, kwargs, "default", 0L, "base", 10L);
                return Conversions.toInt(value, a[0], Args.integer(name, "base", a[1]));
            case "format": {
                if (!args.isEmpty() && !kwargs.isEmpty()) {
                    throw new TemplateException("FilterArgumentError: can't handle positional and keyword arguments at the same time");
                }
                Object formatArgs = kwargs.isEmpty() ? new PyTuple(args) : new LinkedHashMap<Object, Object>(kwargs);
                return PercentFormat.format(PyFormat.str(value), formatArgs, budget);
            }
            case "indent": {
                return indent(name, value, args, kwargs, budget);
            }
            case "items": {
                Args.bind(name, args, kwargs);
                if (value instanceof Undefined) {
                    return new ArrayList<>();
                }
                if (!(value instanceof Map)) {
                    throw PyOps.typeError("Can only get item pairs from a mapping.");
                }
                List<Object> out = new ArrayList<>();
                ((Map<?, ?>) value).forEach((k, v) -> out.add(PyTuple.of(k, v)));
                return out;
            }
            case "join": {
                a = Args.bind(name, args, kwargs, "d", "", "attribute", null);
                List<Object> items = PyOps.iterate(value);
                String separator = PyFormat.str(a[0]);
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < items.size(); i++) {
                    budget.step();
                    if (i > 0) {
                        b.append(separator);
                    }
                    Object item = a[1] == null ? items.get(i) : SequenceFilters.attributeOf(items.get(i), a[1], null);
                    b.append(PyFormat.str(item));
                    budget.checkSize(b.length());
                }
                return b.toString();
            }
            case "list": {
                Args.bind(name, args, kwargs);
                List<Object> items = PyOps.iterate(value);
                budget.charge(items.size());
                return new ArrayList<>(items);
            }
            case "lower":
                Args.bind(name, args, kwargs);
                return PyStr.lower(PyFormat.str(value));
            case "upper":
                Args.bind(name, args, kwargs);
                return PyStr.upper(PyFormat.str(value));
            case "map":
                return SequenceFilters.map(r, value, args, kwargs);
            case "max":
            case "min":
                return SequenceFilters.minMax(name, value, args, kwargs, budget);
            case "select":
            case "reject":
            case "selectattr":
            case "rejectattr":
                return SequenceFilters.selectOrReject(r, name, value, args, kwargs);
            case "replace": {
                a = Args.bind(name, args, kwargs, "old", Args.REQUIRED, "new", Args.REQUIRED, "count", null);
                long count = a[2] == null ? -1 : Args.integer(name, "count", a[2]);
                return PyStr.replace(PyFormat.str(value), PyFormat.str(a[0]), PyFormat.str(a[1]), count, budget);
            }
            case "reverse": {
                Args.bind(name, args, kwargs);
                if (value instanceof String) {
                    return new StringBuilder((String) value).reverse().toString();
                }
                if (!(value instanceof List || value instanceof Map || value instanceof Undefined)) {
                    throw new TemplateException("FilterArgumentError: argument must be iterable");
                }
                List<Object> items = new ArrayList<>(PyOps.iterate(value));
                budget.charge(items.size());
                Collections.reverse(items);
                return items;
            }
            case "round":
                a = Args.bind(name, args, kwargs, "precision", 0L, "method", "common");
                return round(value, Args.integer(name, "precision", a[0]), Args.string(name, "method", a[1]));
            case "safe":
                Args.bind(name, args, kwargs);
                return value;
            case "sort":
                return SequenceFilters.sort(name, value, args, kwargs, budget);
            case "string":
                Args.bind(name, args, kwargs);
                return PyFormat.str(value);
            case "sum": {
                a = Args.bind(name, args, kwargs, "attribute", null, "start", 0L);
                Object total = a[1];
                for (Object item : PyOps.iterate(value)) {
                    budget.step();
                    total = PyArith.add(total, a[0] == null ? item : SequenceFilters.attributeOf(item, a[0], null), budget);
                }
                return total;
            }
            case "title": {
                Args.bind(name, args, kwargs);
                StringBuilder b = new StringBuilder();
                for (String part : splitKeepingDelimiters(PyFormat.str(value))) {
                    if (!part.isEmpty()) {
                        int cp = part.codePointAt(0);
                        int n = Character.charCount(cp);
                        b.append(PyStr.upper(part.substring(0, n))).append(PyStr.lower(part.substring(n)));
                    }
                }
                return b.toString();
            }
            case "tojson":
                a = Args.bind(name, args, kwargs, "ensure_ascii", false, "indent", null, "separators", null,
                        "sort_keys", false);
                return Json.dumps(value, PyOps.truthy(a[0]), a[1], a[2], PyOps.truthy(a[3]), budget);
            case "trim":
                a = Args.bind(name, args, kwargs, "chars", null);
                return PyStr.strip(PyFormat.str(value), Args.optionalString(name, "chars", a[0]));
            case "truncate": {
                a = Args.bind(name, args, kwargs, "length", 255L, "killwords", false, "end", "...", "leeway", null);
                long length = Args.integer(name, "length", a[0]);
                String end = Args.string(name, "end", a[2]);
                long leeway = a[3] == null ? 5 : Args.integer(name, "leeway", a[3]);
                if (!(value instanceof String) && !(value instanceof Undefined)) {
                    // jinja2 measures len(value) itself: a short list or dict comes back whole, None and numbers
                    // have no len(), and a longer container cannot be cut as text
                    if (PyOps.length(value) <= length + leeway) {
                        return value;
                    }
                    throw value instanceof List
                            ? new TemplateException(PyOps.truthy(a[1])
                                    ? "TypeError: can only concatenate list (not \"str\") to list"
                                    : "AttributeError: 'list' object has no attribute 'rsplit'")
                            : PyOps.typeError("unhashable type: 'slice'");
                }
                String s = PyFormat.str(value); // a String or undefined here: containers returned or failed above
                int n = PyStr.length(s);
                if (n <= length + leeway) {
                    return s;
                }
                int keep = (int) Math.max(0, length - PyStr.length(end));
                String head = PyStr.codePointSubstring(s, 0, Math.min(keep, n));
                if (PyOps.truthy(a[1])) {
                    return head + end;
                }
                return PyStr.rsplit(head, " ", 1).get(0) + end;
            }
            case "unique":
                return SequenceFilters.unique(name, value, args, kwargs, budget);
            case "wordcount": {
                Args.bind(name, args, kwargs);
                Matcher m = WORD.matcher(PyFormat.str(value));
                long n = 0;
                while (m.find()) {
                    n++;
                }
                return n;
            }
            default:
                throw new IllegalStateException("filter without implementation: " + name);
        }
    }

    /** jinja2's title filter: words begin after '-', whitespace, or an opening bracket. */
    private static List<String> splitKeepingDelimiters(String s) {
        List<String> parts = new ArrayList<>();
        Matcher m = TITLE_SPLIT.matcher(s);
        int last = 0;
        while (m.find()) {
            parts.add(s.substring(last, m.start()));
            parts.add(m.group());
            last = m.end();
        }
        parts.add(s.substring(last));
        return parts;
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&': b.append("&amp;"); break;
                case '<': b.append("&lt;"); break;
                case '>': b.append("&gt;"); break;
                case '"': b.append("&#34;"); break;
                case '\'': b.append("&#39;"); break;
                default: b.append(c);
            }
        }
        return b.toString();
    }

    private static String indent(String name, Object value, List<Object> args, Map<String, Object> kwargs,
                                 Budget budget) {
        Object[] a = Args.bind(name, args, kwargs, "width", 4L, "first", false, "blank", false);
        String indentation = a[0] instanceof String ? (String) a[0] : " ".repeat((int) Math.max(0, Math.min(
                Args.integer(name, "width", a[0]), 10_000)));
        // jinja2 appends "\n" to the value itself: only text works (None, a number or undefined fail there)
        PyOps.failIfUndefined(value);
        if (!(value instanceof String)) {
            throw PyArith.unsupported("+=", value, "\n");
        }
        String s = value + "\n";
        List<Object> lines = PyStr.splitLines(s, false);
        StringBuilder b = new StringBuilder();
        if (PyOps.truthy(a[2])) {
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) {
                    b.append('\n').append(indentation);
                }
                b.append((String) lines.get(i));
                budget.checkSize(b.length());
            }
        } else {
            b.append(lines.isEmpty() ? "" : (String) lines.get(0));
            if (lines.size() > 1) {
                b.append('\n');
                for (int i = 1; i < lines.size(); i++) {
                    String line = (String) lines.get(i);
                    if (i > 1) {
                        b.append('\n');
                    }
                    b.append(line.isEmpty() ? line : indentation + line);
                    budget.checkSize(b.length());
                }
            }
        }
        return PyOps.truthy(a[1]) ? indentation + b : b.toString();
    }

    private static Object round(Object value, long precision, String method) {
        PyOps.failIfUndefined(value);
        if (!method.equals("common") && !method.equals("ceil") && !method.equals("floor")) {
            throw new TemplateException("FilterArgumentError: method must be common, ceil or floor");
        }
        if (!PyOps.isNumber(value)) {
            throw PyOps.typeError("type " + PyOps.typeName(value) + " doesn't define __round__ method");
        }
        if (method.equals("common")) {
            if (PyOps.isIntegral(value)) {
                long v = PyOps.toLong(value);
                if (precision >= 0) {
                    return v;
                }
                return new BigDecimal(v).setScale((int) precision, RoundingMode.HALF_EVEN).longValue();
            }
            double d = (Double) value;
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return d;
            }
            double rounded = new BigDecimal(d).setScale((int) Math.max(-400, Math.min(precision, 400)),
                    RoundingMode.HALF_EVEN).doubleValue();
            return rounded == 0 && d < 0 ? -0.0 : rounded;
        }
        double scale = Math.pow(10, precision);
        double scaled = PyOps.toDouble(value) * scale;
        double whole = method.equals("ceil") ? Math.ceil(scaled) : Math.floor(scaled);
        return whole / scale;
    }
}
