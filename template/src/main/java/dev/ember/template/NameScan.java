package dev.ember.template;

import java.util.List;

/**
 * Whether a template body mentions a variable name anywhere (nested blocks and macros included): jinja2 gives a
 * macro {@code varargs}, {@code kwargs} and {@code caller} only when its body uses them, and refuses extra
 * arguments otherwise. Stateless.
 */
final class NameScan {
    private NameScan() {
    }

    /** Which of jinja2's implicit macro variables a body mentions; the parser scans each macro body once. */
    record Uses(boolean varargs, boolean kwargs, boolean caller) {
        static Uses of(List<Stmt> body) {
            return new Uses(mentions(body, "varargs"), mentions(body, "kwargs"), mentions(body, "caller"));
        }
    }

    static boolean mentions(List<Stmt> body, String name) {
        for (Stmt s : body) {
            if (mentions(s, name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean mentions(Stmt s, String name) {
        if (s instanceof Stmt.Print p) {
            return mentions(p.expr(), name);
        }
        if (s instanceof Stmt.If i) {
            return anyExpr(i.conditions(), name) || i.bodies().stream().anyMatch(b -> mentions(b, name))
                    || mentions(i.elseBody(), name);
        }
        if (s instanceof Stmt.For f) {
            return mentions(f.iterable(), name) || mentions(f.filter(), name) || mentions(f.body(), name)
                    || mentions(f.elseBody(), name);
        }
        if (s instanceof Stmt.Set set) {
            return mentions(set.value(), name);
        }
        if (s instanceof Stmt.SetBlock sb) {
            return anyExpr(sb.filters(), name) || mentions(sb.body(), name);
        }
        if (s instanceof Stmt.Macro m) {
            return anyExpr(m.defaults(), name) || mentions(m.body(), name);
        }
        if (s instanceof Stmt.CallBlock c) {
            return mentions(c.call(), name) || anyExpr(c.defaults(), name) || mentions(c.body(), name);
        }
        if (s instanceof Stmt.FilterBlock fb) {
            return anyExpr(fb.filters(), name) || mentions(fb.body(), name);
        }
        if (s instanceof Stmt.With w) {
            return anyExpr(w.values(), name) || mentions(w.body(), name);
        }
        return false; // Text, Break, Continue
    }

    private static boolean anyExpr(List<? extends Expr> exprs, String name) {
        for (Expr e : exprs) {
            if (mentions(e, name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean mentions(Expr e, String name) {
        if (e == null || e instanceof Expr.Const) {
            return false;
        }
        if (e instanceof Expr.Name n) {
            return n.name().equals(name);
        }
        if (e instanceof Expr.ListLit l) {
            return anyExpr(l.items(), name);
        }
        if (e instanceof Expr.TupleLit t) {
            return anyExpr(t.items(), name);
        }
        if (e instanceof Expr.DictLit d) {
            return anyExpr(d.keys(), name) || anyExpr(d.values(), name);
        }
        if (e instanceof Expr.GetAttr g) {
            return mentions(g.obj(), name);
        }
        if (e instanceof Expr.GetItem g) {
            return mentions(g.obj(), name) || mentions(g.key(), name);
        }
        if (e instanceof Expr.Slice sl) {
            return mentions(sl.start(), name) || mentions(sl.stop(), name) || mentions(sl.step(), name);
        }
        if (e instanceof Expr.Call c) {
            return mentions(c.fn(), name) || anyExpr(c.args(), name) || anyExpr(c.kwValues(), name);
        }
        if (e instanceof Expr.Filter f) {
            return mentions(f.value(), name) || anyExpr(f.args(), name) || anyExpr(f.kwValues(), name);
        }
        if (e instanceof Expr.Test t) {
            return mentions(t.value(), name) || anyExpr(t.args(), name) || anyExpr(t.kwValues(), name);
        }
        if (e instanceof Expr.Unary u) {
            return mentions(u.operand(), name);
        }
        if (e instanceof Expr.Binary b) {
            return mentions(b.left(), name) || mentions(b.right(), name);
        }
        if (e instanceof Expr.Compare c) {
            return mentions(c.first(), name) || anyExpr(c.rest(), name);
        }
        Expr.CondExpr c = (Expr.CondExpr) e;
        return mentions(c.cond(), name) || mentions(c.then(), name) || mentions(c.otherwise(), name);
    }
}
