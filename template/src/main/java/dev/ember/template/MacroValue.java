package dev.ember.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A macro defined by the template (or the body of a call block), callable like a function; returns text. */
final class MacroValue implements PyCallable {
    private final String name;
    private final List<String> params;
    private final List<Expr> defaults;
    private final List<Stmt> body;
    private final Scope closure;
    // as jinja2: extra positional or keyword arguments, or a call block, only for a body that uses them
    private final NameScan.Uses uses;

    MacroValue(String name, List<String> params, List<Expr> defaults, List<Stmt> body, NameScan.Uses uses,
               Scope closure) {
        this.name = name;
        this.params = params;
        this.defaults = defaults;
        this.body = body;
        this.closure = closure;
        this.uses = uses;
    }

    @Override
    public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
        return invoke(renderer, args, kwargs, null);
    }

    Object invoke(Renderer renderer, List<Object> args, Map<String, Object> kwargs, MacroValue caller) {
        Scope scope = new Scope(closure);
        boolean[] bound = new boolean[params.size()];
        List<Object> extra = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            if (i < params.size()) {
                scope.set(params.get(i), args.get(i));
                bound[i] = true;
            } else {
                extra.add(args.get(i));
            }
        }
        Map<Object, Object> extraKw = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : kwargs.entrySet()) {
            int at = params.indexOf(e.getKey());
            if (at < 0) {
                extraKw.put(e.getKey(), e.getValue());
            } else if (bound[at]) {
                throw PyOps.typeError("macro '" + name + "' got multiple values for argument '" + e.getKey() + "'");
            } else {
                scope.set(e.getKey(), e.getValue());
                bound[at] = true;
            }
        }
        if (caller != null && !uses.caller() && !params.contains("caller")) {
            throw PyOps.typeError("macro '" + name + "' was invoked with two values for the special caller argument."
                    + " This is most likely a bug.");
        }
        if (!extraKw.isEmpty() && !uses.kwargs()) {
            throw PyOps.typeError("macro '" + name + "' takes no keyword argument '" + extraKw.keySet().iterator().next()
                    + "'");
        }
        if (!extra.isEmpty() && !uses.varargs()) {
            throw PyOps.typeError("macro '" + name + "' takes not more than " + params.size() + " argument(s)");
        }
        for (int i = 0; i < params.size(); i++) {
            if (!bound[i]) {
                Expr d = defaults.get(i);
                scope.set(params.get(i), d != null ? renderer.eval(d, scope)
                        : Undefined.because("parameter '" + params.get(i) + "' was not provided"));
            }
        }
        scope.set("varargs", new PyTuple(extra));
        scope.set("kwargs", extraKw);
        if (caller != null) {
            scope.set("caller", caller);
        }
        return renderer.callMacroBody(name, body, scope);
    }

    @Override
    public String describe() {
        return "Macro '" + name + "'";
    }
}
