package dev.ember.template;

import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The global functions a chat template can call: jinja2's range (sandbox-capped at 100000 items),
 * dict and namespace, and transformers' raise_exception and strftime_now.
 */
final class Builtins {
    /** jinja2's sandbox refuses larger ranges (SandboxedEnvironment's MAX_RANGE). */
    static final int MAX_RANGE = 100_000;

    private Builtins() {
    }

    /** The builtin of that name, or null. */
    static PyCallable lookup(String name) {
        switch (name) {
            case "range": return fn(name, Builtins::range);
            case "dict": return fn(name, Builtins::dict);
            case "namespace": return fn(name, Builtins::namespace);
            case "raise_exception": return fn(name, (r, args, kwargs) -> {
                Object[] a = Args.bind(name, args, kwargs, "message", Args.REQUIRED);
                throw TemplateException.raised(PyFormat.str(a[0]));
            });
            case "strftime_now": return fn(name, (r, args, kwargs) -> {
                Object[] a = Args.bind(name, args, kwargs, "format", Args.REQUIRED);
                return Strftime.format(Args.string(name, "format", a[0]), ZonedDateTime.now());
            });
            default: return null;
        }
    }

    private interface Body {
        Object call(Renderer r, List<Object> args, Map<String, Object> kwargs);
    }

    private static PyCallable fn(String name, Body body) {
        return new PyCallable() {
            @Override
            public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
                return body.call(renderer, args, kwargs);
            }

            @Override
            public String describe() {
                return "built-in function " + name;
            }
        };
    }

    private static Object range(Renderer r, List<Object> args, Map<String, Object> kwargs) {
        if (!kwargs.isEmpty()) {
            throw PyOps.typeError("range() takes no keyword arguments");
        }
        if (args.isEmpty() || args.size() > 3) {
            throw PyOps.typeError("range expected 1 to 3 arguments, got " + args.size());
        }
        long[] v = new long[args.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = Args.integer("range", "argument " + (i + 1), args.get(i));
        }
        long start = v.length == 1 ? 0 : v[0];
        long stop = v.length == 1 ? v[0] : v[1];
        long step = v.length == 3 ? v[2] : 1;
        if (step == 0) {
            throw new TemplateException("ValueError: range() arg 3 must not be zero");
        }
        double count = step > 0 ? Math.ceil(((double) stop - start) / step) : Math.ceil(((double) start - stop) / -step);
        if (count > MAX_RANGE) {
            throw new TemplateException("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE ("
                    + MAX_RANGE + ").");
        }
        return new PyRange(start, stop, step);
    }

    private static Object dict(Renderer r, List<Object> args, Map<String, Object> kwargs) {
        if (args.size() > 1) {
            throw PyOps.typeError("dict expected at most 1 argument, got " + args.size());
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        if (!args.isEmpty()) {
            Object source = args.get(0);
            if (source instanceof Map) {
                out.putAll((Map<?, ?>) source);
            } else {
                for (Object pair : PyOps.iterate(source)) {
                    List<Object> kv = PyOps.iterate(pair);
                    if (kv.size() != 2) {
                        throw new TemplateException("ValueError: dictionary update sequence element has length "
                                + kv.size() + "; 2 is required");
                    }
                    out.put(kv.get(0), kv.get(1));
                }
            }
        }
        out.putAll(kwargs);
        r.budget().charge(out.size());
        return out;
    }

    private static Object namespace(Renderer r, List<Object> args, Map<String, Object> kwargs) {
        Namespace ns = new Namespace();
        for (Object source : args) {
            if (!(source instanceof Map)) {
                throw PyOps.typeError("namespace() positional arguments must be mappings, not " + PyOps.typeName(source));
            }
            ((Map<?, ?>) source).forEach((k, v) -> ns.attributes.put(PyFormat.str(k), v));
        }
        ns.attributes.putAll(kwargs);
        return ns;
    }
}
