package dev.ember.template;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** Python semantics of template values: type names, truth, length, iteration, equality, order, arithmetic. */
final class PyOps {
    private PyOps() {
    }

    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Long) {
            return "int";
        }
        if (v instanceof Double) {
            return "float";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof PyTuple) {
            return "tuple";
        }
        if (v instanceof PyRange) {
            return "range";
        }
        if (v instanceof List) {
            return "list";
        }
        if (v instanceof Map) {
            return "dict";
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        if (v instanceof Namespace) {
            return "Namespace";
        }
        if (v instanceof LoopState) {
            return "LoopContext";
        }
        return "function";
    }

    static TemplateException typeError(String message) {
        return new TemplateException("TypeError: " + message);
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean) {
            return (Boolean) v;
        }
        if (v instanceof Long) {
            return (Long) v != 0;
        }
        if (v instanceof Double) {
            return (Double) v != 0.0;
        }
        if (v instanceof String) {
            return !((String) v).isEmpty();
        }
        if (v instanceof List) {
            return !((List<?>) v).isEmpty();
        }
        if (v instanceof Map) {
            return !((Map<?, ?>) v).isEmpty();
        }
        return true;
    }

    static long length(Object v) {
        if (v instanceof String) {
            return PyStr.length((String) v);
        }
        if (v instanceof List) {
            return ((List<?>) v).size();
        }
        if (v instanceof Map) {
            return ((Map<?, ?>) v).size();
        }
        if (v instanceof Undefined) {
            return 0;
        }
        if (v instanceof Namespace) {
            return ((Namespace) v).attributes.size();
        }
        throw typeError("object of type '" + typeName(v) + "' has no len()");
    }

    /** Python iteration: list items, string characters, dict keys; Undefined iterates as empty. */
    static List<Object> iterate(Object v) {
        if (v instanceof List) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) v;
            return list;
        }
        if (v instanceof String) {
            return PyStr.chars((String) v);
        }
        if (v instanceof Map) {
            return new ArrayList<>(((Map<?, ?>) v).keySet());
        }
        if (v instanceof Undefined) {
            return Collections.emptyList();
        }
        throw typeError("'" + typeName(v) + "' object is not iterable");
    }


    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static boolean isIntegral(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    static long toLong(Object v) {
        return v instanceof Boolean ? ((Boolean) v ? 1L : 0L) : (Long) v;
    }

    static double toDouble(Object v) {
        return v instanceof Double ? (Double) v : (double) toLong(v);
    }

    static void failIfUndefined(Object v) {
        if (v instanceof Undefined) {
            throw ((Undefined) v).error();
        }
    }

    static boolean equal(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b)) {
                return toLong(a) == toLong(b);
            }
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof String || b instanceof String) {
            return a.equals(b);
        }
        if (a instanceof List && b instanceof List) {
            if ((a instanceof PyTuple) != (b instanceof PyTuple) || (a instanceof PyRange) != (b instanceof PyRange)) {
                return false;
            }
            List<?> x = (List<?>) a;
            List<?> y = (List<?>) b;
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!equal(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map && b instanceof Map) {
            Map<?, ?> x = (Map<?, ?>) a;
            Map<?, ?> y = (Map<?, ?>) b;
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !equal(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /** Python ordering for <, <=, >, >=; op names the operator in the error for incomparable types. */
    static int compare(Object a, Object b, String op) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b)) {
                return Long.compare(toLong(a), toLong(b));
            }
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String && b instanceof String) {
            return compareCodePoints((String) a, (String) b);
        }
        if (a instanceof List && b instanceof List && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            List<?> x = (List<?>) a;
            List<?> y = (List<?>) b;
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!equal(x.get(i), y.get(i))) {
                    return compare(x.get(i), y.get(i), op);
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        throw typeError("'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /** Python's {@code x in container}. */
    static boolean contains(Object container, Object item) {
        if (container instanceof String) {
            failIfUndefined(item);
            if (!(item instanceof String)) {
                throw typeError("'in <string>' requires string as left operand, not " + typeName(item));
            }
            return ((String) container).contains((String) item);
        }
        if (container instanceof Map) {
            return ((Map<?, ?>) container).containsKey(item)
                    || (isNumber(item) && ((Map<?, ?>) container).keySet().stream().anyMatch(k -> equal(k, item)));
        }
        if (container instanceof List || container instanceof Undefined) {
            for (Object o : iterate(container)) {
                if (equal(o, item)) {
                    return true;
                }
            }
            return false;
        }
        throw typeError("argument of type '" + typeName(container) + "' is not iterable");
    }
}
