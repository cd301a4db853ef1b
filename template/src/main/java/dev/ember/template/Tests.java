package dev.ember.template;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** jinja2's builtin tests ({@code x is defined}, {@code n is divisibleby 3}, ...). */
final class Tests {
    private static final Set<String> NAMES = Set.of("defined", "undefined", "none", "boolean", "false", "true",
            "integer", "float", "number", "string", "mapping", "iterable", "sequence", "callable", "sameas", "escaped",
            "even", "odd", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt",
            "greaterthan", ">", "ge", ">=", "in", "lower", "upper", "filter", "test");

    private Tests() {
    }

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static boolean apply(String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "defined": Args.bind(name, args, kwargs); return !(v instanceof Undefined);
            case "undefined": Args.bind(name, args, kwargs); return v instanceof Undefined;
            case "none": Args.bind(name, args, kwargs); return v == null;
            case "boolean": Args.bind(name, args, kwargs); return v instanceof Boolean;
            case "false": Args.bind(name, args, kwargs); return Boolean.FALSE.equals(v);
            case "true": Args.bind(name, args, kwargs); return Boolean.TRUE.equals(v);
            case "integer": Args.bind(name, args, kwargs); return v instanceof Long;
            case "float": Args.bind(name, args, kwargs); return v instanceof Double;
            case "number": Args.bind(name, args, kwargs); return PyOps.isNumber(v);
            case "string": Args.bind(name, args, kwargs); return v instanceof String;
            case "mapping": Args.bind(name, args, kwargs); return v instanceof Map;
            case "iterable":
            case "sequence":
                Args.bind(name, args, kwargs);
                return v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined;
            case "callable":
                Args.bind(name, args, kwargs);
                return v instanceof PyCallable || v instanceof Undefined;
            case "escaped": Args.bind(name, args, kwargs); return false;
            case "even":
            case "odd": {
                Args.bind(name, args, kwargs);
                Object r = PyArith.modulo(requireNumber(v), 2L, null);
                return PyOps.equal(r, name.equals("even") ? 0L : 1L);
            }
            case "divisibleby": {
                Object[] a = Args.bind(name, args, kwargs, "num", Args.REQUIRED);
                return PyOps.equal(PyArith.modulo(requireNumber(v), a[0], null), 0L);
            }
            case "sameas": {
                Object[] a = Args.bind(name, args, kwargs, "other", Args.REQUIRED);
                return sameAs(v, a[0]);
            }
            case "in": {
                Object[] a = Args.bind(name, args, kwargs, "seq", Args.REQUIRED);
                return PyOps.contains(a[0], v);
            }
            case "lower": Args.bind(name, args, kwargs); return PyStr.isLower(PyFormat.str(v));
            case "upper": Args.bind(name, args, kwargs); return PyStr.isUpper(PyFormat.str(v));
            case "filter": Args.bind(name, args, kwargs); return v instanceof String && Filters.exists((String) v);
            case "test": Args.bind(name, args, kwargs); return v instanceof String && exists((String) v);
            default:
                return compare(name, v, Args.bind(name, args, kwargs, "other", Args.REQUIRED)[0]);
        }
    }

    /** Keeps {@code 'text' is odd} from turning into Python's printf-style string formatting. */
    private static Object requireNumber(Object v) {
        if (v instanceof String) {
            throw PyOps.typeError("not all arguments converted during string formatting");
        }
        return v;
    }

    private static boolean compare(String name, Object a, Object b) {
        switch (name) {
            case "eq": case "equalto": case "==": return PyOps.equal(a, b);
            case "ne": case "!=": return !PyOps.equal(a, b);
            case "lt": case "lessthan": case "<": return PyOps.compare(a, b, "<") < 0;
            case "le": case "<=": return PyOps.compare(a, b, "<=") <= 0;
            case "gt": case "greaterthan": case ">": return PyOps.compare(a, b, ">") > 0;
            case "ge": case ">=": return PyOps.compare(a, b, ">=") >= 0;
            default: throw new IllegalStateException("test without implementation: " + name);
        }
    }

    /** Python's {@code is}: identity, which for None, booleans and small ints means equal values. */
    private static boolean sameAs(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a instanceof Boolean || b instanceof Boolean) {
            return a instanceof Boolean && a.equals(b);
        }
        if (a instanceof Long && b instanceof Long) {
            long x = (Long) a;
            return x == (Long) b && x >= -5 && x <= 256;
        }
        return false;
    }
}
