package dev.ember.template;

import java.util.List;

/** Expression nodes of the template AST; {@code at} is the source offset used in error messages. */
sealed interface Expr {
    int at();

    record Const(int at, Object value) implements Expr { }

    record Name(int at, String name) implements Expr { }

    record ListLit(int at, List<Expr> items) implements Expr { }

    record TupleLit(int at, List<Expr> items) implements Expr { }

    record DictLit(int at, List<Expr> keys, List<Expr> values) implements Expr { }

    /** {@code obj.name}: a Python attribute first (methods), then a mapping key. */
    record GetAttr(int at, Expr obj, String name) implements Expr { }

    /** {@code obj[key]}: a key or index first, then an attribute; key may be a {@link Slice}. */
    record GetItem(int at, Expr obj, Expr key) implements Expr { }

    /** {@code start:stop:step} inside a subscript; any part may be null. */
    record Slice(int at, Expr start, Expr stop, Expr step) implements Expr { }

    record Call(int at, Expr fn, List<Expr> args, List<String> kwNames, List<Expr> kwValues) implements Expr { }

    /** {@code value | name(args)}; value is null for the filters of a filter block or a block set. */
    record Filter(int at, Expr value, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues)
            implements Expr { }

    record Test(int at, Expr value, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues,
                boolean negated) implements Expr { }

    /** op is "-", "+" or "not". */
    record Unary(int at, String op, Expr operand) implements Expr { }

    /** op is one of + - * / // % ** ~ and or. */
    record Binary(int at, String op, Expr left, Expr right) implements Expr { }

    /** A comparison chain {@code a < b <= c}; ops are == != < <= > >= in notin. */
    record Compare(int at, Expr first, List<String> ops, List<Expr> rest) implements Expr { }

    /** {@code then if cond else otherwise}; otherwise may be null (undefined). */
    record CondExpr(int at, Expr cond, Expr then, Expr otherwise) implements Expr { }
}
