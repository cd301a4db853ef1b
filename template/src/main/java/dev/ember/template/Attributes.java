package dev.ember.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * jinja2's sandboxed attribute and item lookup. {@code a.b} looks for a Python attribute first (the
 * whitelisted methods of str, dict and list) and then a key; {@code a[b]} looks for a key or index first
 * and then an attribute. Names starting with '_' and mutating methods (list.append, dict.update, ...) are
 * refused as ImmutableSandboxedEnvironment refuses them. Nothing else exists: a template reaches no Java
 * object, class or method.
 */
final class Attributes {
    static final Set<String> STR_METHODS = Set.of("startswith", "endswith", "split", "rsplit", "splitlines", "strip",
            "lstrip", "rstrip", "replace", "upper", "lower", "title", "capitalize", "swapcase", "casefold", "find",
            "rfind", "index", "rindex", "count", "format", "join", "isdigit", "isnumeric", "isdecimal", "isalpha",
            "isalnum", "isspace", "islower", "isupper", "zfill", "center", "ljust", "rjust", "removeprefix",
            "removesuffix", "partition", "rpartition");
    static final Set<String> DICT_METHODS = Set.of("items", "keys", "values", "get", "copy");
    static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");
    static final Set<String> LIST_METHODS = Set.of("index", "count", "copy");
    static final Set<String> LIST_MUTATORS = Set.of("append", "extend", "insert", "pop", "remove", "reverse", "sort",
            "clear");

    private Attributes() {
    }

    /** {@code a.b}: a Python attribute, then (for a mapping) the key {@code b}. */
    static Object getattr(Object obj, String name) {
        return lookup(obj, name, true);
    }

    /**
     * Python's getattr alone, as the {@code attr} filter does: a mapping's keys are not attributes there (only
     * {@code a.b} falls back to {@code a['b']}).
     */
    static Object pythonAttribute(Object obj, String name) {
        return lookup(obj, name, false);
    }

    private static Object lookup(Object obj, String name, boolean mapKeys) {
        PyOps.failIfUndefined(obj);
        if (name.startsWith("_")) {
            return Undefined.unsafe(obj, name);
        }
        if (obj instanceof Map) {
            Map<?, ?> map = (Map<?, ?>) obj;
            if (DICT_METHODS.contains(name)) {
                return new Methods.Bound(obj, name);
            }
            if (DICT_MUTATORS.contains(name)) {
                return Undefined.unsafe(obj, name);
            }
            return mapKeys && map.containsKey(name) ? map.get(name) : Undefined.missingAttribute(obj, name);
        }
        if (obj instanceof String) {
            return STR_METHODS.contains(name) ? new Methods.Bound(obj, name) : Undefined.missingAttribute(obj, name);
        }
        if (obj instanceof List && !(obj instanceof PyRange)) {
            boolean tuple = obj instanceof PyTuple;
            if (LIST_METHODS.contains(name) && !(tuple && name.equals("copy"))) {
                return new Methods.Bound(obj, name);
            }
            if (!tuple && LIST_MUTATORS.contains(name)) {
                return Undefined.unsafe(obj, name);
            }
            return Undefined.missingAttribute(obj, name);
        }
        if (obj instanceof Namespace) {
            Map<String, Object> attrs = ((Namespace) obj).attributes;
            return attrs.containsKey(name) ? attrs.get(name) : Undefined.missingAttribute(obj, name);
        }
        if (obj instanceof LoopState) {
            return ((LoopState) obj).attribute(name);
        }
        if (obj instanceof PyRange) {
            PyRange r = (PyRange) obj;
            switch (name) {
                case "start": return r.start;
                case "stop": return r.stop;
                case "step": return r.step;
                default: return Undefined.missingAttribute(obj, name);
            }
        }
        return Undefined.missingAttribute(obj, name);
    }

    static Object getitem(Object obj, Object key) {
        PyOps.failIfUndefined(obj);
        if (obj instanceof Map) {
            Map<?, ?> map = (Map<?, ?>) obj;
            if (map.containsKey(key)) {
                return map.get(key);
            }
            if (PyOps.isNumber(key)) {
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (PyOps.isNumber(e.getKey()) && PyOps.equal(e.getKey(), key)) {
                        return e.getValue();
                    }
                }
            }
        } else if ((obj instanceof List || obj instanceof String) && PyOps.isIntegral(key)) {
            long i = PyOps.toLong(key);
            if (obj instanceof String) {
                String s = (String) obj;
                int n = PyStr.length(s);
                long at = i < 0 ? i + n : i;
                if (at >= 0 && at < n) {
                    return PyStr.codePointSubstring(s, (int) at, (int) at + 1);
                }
            } else {
                List<?> list = (List<?>) obj;
                long at = i < 0 ? i + list.size() : i;
                if (at >= 0 && at < list.size()) {
                    return list.get((int) at);
                }
            }
            return Undefined.missingItem(obj, key);
        }
        if (key instanceof String) {
            return getattr(obj, (String) key);
        }
        return Undefined.missingItem(obj, key);
    }

    /** Python slicing {@code obj[start:stop:step]} of a list, tuple, range or string (by code points). */
    static Object slice(Object obj, Object start, Object stop, Object step, Budget budget) {
        PyOps.failIfUndefined(obj);
        // jinja2 compiles a slice to Python's own subscript (not its lenient getitem), so these are TypeErrors
        if (obj instanceof Map) {
            throw PyOps.typeError("unhashable type: 'slice'");
        }
        if (!(obj instanceof String) && !(obj instanceof List)) {
            throw PyOps.typeError("'" + PyOps.typeName(obj) + "' object is not subscriptable");
        }
        long st = step == null ? 1 : index(step);
        if (st == 0) {
            throw new TemplateException("ValueError: slice step cannot be zero");
        }
        if (obj instanceof String) {
            String s = (String) obj;
            int[] cps = s.codePoints().toArray();
            long[] range = bounds(cps.length, start, stop, st);
            StringBuilder b = new StringBuilder();
            for (long i = range[0]; st > 0 ? i < range[1] : i > range[1]; i += st) {
                b.appendCodePoint(cps[(int) i]);
            }
            budget.charge(b.length() / 16 + 1);
            return b.toString();
        }
        List<?> list = (List<?>) obj;
        long[] range = bounds(list.size(), start, stop, st);
        List<Object> out = new ArrayList<>();
        for (long i = range[0]; st > 0 ? i < range[1] : i > range[1]; i += st) {
            out.add(list.get((int) i));
        }
        budget.charge(out.size());
        return obj instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static long index(Object v) {
        if (PyOps.isIntegral(v)) {
            return PyOps.toLong(v);
        }
        throw PyOps.typeError("slice indices must be integers or None, not " + PyOps.typeName(v));
    }

    /** Python's slice.indices: clamps start and stop for a sequence of length n. */
    private static long[] bounds(long n, Object start, Object stop, long step) {
        long lower = step > 0 ? 0 : -1;
        long upper = step > 0 ? n : n - 1;
        long s = start == null ? (step > 0 ? lower : upper) : clamp(index(start), n, lower, upper);
        long e = stop == null ? (step > 0 ? upper : lower) : clamp(index(stop), n, lower, upper);
        return new long[] {s, e};
    }

    private static long clamp(long i, long n, long lower, long upper) {
        if (i < 0) {
            i += n;
            return Math.max(i, lower);
        }
        return Math.min(i, upper);
    }
}
