package dev.ember.template;

import java.util.ArrayList;
import java.util.List;

/** Python arithmetic on template values: + - * / // % ** and unary minus/plus, with Python's errors. */
final class PyArith {
    private PyArith() {
    }

    /** str, list or tuple: what Python repeats with {@code *}. */
    private static boolean isSequence(Object v) {
        return v instanceof String || (v instanceof List && !(v instanceof PyRange));
    }

    static TemplateException unsupported(String op, Object a, Object b) {
        return PyOps.typeError("unsupported operand type(s) for " + op + ": '" + PyOps.typeName(a) + "' and '"
                + PyOps.typeName(b) + "'");
    }

    static Object add(Object a, Object b, Budget budget) {
        PyOps.failIfUndefined(a);
        PyOps.failIfUndefined(b);
        if (PyOps.isNumber(a) && PyOps.isNumber(b)) {
            if (PyOps.isIntegral(a) && PyOps.isIntegral(b)) {
                return exact(() -> Math.addExact(PyOps.toLong(a), PyOps.toLong(b)));
            }
            return PyOps.toDouble(a) + PyOps.toDouble(b);
        }
        if (a instanceof String) {
            if (!(b instanceof String)) {
                throw PyOps.typeError("can only concatenate str (not \"" + PyOps.typeName(b) + "\") to str");
            }
            budget.checkSize((long) ((String) a).length() + ((String) b).length());
            return (String) a + b;
        }
        if (a instanceof List && !(a instanceof PyRange)) {
            boolean tuple = a instanceof PyTuple;
            if (!(b instanceof List) || (b instanceof PyTuple) != tuple || b instanceof PyRange) {
                throw PyOps.typeError("can only concatenate " + PyOps.typeName(a) + " (not \"" + PyOps.typeName(b) + "\") to " + PyOps.typeName(a));
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
        PyOps.failIfUndefined(a);
        PyOps.failIfUndefined(b);
        if (PyOps.isNumber(a) && PyOps.isNumber(b)) {
            if (PyOps.isIntegral(a) && PyOps.isIntegral(b)) {
                return exact(() -> Math.subtractExact(PyOps.toLong(a), PyOps.toLong(b)));
            }
            return PyOps.toDouble(a) - PyOps.toDouble(b);
        }
        throw unsupported("-", a, b);
    }

    static Object multiply(Object a, Object b, Budget budget) {
        PyOps.failIfUndefined(a);
        PyOps.failIfUndefined(b);
        if (PyOps.isNumber(a) && PyOps.isNumber(b)) {
            if (PyOps.isIntegral(a) && PyOps.isIntegral(b)) {
                return exact(() -> Math.multiplyExact(PyOps.toLong(a), PyOps.toLong(b)));
            }
            return PyOps.toDouble(a) * PyOps.toDouble(b);
        }
        if (PyOps.isIntegral(a) && isSequence(b)) {
            return multiply(b, a, budget);
        }
        if (isSequence(a) && !PyOps.isIntegral(b) || isSequence(b) && !PyOps.isIntegral(a)) {
            throw PyOps.typeError("can't multiply sequence by non-int of type '" + PyOps.typeName(isSequence(a) ? b : a) + "'");
        }
        if (PyOps.isIntegral(b) && isSequence(a)) {
            long times = Math.max(0, PyOps.toLong(b));
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
        PyOps.failIfUndefined(a);
        PyOps.failIfUndefined(b);
        if (PyOps.isNumber(a) && PyOps.isNumber(b)) {
            double divisor = PyOps.toDouble(b);
            if (divisor == 0) {
                throw new TemplateException("ZeroDivisionError: " + (a instanceof Double || b instanceof Double
                        ? "float division by zero" : "division by zero"));
            }
            return PyOps.toDouble(a) / divisor;
        }
        throw unsupported("/", a, b);
    }

    static Object floorDivide(Object a, Object b) {
        PyOps.failIfUndefined(a);
        PyOps.failIfUndefined(b);
        if (PyOps.isNumber(a) && PyOps.isNumber(b)) {
            if (PyOps.isIntegral(a) && PyOps.isIntegral(b)) {
                if (PyOps.toLong(b) == 0) {
                    throw new TemplateException("ZeroDivisionError: integer division or modulo by zero");
                }
                return Math.floorDiv(PyOps.toLong(a), PyOps.toLong(b));
            }
            if (PyOps.toDouble(b) == 0) {
                throw new TemplateException("ZeroDivisionError: float floor division by zero");
            }
            return floatDivmod(PyOps.toDouble(a), PyOps.toDouble(b))[0];
        }
        throw unsupported("//", a, b);
    }

    static Object modulo(Object a, Object b, Budget budget) {
        PyOps.failIfUndefined(a);
        PyOps.failIfUndefined(b);
        if (a instanceof String) {
            return PercentFormat.format((String) a, b, budget);
        }
        if (PyOps.isNumber(a) && PyOps.isNumber(b)) {
            if (PyOps.isIntegral(a) && PyOps.isIntegral(b)) {
                if (PyOps.toLong(b) == 0) {
                    throw new TemplateException("ZeroDivisionError: integer division or modulo by zero");
                }
                return Math.floorMod(PyOps.toLong(a), PyOps.toLong(b));
            }
            double x = PyOps.toDouble(a);
            double y = PyOps.toDouble(b);
            if (y == 0) {
                throw new TemplateException("ZeroDivisionError: float modulo");
            }
            return floatDivmod(x, y)[1];
        }
        throw unsupported("%", a, b);
    }

    /**
     * CPython's float divmod (floatobject.c), y != 0: the quotient is rounded from (x - mod) / y, not floor(x / y),
     * so 1 // 0.1 is 9.0; a zero remainder takes y's sign and a zero quotient x / y's.
     */
    private static double[] floatDivmod(double x, double y) {
        double mod = x % y; // Java's % on doubles is C's fmod
        double div = (x - mod) / y;
        if (mod != 0) {
            if ((y < 0) != (mod < 0)) {
                mod += y;
                div -= 1.0;
            }
        } else {
            mod = Math.copySign(0.0, y);
        }
        double floorDiv;
        if (div != 0) {
            floorDiv = Math.floor(div);
            if (div - floorDiv > 0.5) {
                floorDiv += 1.0;
            }
        } else {
            floorDiv = Math.copySign(0.0, x / y);
        }
        return new double[] {floorDiv, mod};
    }

    static Object power(Object a, Object b) {
        PyOps.failIfUndefined(a);
        PyOps.failIfUndefined(b);
        if (PyOps.isNumber(a) && PyOps.isNumber(b)) {
            if (PyOps.isIntegral(a) && PyOps.isIntegral(b) && PyOps.toLong(b) >= 0) {
                long base = PyOps.toLong(a);
                long exp = PyOps.toLong(b);
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
            if (PyOps.toDouble(a) == 0 && PyOps.toDouble(b) < 0) {
                throw new TemplateException("ZeroDivisionError: 0.0 cannot be raised to a negative power");
            }
            return Math.pow(PyOps.toDouble(a), PyOps.toDouble(b));
        }
        throw unsupported("** or pow()", a, b);
    }

    static Object negate(Object a) {
        PyOps.failIfUndefined(a);
        if (PyOps.isIntegral(a)) {
            return exact(() -> Math.negateExact(PyOps.toLong(a)));
        }
        if (a instanceof Double) {
            return -(Double) a;
        }
        throw PyOps.typeError("bad operand type for unary -: '" + PyOps.typeName(a) + "'");
    }

    static Object plus(Object a) {
        PyOps.failIfUndefined(a);
        if (PyOps.isIntegral(a)) {
            return PyOps.toLong(a);
        }
        if (a instanceof Double) {
            return a;
        }
        throw PyOps.typeError("bad operand type for unary +: '" + PyOps.typeName(a) + "'");
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
