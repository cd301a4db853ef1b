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

    /** str, list or tuple: what Python repeats with {@code *}. */
    private static boolean isSequence(Object v) {
        return v instanceof String || (v instanceof List && !(v instanceof PyRange));
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

    // ---- arithmetic

    private static TemplateException unsupported(String op, Object a, Object b) {
        return typeError("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    static Object add(Object a, Object b, Budget budget) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b)) {
                return exact(() -> Math.addExact(toLong(a), toLong(b)));
            }
            return toDouble(a) + toDouble(b);
        }
        if (a instanceof String) {
            if (!(b instanceof String)) {
                throw typeError("can only concatenate str (not \"" + typeName(b) + "\") to str");
            }
            budget.checkSize((long) ((String) a).length() + ((String) b).length());
            return (String) a + b;
        }
        if (a instanceof List && !(a instanceof PyRange)) {
            boolean tuple = a instanceof PyTuple;
            if (!(b instanceof List) || (b instanceof PyTuple) != tuple || b instanceof PyRange) {
                throw typeError("can only concatenate " + typeName(a) + " (not \"" + typeName(b) + "\") to " + typeName(a));
            }
            budget.checkSize((long) ((List<?>) a).size() + ((List<?>) b).size());
            List<Object> out = new ArrayList<>((List<?>) a);
            out.addAll((List<?>) b);
            budget.charge(out.size());
            return tuple ? new PyTuple(out) : out;
        }
        throw unsupported("+", a, b);
    }

    static Object subtract(Object a, Object b) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b)) {
                return exact(() -> Math.subtractExact(toLong(a), toLong(b)));
            }
            return toDouble(a) - toDouble(b);
        }
        throw unsupported("-", a, b);
    }

    static Object multiply(Object a, Object b, Budget budget) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b)) {
                return exact(() -> Math.multiplyExact(toLong(a), toLong(b)));
            }
            return toDouble(a) * toDouble(b);
        }
        if (isIntegral(a) && isSequence(b)) {
            return multiply(b, a, budget);
        }
        if (isSequence(a) && !isIntegral(b) || isSequence(b) && !isIntegral(a)) {
            throw typeError("can't multiply sequence by non-int of type '" + typeName(isSequence(a) ? b : a) + "'");
        }
        if (isIntegral(b) && isSequence(a)) {
            long times = Math.max(0, toLong(b));
            if (a instanceof String) {
                budget.checkSize(times * ((String) a).length());
                return ((String) a).repeat((int) times);
            }
            List<?> list = (List<?>) a;
            budget.checkSize(times * list.size());
            budget.charge(times * list.size());
            List<Object> out = new ArrayList<>();
            for (long k = 0; k < times; k++) {
                out.addAll(list);
            }
            return a instanceof PyTuple ? new PyTuple(out) : out;
        }
        throw unsupported("*", a, b);
    }

    static Object trueDivide(Object a, Object b) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (isNumber(a) && isNumber(b)) {
            double divisor = toDouble(b);
            if (divisor == 0) {
                throw new TemplateException("ZeroDivisionError: " + (a instanceof Double || b instanceof Double
                        ? "float division by zero" : "division by zero"));
            }
            return toDouble(a) / divisor;
        }
        throw unsupported("/", a, b);
    }

    static Object floorDivide(Object a, Object b) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b)) {
                if (toLong(b) == 0) {
                    throw new TemplateException("ZeroDivisionError: integer division or modulo by zero");
                }
                return Math.floorDiv(toLong(a), toLong(b));
            }
            if (toDouble(b) == 0) {
                throw new TemplateException("ZeroDivisionError: float floor division by zero");
            }
            return Math.floor(toDouble(a) / toDouble(b));
        }
        throw unsupported("//", a, b);
    }

    static Object modulo(Object a, Object b, Budget budget) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (a instanceof String) {
            return PercentFormat.format((String) a, b, budget);
        }
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b)) {
                if (toLong(b) == 0) {
                    throw new TemplateException("ZeroDivisionError: integer division or modulo by zero");
                }
                return Math.floorMod(toLong(a), toLong(b));
            }
            double x = toDouble(a);
            double y = toDouble(b);
            if (y == 0) {
                throw new TemplateException("ZeroDivisionError: float modulo");
            }
            double r = x % y;
            if (r != 0 && (r < 0) != (y < 0)) {
                r += y;
            }
            return r;
        }
        throw unsupported("%", a, b);
    }

    static Object power(Object a, Object b) {
        failIfUndefined(a);
        failIfUndefined(b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntegral(a) && isIntegral(b) && toLong(b) >= 0) {
                long base = toLong(a);
                long exp = toLong(b);
                long result = 1;
                for (long k = 0; k < exp; k++) {
                    final long r = result;
                    result = exact(() -> Math.multiplyExact(r, base));
                    if (result == 0 || result == 1 && base == 1) {
                        break;
                    }
                }
                return base == -1 ? (exp % 2 == 0 ? 1L : -1L) : result;
            }
            if (toDouble(a) == 0 && toDouble(b) < 0) {
                throw new TemplateException("ZeroDivisionError: 0.0 cannot be raised to a negative power");
            }
            return Math.pow(toDouble(a), toDouble(b));
        }
        throw unsupported("** or pow()", a, b);
    }

    static Object negate(Object a) {
        failIfUndefined(a);
        if (isIntegral(a)) {
            return exact(() -> Math.negateExact(toLong(a)));
        }
        if (a instanceof Double) {
            return -(Double) a;
        }
        throw typeError("bad operand type for unary -: '" + typeName(a) + "'");
    }

    static Object plus(Object a) {
        failIfUndefined(a);
        if (isIntegral(a)) {
            return toLong(a);
        }
        if (a instanceof Double) {
            return a;
        }
        throw typeError("bad operand type for unary +: '" + typeName(a) + "'");
    }

    private interface LongOp {
        long apply();
    }

    private static Long exact(LongOp op) {
        try {
            return op.apply();
        } catch (ArithmeticException e) {
            throw new TemplateException("OverflowError: integer result does not fit in 64 bits "
                    + "(this renderer's ints are 64-bit, unlike Python's)");
        }
    }
}
