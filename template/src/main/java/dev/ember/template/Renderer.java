package dev.ember.template;

import dev.ember.template.Stmt.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Executes the statements of one rendering into a string; created per render (not thread-safe), so a
 * parsed {@link ChatTemplate} can be shared across threads.
 */
final class Renderer {
    private static final int MAX_MACRO_DEPTH = 100;

    private enum Flow { NORMAL, BREAK, CONTINUE }

    private final Budget budget;
    private final SourceMap map;
    private final Evaluator evaluator;
    private StringBuilder out = new StringBuilder();
    private int macroDepth;

    Renderer(Budget budget, SourceMap map) {
        this.budget = budget;
        this.map = map;
        this.evaluator = new Evaluator(this, budget, map);
    }

    Budget budget() {
        return budget;
    }

    String render(List<Stmt> body, Scope root) {
        execute(body, root);
        return out.toString();
    }

    Object eval(Expr e, Scope scope) {
        return evaluator.eval(e, scope);
    }

    String callMacroBody(String name, List<Stmt> body, Scope scope) {
        if (++macroDepth > MAX_MACRO_DEPTH) {
            throw new TemplateException("RecursionError: macro '" + name + "' nested more than " + MAX_MACRO_DEPTH
                    + " calls deep");
        }
        try {
            return capture(body, scope);
        } finally {
            macroDepth--;
        }
    }

    /** Renders body into its own buffer and returns the text (macros, block set, filter blocks). */
    private String capture(List<Stmt> body, Scope scope) {
        StringBuilder saved = out;
        out = new StringBuilder();
        try {
            execute(body, scope);
            return out.toString();
        } finally {
            out = saved;
        }
    }

    private void write(String text) {
        out.append(text);
        budget.checkSize(out.length());
    }

    private Flow execute(List<Stmt> body, Scope scope) {
        for (Stmt s : body) {
            budget.step();
            Flow flow;
            try {
                flow = executeOne(s, scope);
            } catch (TemplateException e) {
                throw e.at(map.position(s.at()));
            }
            if (flow != Flow.NORMAL) {
                return flow;
            }
        }
        return Flow.NORMAL;
    }

    private Flow executeOne(Stmt s, Scope scope) {
        if (s instanceof Stmt.Text) {
            write(((Stmt.Text) s).text());
        } else if (s instanceof Stmt.Print) {
            write(PyFormat.str(eval(((Stmt.Print) s).expr(), scope)));
        } else if (s instanceof Stmt.If) {
            Stmt.If f = (Stmt.If) s;
            for (int i = 0; i < f.conditions().size(); i++) {
                if (PyOps.truthy(eval(f.conditions().get(i), scope))) {
                    return execute(f.bodies().get(i), scope);
                }
            }
            return execute(f.elseBody(), scope);
        } else if (s instanceof Stmt.For) {
            forLoop((Stmt.For) s, scope);
        } else if (s instanceof Stmt.Set) {
            Stmt.Set set = (Stmt.Set) s;
            assign(set.target(), eval(set.value(), scope), scope);
        } else if (s instanceof Stmt.SetBlock) {
            Stmt.SetBlock set = (Stmt.SetBlock) s;
            assign(set.target(), applyFilters(set.filters(), capture(set.body(), scope), scope), scope);
        } else if (s instanceof Stmt.Macro) {
            Stmt.Macro m = (Stmt.Macro) s;
            scope.set(m.name(), new MacroValue(m.name(), m.params(), m.defaults(), m.body(), m.uses(), scope));
        } else if (s instanceof Stmt.CallBlock) {
            Stmt.CallBlock c = (Stmt.CallBlock) s;
            MacroValue caller = new MacroValue("caller", c.params(), c.defaults(), c.body(), c.uses(), scope);
            write(PyFormat.str(evaluator.call(c.call(), scope, caller)));
        } else if (s instanceof Stmt.FilterBlock) {
            Stmt.FilterBlock f = (Stmt.FilterBlock) s;
            write(PyFormat.str(applyFilters(f.filters(), capture(f.body(), scope), scope)));
        } else if (s instanceof Stmt.With) {
            Stmt.With w = (Stmt.With) s;
            Scope inner = new Scope(scope);
            List<Object> values = evaluator.evalAll(w.values(), scope);
            for (int i = 0; i < values.size(); i++) {
                assign(w.targets().get(i), values.get(i), inner);
            }
            return execute(w.body(), inner);
        } else if (s instanceof Stmt.Break) {
            return Flow.BREAK;
        } else if (s instanceof Stmt.Continue) {
            return Flow.CONTINUE;
        } else {
            throw new IllegalStateException("statement without execution: " + s.getClass().getSimpleName());
        }
        return Flow.NORMAL;
    }

    private Object applyFilters(List<Expr.Filter> filters, Object value, Scope scope) {
        for (Expr.Filter f : filters) {
            value = evaluator.applyFilter(f, value, scope);
        }
        return value;
    }

    private void forLoop(Stmt.For f, Scope scope) {
        List<Object> items = PyOps.iterate(eval(f.iterable(), scope));
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                budget.step();
                Scope probe = new Scope(scope);
                assign(f.target(), item, probe);
                if (PyOps.truthy(eval(f.filter(), probe))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            execute(f.elseBody(), scope);
            return;
        }
        // depth counts recursive-loop levels only, so it is 1 for plain nested loops
        LoopState loop = new LoopState(items, 1);
        for (int i = 0; i < items.size(); i++) {
            budget.step();
            // each iteration starts from the enclosing variables again, as in jinja2
            Scope iteration = new Scope(scope);
            loop.moveTo(i);
            iteration.set("loop", loop);
            assign(f.target(), items.get(i), iteration);
            if (execute(f.body(), iteration) == Flow.BREAK) {
                break;
            }
        }
    }

    private void assign(Target target, Object value, Scope scope) {
        if (target instanceof Target.Name) {
            scope.set(((Target.Name) target).name(), value);
        } else if (target instanceof Target.Attr) {
            Target.Attr a = (Target.Attr) target;
            Object ns = scope.lookup(a.namespace());
            if (!(ns instanceof Namespace)) {
                throw new TemplateException("TemplateRuntimeError: cannot assign attribute on non-namespace object"
                        + " ('" + a.namespace() + "' is " + (ns == Scope.MISSING ? "undefined" : PyOps.typeName(ns)) + ")");
            }
            ((Namespace) ns).attributes.put(a.attr(), value);
        } else {
            List<Target> targets = ((Target.Tuple) target).items();
            List<Object> values = PyOps.iterate(value);
            if (values.size() != targets.size()) {
                throw new TemplateException("ValueError: " + (values.size() > targets.size() ? "too many" : "not enough")
                        + " values to unpack (expected " + targets.size() + ", got " + values.size() + ")");
            }
            for (int i = 0; i < targets.size(); i++) {
                assign(targets.get(i), values.get(i), scope);
            }
        }
    }

    static Scope rootScope(Map<String, Object> context) {
        Scope root = new Scope(null);
        context.forEach(root::set);
        return root;
    }
}
