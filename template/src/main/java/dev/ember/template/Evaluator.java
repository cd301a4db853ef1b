package dev.ember.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Evaluates expression nodes with jinja2/Python semantics; one per rendering. */
final class Evaluator {
    private final Renderer renderer;
    private final Budget budget;
    private final SourceMap map;

    Evaluator(Renderer renderer, Budget budget, SourceMap map) {
        this.renderer = renderer;
        this.budget = budget;
        this.map = map;
    }

    Object eval(Expr e, Scope scope) {
        budget.step();
        try {
            return evalNode(e, scope);
        } catch (TemplateException ex) {
            throw ex.at(map.position(e.at()));
        }
    }

    private Object evalNode(Expr e, Scope scope) {
        if (e instanceof Expr.Const) {
            return ((Expr.Const) e).value();
        }
        if (e instanceof Expr.Name) {
            return lookup(((Expr.Name) e).name(), scope);
        }
        if (e instanceof Expr.GetAttr) {
            Expr.GetAttr g = (Expr.GetAttr) e;
            return Attributes.getattr(eval(g.obj(), scope), g.name());
        }
        if (e instanceof Expr.GetItem) {
            Expr.GetItem g = (Expr.GetItem) e;
            Object obj = eval(g.obj(), scope);
            if (g.key() instanceof Expr.Slice) {
                Expr.Slice s = (Expr.Slice) g.key();
                return Attributes.slice(obj, optional(s.start(), scope), optional(s.stop(), scope),
                        optional(s.step(), scope), budget);
            }
            return Attributes.getitem(obj, eval(g.key(), scope));
        }
        if (e instanceof Expr.Binary) {
            return binary((Expr.Binary) e, scope);
        }
        if (e instanceof Expr.Compare) {
            return compare((Expr.Compare) e, scope);
        }
        if (e instanceof Expr.Unary) {
            Expr.Unary u = (Expr.Unary) e;
            Object v = eval(u.operand(), scope);
            switch (u.op()) {
                case "not": return !PyOps.truthy(v);
                case "-": return PyArith.negate(v);
                default: return PyArith.plus(v);
            }
        }
        if (e instanceof Expr.Filter) {
            Expr.Filter f = (Expr.Filter) e;
            return applyFilter(f, eval(f.value(), scope), scope);
        }
        if (e instanceof Expr.Test) {
            Expr.Test t = (Expr.Test) e;
            Object v = eval(t.value(), scope);
            boolean result = Tests.apply(t.name(), v, evalAll(t.args(), scope), kwargs(t.kwNames(), t.kwValues(), scope));
            return result != t.negated();
        }
        if (e instanceof Expr.Call) {
            return call((Expr.Call) e, scope, null);
        }
        if (e instanceof Expr.CondExpr) {
            Expr.CondExpr c = (Expr.CondExpr) e;
            if (PyOps.truthy(eval(c.cond(), scope))) {
                return eval(c.then(), scope);
            }
            return c.otherwise() != null ? eval(c.otherwise(), scope)
                    : Undefined.because("the inline if-expression on line " + map.line(c.at())
                      + " evaluated to false and no else section was defined.");
        }
        if (e instanceof Expr.ListLit) {
            List<Object> items = evalAll(((Expr.ListLit) e).items(), scope);
            return items;
        }
        if (e instanceof Expr.TupleLit) {
            return new PyTuple(evalAll(((Expr.TupleLit) e).items(), scope));
        }
        if (e instanceof Expr.DictLit) {
            Expr.DictLit d = (Expr.DictLit) e;
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < d.keys().size(); i++) {
                Object key = eval(d.keys().get(i), scope);
                if (key instanceof List && !(key instanceof PyTuple) || key instanceof Map || key instanceof Namespace) {
                    throw PyOps.typeError("unhashable type: '" + PyOps.typeName(key) + "'");
                }
                out.put(key, eval(d.values().get(i), scope));
            }
            return out;
        }
        throw new IllegalStateException("expression without evaluation: " + e.getClass().getSimpleName());
    }

    private Object optional(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private Object lookup(String name, Scope scope) {
        Object v = scope.lookup(name);
        if (v != Scope.MISSING) {
            return v;
        }
        PyCallable builtin = Builtins.lookup(name);
        return builtin != null ? builtin : Undefined.named(name);
    }

    List<Object> evalAll(List<Expr> exprs, Scope scope) {
        List<Object> out = new ArrayList<>(exprs.size());
        for (Expr x : exprs) {
            out.add(eval(x, scope));
        }
        return out;
    }

    Map<String, Object> kwargs(List<String> names, List<Expr> values, Scope scope) {
        if (names.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            out.put(names.get(i), eval(values.get(i), scope));
        }
        return out;
    }

    Object applyFilter(Expr.Filter f, Object value, Scope scope) {
        return Filters.apply(renderer, f.name(), value, evalAll(f.args(), scope), kwargs(f.kwNames(), f.kwValues(), scope));
    }

    /** Calls a function value; {@code caller} is the body of a call block, passed to a macro. */
    Object call(Expr.Call c, Scope scope, MacroValue caller) {
        Object fn = eval(c.fn(), scope);
        List<Object> args = evalAll(c.args(), scope);
        Map<String, Object> kwargs = kwargs(c.kwNames(), c.kwValues(), scope);
        if (fn instanceof MacroValue) {
            return ((MacroValue) fn).invoke(renderer, args, kwargs, caller);
        }
        if (caller != null) {
            throw PyOps.typeError("a call block needs a macro, not " + PyOps.typeName(fn));
        }
        if (fn instanceof PyCallable) {
            return ((PyCallable) fn).call(renderer, args, kwargs);
        }
        PyOps.failIfUndefined(fn);
        throw PyOps.typeError("'" + PyOps.typeName(fn) + "' object is not callable");
    }

    private Object binary(Expr.Binary b, Scope scope) {
        Object left = eval(b.left(), scope);
        switch (b.op()) {
            case "and": return PyOps.truthy(left) ? eval(b.right(), scope) : left;
            case "or": return PyOps.truthy(left) ? left : eval(b.right(), scope);
            default: break;
        }
        Object right = eval(b.right(), scope);
        switch (b.op()) {
            case "+": return PyArith.add(left, right, budget);
            case "-": return PyArith.subtract(left, right);
            case "*": return PyArith.multiply(left, right, budget);
            case "/": return PyArith.trueDivide(left, right);
            case "//": return PyArith.floorDivide(left, right);
            case "%": return PyArith.modulo(left, right, budget);
            case "**": return PyArith.power(left, right);
            case "~": {
                String l = PyFormat.str(left);
                String r = PyFormat.str(right);
                budget.checkSize((long) l.length() + r.length());
                return l + r;
            }
            default: throw new IllegalStateException("binary operator without evaluation: " + b.op());
        }
    }

    private Object compare(Expr.Compare c, Scope scope) {
        Object left = eval(c.first(), scope);
        for (int i = 0; i < c.ops().size(); i++) {
            Object right = eval(c.rest().get(i), scope);
            String op = c.ops().get(i);
            boolean ok;
            switch (op) {
                case "==": ok = PyOps.equal(left, right); break;
                case "!=": ok = !PyOps.equal(left, right); break;
                case "<": ok = PyOps.compare(left, right, op) < 0; break;
                case "<=": ok = PyOps.compare(left, right, op) <= 0; break;
                case ">": ok = PyOps.compare(left, right, op) > 0; break;
                case ">=": ok = PyOps.compare(left, right, op) >= 0; break;
                case "in": ok = PyOps.contains(right, left); break;
                default: ok = !PyOps.contains(right, left); break;
            }
            if (!ok) {
                return false;
            }
            left = right;
        }
        return true;
    }
}
