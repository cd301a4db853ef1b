package dev.ember.template;

import java.util.List;

/** Statement nodes of the template AST. */
sealed interface Stmt {
    int at();

    record Text(int at, String text) implements Stmt { }

    record Print(int at, Expr expr) implements Stmt { }

    record If(int at, List<Expr> conditions, List<List<Stmt>> bodies, List<Stmt> elseBody) implements Stmt { }

    /** {@code for target in iterable [if filter]} with an else body for when nothing was iterated. */
    record For(int at, Target target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> elseBody)
            implements Stmt { }

    record Set(int at, Target target, Expr value) implements Stmt { }

    /** {@code {% set x | filters %}body{% endset %}}. */
    record SetBlock(int at, Target target, List<Expr.Filter> filters, List<Stmt> body) implements Stmt { }

    /** {@code uses}: what the body mentions of varargs, kwargs and caller (scanned once, at parse time). */
    record Macro(int at, String name, List<String> params, List<Expr> defaults, List<Stmt> body, NameScan.Uses uses)
            implements Stmt { }

    /** {@code {% call(params) macro(args) %}body{% endcall %}}: body becomes {@code caller()}. */
    record CallBlock(int at, Expr.Call call, List<String> params, List<Expr> defaults, List<Stmt> body,
                     NameScan.Uses uses) implements Stmt { }

    record FilterBlock(int at, List<Expr.Filter> filters, List<Stmt> body) implements Stmt { }

    record With(int at, List<Target> targets, List<Expr> values, List<Stmt> body) implements Stmt { }

    record Break(int at) implements Stmt { }

    record Continue(int at) implements Stmt { }

    /** Assignment targets: a name, {@code namespace.attr}, or a tuple of targets. */
    sealed interface Target {
        record Name(String name) implements Target { }

        record Attr(String namespace, String attr) implements Target { }

        record Tuple(List<Target> items) implements Target { }
    }
}
