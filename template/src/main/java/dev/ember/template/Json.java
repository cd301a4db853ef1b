package dev.ember.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} as transformers' tojson filter calls it: ensure_ascii=False by default,
 * insertion key order unless sort_keys, separators (", ", ": ") or ("," , ": ") with an indent.
 */
final class Json {
    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;
    private final Budget budget;
    private final StringBuilder out = new StringBuilder();

    private Json(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys,
                 Budget budget) {
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
        this.budget = budget;
    }

    /**
     * @param indent     null for one line, a Long (spaces) or a String used per level
     * @param separators null, or a two-element list (item separator, key separator)
     */
    static String dumps(Object value, boolean ensureAscii, Object indent, Object separators, boolean sortKeys,
                        Budget budget) {
        String indentText = null;
        if (indent instanceof String) {
            indentText = (String) indent;
        } else if (PyOps.isIntegral(indent)) {
            indentText = " ".repeat((int) Math.max(0, Math.min(PyOps.toLong(indent), 1000)));
        } else if (indent != null) {
            throw PyOps.typeError("tojson indent must be an int or a str, not " + PyOps.typeName(indent));
        }
        String item = indentText == null ? ", " : ",";
        String key = ": ";
        if (separators != null) {
            if (!(separators instanceof List) || ((List<?>) separators).size() != 2
                    || !(((List<?>) separators).get(0) instanceof String) || !(((List<?>) separators).get(1) instanceof String)) {
                throw PyOps.typeError("tojson separators must be a pair of strings");
            }
            item = (String) ((List<?>) separators).get(0);
            key = (String) ((List<?>) separators).get(1);
        }
        Json json = new Json(ensureAscii, indentText, item, key, sortKeys, budget);
        json.write(value, 0);
        return json.out.toString();
    }

    private void write(Object v, int depth) {
        budget.step();
        budget.checkSize(out.length());
        if (depth > 500) {
            throw new TemplateException("ValueError: tojson value nests deeper than 500 levels");
        }
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean) {
            out.append((Boolean) v ? "true" : "false");
        } else if (v instanceof Long) {
            out.append(v);
        } else if (v instanceof Double) {
            out.append(floatText((Double) v));
        } else if (v instanceof String) {
            string((String) v);
        } else if (v instanceof List) {
            List<?> list = (List<?>) v;
            if (list.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(itemSeparator);
                }
                newline(depth + 1);
                write(list.get(i), depth + 1);
            }
            newline(depth);
            out.append(']');
        } else if (v instanceof Map) {
            Map<?, ?> map = (Map<?, ?>) v;
            if (map.isEmpty()) {
                out.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) {
                entries.sort((a, b) -> PyOps.compare(a.getKey(), b.getKey(), "<"));
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) {
                    out.append(itemSeparator);
                }
                first = false;
                newline(depth + 1);
                string(keyText(e.getKey()));
                out.append(keySeparator);
                write(e.getValue(), depth + 1);
            }
            newline(depth);
            out.append('}');
        } else {
            throw PyOps.typeError("Object of type " + PyOps.typeName(v) + " is not JSON serializable");
        }
    }

    private static String floatText(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        return PyFormat.reprFloat(d);
    }

    private static String keyText(Object key) {
        if (key instanceof String) {
            return (String) key;
        }
        if (key == null) {
            return "null";
        }
        if (key instanceof Boolean) {
            return (Boolean) key ? "true" : "false";
        }
        if (key instanceof Long) {
            return key.toString();
        }
        if (key instanceof Double) {
            return floatText((Double) key);
        }
        throw PyOps.typeError("keys must be str, int, float, bool or None, not " + PyOps.typeName(key));
    }

    private void newline(int depth) {
        if (indent != null) {
            out.append('\n');
            for (int i = 0; i < depth; i++) {
                out.append(indent);
            }
        }
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                case '\b': out.append("\\b"); break;
                case '\f': out.append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}
