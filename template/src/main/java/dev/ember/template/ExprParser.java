package dev.ember.template;

import dev.ember.template.Token.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Parses expressions with jinja2's grammar and precedence (lowest first): conditional expression, or,
 * and, not, comparisons and in, + -, ~, * / // %, **, unary - +, then primaries with postfix
 * {@code .attr}, {@code [key]}, calls, filters {@code |f} and tests {@code is t}. Filter and test names
 * are checked here, as jinja2 checks them when compiling.
 */
final class ExprParser {
    private final TokenStream s;

    ExprParser(TokenStream s) {
        this.s = s;
    }

    Expr expression(boolean withCondExpr) {
        Token t = s.cur();
        s.enter(t);
        try {
            return withCondExpr ? condExpr() : or();
        } finally {
            s.leave();
        }
    }

    /**
     * jinja2's parse_tuple: one expression, or a tuple when commas follow. Ends before '}}', '%}', ')'
     * or a name in {@code extraEnd}.
     */
    Expr parseTuple(boolean simplified, boolean withCondExpr, Set<String> extraEnd, boolean explicitParens) {
        Token start = s.cur();
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) {
                s.expectOp(",");
            }
            if (isTupleEnd(extraEnd)) {
                break;
            }
            items.add(simplified ? primary() : expression(withCondExpr));
            if (s.cur().isOp(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!items.isEmpty()) {
                return items.get(0);
            }
            if (!explicitParens) {
                throw s.error(s.cur(), "expected an expression, got " + s.cur().describe());
            }
        }
        return new Expr.TupleLit(start.offset(), items);
    }

    private boolean isTupleEnd(Set<String> extraEnd) {
        Token t = s.cur();
        return t.type() == Type.VAR_END || t.type() == Type.BLOCK_END || t.isOp(")")
                || (t.type() == Type.NAME && extraEnd.contains(t.text()));
    }

    private Expr condExpr() {
        Expr expr = or();
        while (s.cur().isName("if")) {
            Token t = s.next();
            Expr cond = or();
            Expr otherwise = s.skipName("else") ? condExpr() : null;
            expr = new Expr.CondExpr(t.offset(), cond, expr, otherwise);
        }
        return expr;
    }

    private Expr or() {
        Expr left = and();
        while (s.cur().isName("or")) {
            Token t = s.next();
            left = new Expr.Binary(t.offset(), "or", left, and());
        }
        return left;
    }

    private Expr and() {
        Expr left = not();
        while (s.cur().isName("and")) {
            Token t = s.next();
            left = new Expr.Binary(t.offset(), "and", left, not());
        }
        return left;
    }

    private Expr not() {
        if (s.cur().isName("not")) {
            Token t = s.next();
            s.enter(t);
            try {
                return new Expr.Unary(t.offset(), "not", not());
            } finally {
                s.leave();
            }
        }
        return compare();
    }

    private Expr compare() {
        Token start = s.cur();
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = s.cur();
            if (t.type() == Type.OP && Set.of("==", "!=", "<", "<=", ">", ">=").contains(t.text())) {
                s.next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                s.next();
                ops.add("in");
            } else if (t.isName("not") && s.peek().isName("in")) {
                s.next();
                s.next();
                ops.add("notin");
            } else {
                break;
            }
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(start.offset(), first, ops, rest);
    }

    private Expr math1() {
        Expr left = concat();
        while (s.cur().isOp("+") || s.cur().isOp("-")) {
            Token t = s.next();
            left = new Expr.Binary(t.offset(), t.text(), left, concat());
        }
        return left;
    }

    private Expr concat() {
        Expr left = math2();
        while (s.cur().isOp("~")) {
            Token t = s.next();
            left = new Expr.Binary(t.offset(), "~", left, math2());
        }
        return left;
    }

    private Expr math2() {
        Expr left = pow();
        while (s.cur().isOp("*") || s.cur().isOp("/") || s.cur().isOp("//") || s.cur().isOp("%")) {
            Token t = s.next();
            left = new Expr.Binary(t.offset(), t.text(), left, pow());
        }
        return left;
    }

    private Expr pow() {
        Expr left = unary(true);
        while (s.cur().isOp("**")) {
            Token t = s.next();
            left = new Expr.Binary(t.offset(), "**", left, unary(true));
        }
        return left;
    }

    private Expr unary(boolean withFilter) {
        Token t = s.cur();
        Expr node;
        if (t.isOp("-") || t.isOp("+")) {
            s.next();
            s.enter(t);
            try {
                node = new Expr.Unary(t.offset(), t.text(), unary(false));
            } finally {
                s.leave();
            }
        } else {
            node = primary();
        }
        node = postfix(node);
        return withFilter ? filterExpr(node) : node;
    }

    Expr primary() {
        Token t = s.cur();
        switch (t.type()) {
            case NAME:
                s.next();
                switch (t.text()) {
                    case "true": case "True": return new Expr.Const(t.offset(), Boolean.TRUE);
                    case "false": case "False": return new Expr.Const(t.offset(), Boolean.FALSE);
                    case "none": case "None": return new Expr.Const(t.offset(), null);
                    default: return new Expr.Name(t.offset(), t.text());
                }
            case STRING: {
                s.next();
                StringBuilder b = new StringBuilder(t.text());
                while (s.cur().type() == Type.STRING) {
                    b.append(s.next().text());
                }
                return new Expr.Const(t.offset(), b.toString());
            }
            case INTEGER:
            case FLOAT:
                s.next();
                return new Expr.Const(t.offset(), t.value());
            case OP:
                if (t.isOp("(")) {
                    s.next();
                    Expr inner = parseTuple(false, true, Set.of(), true);
                    s.expectOp(")");
                    return inner;
                }
                if (t.isOp("[")) {
                    return listLiteral();
                }
                if (t.isOp("{")) {
                    return dictLiteral();
                }
                throw s.error(t, "unexpected " + t.describe());
            default:
                throw s.error(t, "expected an expression, got " + t.describe());
        }
    }

    private Expr listLiteral() {
        Token open = s.next();
        List<Expr> items = new ArrayList<>();
        while (!s.cur().isOp("]")) {
            if (!items.isEmpty()) {
                s.expectOp(",");
            }
            if (s.cur().isOp("]")) {
                break;
            }
            items.add(expression(true));
        }
        s.next();
        return new Expr.ListLit(open.offset(), items);
    }

    private Expr dictLiteral() {
        Token open = s.next();
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!s.cur().isOp("}")) {
            if (!keys.isEmpty()) {
                s.expectOp(",");
            }
            if (s.cur().isOp("}")) {
                break;
            }
            keys.add(expression(true));
            s.expectOp(":");
            values.add(expression(true));
        }
        s.next();
        return new Expr.DictLit(open.offset(), keys, values);
    }

    private Expr postfix(Expr node) {
        while (true) {
            Token t = s.cur();
            if (t.isOp(".")) {
                s.next();
                Token attr = s.next();
                if (attr.type() == Type.NAME) {
                    node = new Expr.GetAttr(t.offset(), node, attr.text());
                } else if (attr.type() == Type.INTEGER) {
                    node = new Expr.GetItem(t.offset(), node, new Expr.Const(attr.offset(), attr.value()));
                } else {
                    throw s.error(attr, "expected an attribute name or index after '.', got " + attr.describe());
                }
            } else if (t.isOp("[")) {
                s.next();
                List<Expr> args = new ArrayList<>();
                while (!s.cur().isOp("]")) {
                    if (!args.isEmpty()) {
                        s.expectOp(",");
                    }
                    args.add(subscribed());
                }
                s.next();
                if (args.isEmpty()) {
                    throw s.error(t, "expected a subscript inside '[]'");
                }
                Expr key = args.size() == 1 ? args.get(0) : new Expr.TupleLit(t.offset(), args);
                node = new Expr.GetItem(t.offset(), node, key);
            } else if (t.isOp("(")) {
                node = call(node);
            } else {
                return node;
            }
        }
    }

    private Expr subscribed() {
        Token start = s.cur();
        Expr[] parts = new Expr[3];
        if (s.cur().isOp(":")) {
            s.next();
        } else {
            Expr e = expression(true);
            if (!s.cur().isOp(":")) {
                return e;
            }
            s.next();
            parts[0] = e;
        }
        if (!s.cur().isOp(":") && !s.cur().isOp("]") && !s.cur().isOp(",")) {
            parts[1] = expression(true);
        }
        if (s.cur().isOp(":")) {
            s.next();
            if (!s.cur().isOp("]") && !s.cur().isOp(",")) {
                parts[2] = expression(true);
            }
        }
        return new Expr.Slice(start.offset(), parts[0], parts[1], parts[2]);
    }

    private Expr.Call call(Expr fn) {
        Token open = s.cur();
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        callArgs(args, kwNames, kwValues);
        return new Expr.Call(open.offset(), fn, args, kwNames, kwValues);
    }

    private void callArgs(List<Expr> args, List<String> kwNames, List<Expr> kwValues) {
        s.expectOp("(");
        boolean requireComma = false;
        while (!s.cur().isOp(")")) {
            if (requireComma) {
                s.expectOp(",");
                if (s.cur().isOp(")")) {
                    break;
                }
            }
            if (s.cur().isOp("*") || s.cur().isOp("**")) {
                throw s.error(s.cur(), "*args and **kwargs in calls are not supported in chat templates");
            }
            if (s.cur().type() == Type.NAME && s.peek().isOp("=")) {
                String key = s.next().text();
                s.next();
                if (kwNames.contains(key)) {
                    throw s.error(s.cur(), "keyword argument '" + key + "' repeated");
                }
                kwNames.add(key);
                kwValues.add(expression(true));
            } else {
                if (!kwNames.isEmpty()) {
                    throw s.error(s.cur(), "positional argument follows keyword argument");
                }
                args.add(expression(true));
            }
            requireComma = true;
        }
        s.next();
    }

    private Expr filterExpr(Expr node) {
        while (true) {
            if (s.cur().isOp("|")) {
                node = filters(node, false);
            } else if (s.cur().isName("is")) {
                node = test(node);
            } else if (s.cur().isOp("(")) {
                node = call(node);
            } else {
                return node;
            }
        }
    }

    private Expr filters(Expr node, boolean startInline) {
        while (s.cur().isOp("|") || startInline) {
            if (!startInline) {
                s.next();
            }
            startInline = false;
            Token name = s.expect(Type.NAME, "a filter name");
            if (!Filters.exists(name.text())) {
                throw s.error(name, "no filter named '" + name.text() + "'");
            }
            List<Expr> args = new ArrayList<>();
            List<String> kwNames = new ArrayList<>();
            List<Expr> kwValues = new ArrayList<>();
            if (s.cur().isOp("(")) {
                callArgs(args, kwNames, kwValues);
            }
            node = new Expr.Filter(name.offset(), node, name.text(), args, kwNames, kwValues);
        }
        return node;
    }

    /** The filters of {@code {% filter a|b %}} or {@code {% set x | a %}}, each with a null value. */
    List<Expr.Filter> filterChain(boolean optional) {
        List<Expr.Filter> chain = new ArrayList<>();
        if (optional && !s.cur().isOp("|")) {
            return chain;
        }
        Expr node = filters(null, !optional);
        List<Expr.Filter> reversed = new ArrayList<>();
        while (node instanceof Expr.Filter) {
            Expr.Filter f = (Expr.Filter) node;
            reversed.add(f);
            node = f.value();
        }
        for (int k = reversed.size() - 1; k >= 0; k--) {
            Expr.Filter f = reversed.get(k);
            chain.add(new Expr.Filter(f.at(), null, f.name(), f.args(), f.kwNames(), f.kwValues()));
        }
        return chain;
    }

    private Expr test(Expr node) {
        Token is = s.next();
        boolean negated = s.skipName("not");
        Token name = s.expect(Type.NAME, "a test name");
        if (!Tests.exists(name.text())) {
            throw s.error(name, "no test named '" + name.text() + "'");
        }
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        Token t = s.cur();
        if (t.isOp("(")) {
            callArgs(args, kwNames, kwValues);
        } else if ((t.type() == Type.NAME || t.type() == Type.STRING || t.type() == Type.INTEGER
                || t.type() == Type.FLOAT || t.isOp("[") || t.isOp("{"))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) {
                throw s.error(t, "tests cannot be chained with 'is'");
            }
            args.add(postfix(primary()));
        }
        return new Expr.Test(is.offset(), node, name.text(), args, kwNames, kwValues, negated);
    }
}
