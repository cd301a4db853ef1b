package dev.ember.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sandbox boundary: copies caller values into the only types a template ever sees — String, Long,
 * Double, Boolean, null, List (ArrayList) and Map (LinkedHashMap, order kept) — and refuses anything else,
 * so no Java object reaches a template. Copying also means a render never observes later caller changes.
 */
final class Values {
    private static final int MAX_DEPTH = 256;

    private Values() {
    }

    static Object fromJava(Object v, String name) {
        return convert(v, new Path(null, name), 0);
    }

    /** Where a value sits, e.g. messages[3].content; built into text only for an error message. */
    private static final class Path {
        private final Path parent;
        private final Object key;

        Path(Path parent, Object key) {
            this.parent = parent;
            this.key = key;
        }

        @Override
        public String toString() {
            if (parent == null) {
                return String.valueOf(key);
            }
            return parent + (key instanceof Integer ? "[" + key + "]" : "." + key);
        }
    }

    private static Object convert(Object v, Path path, int depth) {
        if (depth > MAX_DEPTH) {
            throw new TemplateException("template variable '" + path + "' nests deeper than " + MAX_DEPTH
                    + " levels (a map or list that contains itself?)");
        }
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float) {
            return Double.parseDouble(v.toString());
        }
        if (v instanceof BigInteger) {
            try {
                return ((BigInteger) v).longValueExact();
            } catch (ArithmeticException e) {
                throw new TemplateException("template variable '" + path + "' is the integer " + v
                        + ", which does not fit in 64 bits");
            }
        }
        if (v instanceof BigDecimal) {
            return ((BigDecimal) v).doubleValue();
        }
        if (v instanceof Character) {
            return v.toString();
        }
        if (v instanceof Map) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                Object key = e.getKey();
                if (!(key instanceof String || key instanceof Number || key instanceof Boolean || key == null)) {
                    throw new TemplateException("template variable '" + path + "' has a key of type "
                            + key.getClass().getName() + "; allowed key types: String, Number, Boolean, null");
                }
                Object k = convert(key, path, depth + 1);
                out.put(k, convert(e.getValue(), new Path(path, k), depth + 1));
            }
            return out;
        }
        if (v instanceof List) {
            List<?> in = (List<?>) v;
            List<Object> out = new ArrayList<>(in.size());
            for (int i = 0; i < in.size(); i++) {
                out.add(convert(in.get(i), new Path(path, i), depth + 1));
            }
            return out;
        }
        throw new TemplateException("template variable '" + path + "' has the unsupported type "
                + v.getClass().getName() + "; allowed: Map, List, String, Number, Boolean, null");
    }
}
