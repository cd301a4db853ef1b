package dev.ember.template;

import java.util.List;
import java.util.Map;

/** Binds positional and keyword arguments to named parameters, the way a Python signature does. */
final class Args {
    /** Marks a parameter without a default. */
    static final Object REQUIRED = new Object();

    private Args() {
    }

    /**
     * @param spec alternating parameter names and defaults, e.g. {@code "width", 4L, "first", false}
     * @return the bound values, in parameter order
     */
    static Object[] bind(String function, List<Object> args, Map<String, Object> kwargs, Object... spec) {
        int n = spec.length / 2;
        Object[] values = new Object[n];
        boolean[] given = new boolean[n];
        if (args.size() > n) {
            throw PyOps.typeError(function + "() takes at most " + n + " argument" + (n == 1 ? "" : "s") + " ("
                    + args.size() + " given)");
        }
        for (int i = 0; i < args.size(); i++) {
            values[i] = args.get(i);
            given[i] = true;
        }
        for (Map.Entry<String, Object> e : kwargs.entrySet()) {
            int at = -1;
            for (int i = 0; i < n; i++) {
                if (spec[2 * i].equals(e.getKey())) {
                    at = i;
                }
            }
            if (at < 0) {
                throw PyOps.typeError(function + "() got an unexpected keyword argument '" + e.getKey() + "'");
            }
            if (given[at]) {
                throw PyOps.typeError(function + "() got multiple values for argument '" + e.getKey() + "'");
            }
            values[at] = e.getValue();
            given[at] = true;
        }
        for (int i = 0; i < n; i++) {
            if (!given[i]) {
                if (spec[2 * i + 1] == REQUIRED) {
                    throw PyOps.typeError(function + "() missing required argument '" + spec[2 * i] + "'");
                }
                values[i] = spec[2 * i + 1];
            }
        }
        return values;
    }

    static long integer(String function, String param, Object v) {
        if (PyOps.isIntegral(v)) {
            return PyOps.toLong(v);
        }
        PyOps.failIfUndefined(v);
        throw PyOps.typeError(function + "() argument '" + param + "' must be an integer, not " + PyOps.typeName(v));
    }

    static String string(String function, String param, Object v) {
        if (v instanceof String) {
            return (String) v;
        }
        PyOps.failIfUndefined(v);
        throw PyOps.typeError(function + "() argument '" + param + "' must be str, not " + PyOps.typeName(v));
    }

    /** A str argument that may be None (Python's default of many str methods). */
    static String optionalString(String function, String param, Object v) {
        return v == null ? null : string(function, param, v);
    }
}
