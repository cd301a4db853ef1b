package dev.ember.template;

import dev.ember.template.Stmt.Target;
import dev.ember.template.Token.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive-descent parser following jinja2's grammar and operator precedence (lowest first):
 * conditional expression, or, and, not, comparisons and in, + -, ~, * / // %, **, unary - +,
 * then primaries with postfix {@code .attr}, {@code [key]}, calls, filters {@code |f} and tests {@code is t}.
 * Statements: if, for, set (incl. namespace attributes and block set), macro, call, filter, with,
 * break, continue, and transformers' generation block.
 */
final class Parser {
    private static final int MAX_NESTING = 200;
    private static final Set<String> UNSUPPORTED_TAGS = Set.of("include", "import", "from", "extends", "block",
            "autoescape", "do", "trans", "pluralize", "print", "debug");

    private final List<Token> tokens;
    private final SourceMap map;
    private int i;
    private int loopDepth;
    private int nesting;

    private Parser(List<Token> tokens, SourceMap map) {
        this.tokens = tokens;
        this.map = map;
    }

    static List<Stmt> parse(List<Token> tokens, SourceMap map) {
        Parser p = new Parser(tokens, map);
        List<Stmt> body = p.subparse(Set.of(), null);
        return body;
    }

    // ---- token stream

    private Token cur() {
        return tokens.get(i);
    }

    private Token peek() {
        return tokens.get(Math.min(i + 1, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(i);
        if (t.type() != Type.EOF) {
            i++;
        }
        return t;
    }

    private TemplateSyntaxException error(Token at, String message) {
        return map.error(at.offset(), message);
    }

    private Token expect(Type type, String what) {
        Token t = cur();
        if (t.type() != type) {
            throw error(t, "expected " + what + ", got " + t.describe());
        }
        return next();
    }

    private void expectOp(String op) {
        Token t = cur();
        if (!t.isOp(op)) {
            throw error(t, "expected '" + op + "', got " + t.describe());
        }
        next();
    }

    private boolean skipOp(String op) {
        if (cur().isOp(op)) {
            next();
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (cur().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    private void enter(Token at) {
        if (++nesting > MAX_NESTING) {
            throw error(at, "template nests deeper than " + MAX_NESTING + " levels");
        }
    }

    // ---- statements

    /**
     * Parses statements until a block tag whose name is in {@code endTags}; returns with that name as the
     * current token. {@code opener} names the block being closed, for messages.
     */
    private List<Stmt> subparse(Set<String> endTags, Token opener) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = cur();
            switch (t.type()) {
                case DATA:
                    next();
                    body.add(new Stmt.Text(t.offset(), t.text()));
                    break;
                case VAR_BEGIN:
                    next();
                    Expr e = parseTuple(false, true, Set.of(), false);
                    expect(Type.VAR_END, "end of print statement ('}}')");
                    body.add(new Stmt.Print(t.offset(), e));
                    break;
                case BLOCK_BEGIN:
                    next();
                    Token name = cur();
                    if (name.type() == Type.NAME && endTags.contains(name.text())) {
                        return body;
                    }
                    body.add(statement(endTags, opener));
                    break;
                case EOF:
                    if (!endTags.isEmpty()) {
                        throw error(t, "unexpected end of template; expected " + describeTags(endTags)
                                + " to close the '" + opener.text() + "' block at line " + map.position(opener.offset()));
                    }
                    return body;
                default:
                    throw error(t, "unexpected " + t.describe());
            }
        }
    }

    private static String describeTags(Set<String> tags) {
        List<String> sorted = new ArrayList<>(tags);
        sorted.sort(null);
        return "'" + String.join("' or '", sorted) + "'";
    }

    private Stmt statement(Set<String> enclosingEnds, Token enclosing) {
        Token t = cur();
        if (t.type() != Type.NAME) {
            throw error(t, "expected a tag name after '{%', got " + t.describe());
        }
        enter(t);
        try {
            switch (t.text()) {
                case "if": return ifStatement();
                case "for": return forStatement();
                case "set": return setStatement();
                case "macro": return macroStatement();
                case "call": return callStatement();
                case "filter": return filterStatement();
                case "with": return withStatement();
                case "generation": return generationStatement();
                case "break":
                case "continue":
                    return loopControl();
                default:
                    if (UNSUPPORTED_TAGS.contains(t.text())) {
                        throw error(t, "the '" + t.text() + "' tag is not supported in chat templates");
                    }
                    String looking = enclosingEnds.isEmpty() ? ""
                            : "; expected " + describeTags(enclosingEnds) + " to close the '" + enclosing.text()
                              + "' block at line " + map.position(enclosing.offset());
                    throw error(t, "unknown tag '" + t.text() + "'" + looking);
            }
        } finally {
            nesting--;
        }
    }

    private void endOfTag() {
        expect(Type.BLOCK_END, "end of statement block ('%}')");
    }

    private Stmt ifStatement() {
        Token opener = next();
        List<Expr> conditions = new ArrayList<>();
        List<List<Stmt>> bodies = new ArrayList<>();
        List<Stmt> elseBody = List.of();
        conditions.add(parseTuple(false, false, Set.of(), false));
        endOfTag();
        while (true) {
            bodies.add(subparse(Set.of("elif", "else", "endif"), opener));
            Token end = next();
            if (end.text().equals("elif")) {
                conditions.add(parseTuple(false, false, Set.of(), false));
                endOfTag();
                continue;
            }
            if (end.text().equals("else")) {
                endOfTag();
                elseBody = subparse(Set.of("endif"), opener);
                next();
            }
            endOfTag();
            return new Stmt.If(opener.offset(), conditions, bodies, elseBody);
        }
    }

    private Stmt forStatement() {
        Token opener = next();
        Target target = assignTarget(false);
        if (!skipName("in")) {
            throw error(cur(), "expected 'in' in for loop, got " + cur().describe());
        }
        Expr iterable = parseTuple(false, false, Set.of("recursive"), false);
        Expr filter = skipName("if") ? expression(true) : null;
        if (cur().isName("recursive")) {
            throw error(cur(), "recursive for loops are not supported in chat templates");
        }
        endOfTag();
        loopDepth++;
        List<Stmt> body = subparse(Set.of("endfor", "else"), opener);
        loopDepth--;
        List<Stmt> elseBody = List.of();
        if (next().text().equals("else")) {
            endOfTag();
            int saved = loopDepth;
            loopDepth = 0;
            elseBody = subparse(Set.of("endfor"), opener);
            loopDepth = saved;
            next();
        }
        endOfTag();
        return new Stmt.For(opener.offset(), target, iterable, filter, body, elseBody);
    }

    private Stmt setStatement() {
        Token opener = next();
        Target target = assignTarget(true);
        if (skipOp("=")) {
            Expr value = parseTuple(false, true, Set.of(), false);
            endOfTag();
            return new Stmt.Set(opener.offset(), target, value);
        }
        List<Expr.Filter> filters = filterChain(true);
        endOfTag();
        List<Stmt> body = subparse(Set.of("endset"), opener);
        next();
        endOfTag();
        return new Stmt.SetBlock(opener.offset(), target, filters, body);
    }

    /** A name, {@code ns.attr} (when allowed), or a comma-separated tuple of names. */
    private Target assignTarget(boolean withNamespace) {
        if (withNamespace && cur().type() == Type.NAME && peek().isOp(".")) {
            String ns = next().text();
            next();
            String attr = expect(Type.NAME, "an attribute name").text();
            return new Target.Attr(ns, attr);
        }
        List<Target> items = new ArrayList<>();
        boolean tuple = false;
        do {
            if (cur().isOp("(")) {
                next();
                items.add(assignTarget(false));
                expectOp(")");
            } else {
                Token name = expect(Type.NAME, "a variable name to assign to");
                if (Set.of("true", "false", "none", "True", "False", "None").contains(name.text())) {
                    throw error(name, "cannot assign to the constant '" + name.text() + "'");
                }
                items.add(new Target.Name(name.text()));
            }
            if (cur().isOp(",")) {
                tuple = true;
                next();
            } else {
                break;
            }
        } while (cur().type() == Type.NAME || cur().isOp("("));
        return tuple ? new Target.Tuple(items) : items.get(0);
    }

    private Stmt macroStatement() {
        Token opener = next();
        String name = expect(Type.NAME, "a macro name").text();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        signature(params, defaults);
        endOfTag();
        int saved = loopDepth;
        loopDepth = 0;
        List<Stmt> body = subparse(Set.of("endmacro"), opener);
        loopDepth = saved;
        next();
        endOfTag();
        return new Stmt.Macro(opener.offset(), name, params, defaults, body);
    }

    private void signature(List<String> params, List<Expr> defaults) {
        expectOp("(");
        while (!cur().isOp(")")) {
            if (!params.isEmpty()) {
                expectOp(",");
            }
            Token p = expect(Type.NAME, "a parameter name");
            params.add(p.text());
            if (skipOp("=")) {
                defaults.add(expression(true));
            } else {
                if (defaults.stream().anyMatch(d -> d != null)) {
                    throw error(p, "parameter '" + p.text() + "' without a default follows one with a default");
                }
                defaults.add(null);
            }
        }
        next();
    }

    private Stmt callStatement() {
        Token opener = next();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (cur().isOp("(")) {
            signature(params, defaults);
        }
        Expr call = expression(true);
        if (!(call instanceof Expr.Call)) {
            throw error(opener, "expected a macro call after 'call'");
        }
        endOfTag();
        int saved = loopDepth;
        loopDepth = 0;
        List<Stmt> body = subparse(Set.of("endcall"), opener);
        loopDepth = saved;
        next();
        endOfTag();
        return new Stmt.CallBlock(opener.offset(), (Expr.Call) call, params, defaults, body);
    }

    private Stmt filterStatement() {
        Token opener = next();
        List<Expr.Filter> filters = filterChain(false);
        if (filters.isEmpty()) {
            throw error(cur(), "expected a filter name after 'filter'");
        }
        endOfTag();
        List<Stmt> body = subparse(Set.of("endfilter"), opener);
        next();
        endOfTag();
        return new Stmt.FilterBlock(opener.offset(), filters, body);
    }

    private Stmt withStatement() {
        Token opener = next();
        List<Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (cur().type() != Type.BLOCK_END) {
            if (!targets.isEmpty()) {
                expectOp(",");
            }
            targets.add(new Target.Name(expect(Type.NAME, "a variable name").text()));
            expectOp("=");
            values.add(expression(true));
        }
        endOfTag();
        List<Stmt> body = subparse(Set.of("endwith"), opener);
        next();
        endOfTag();
        return new Stmt.With(opener.offset(), targets, values, body);
    }

    /** transformers' {% generation %} marks assistant text for masks; rendering just shows its body. */
    private Stmt generationStatement() {
        Token opener = next();
        endOfTag();
        List<Stmt> body = subparse(Set.of("endgeneration"), opener);
        next();
        endOfTag();
        return new Stmt.With(opener.offset(), List.of(), List.of(), body);
    }

    private Stmt loopControl() {
        Token t = next();
        if (loopDepth == 0) {
            throw error(t, "'" + t.text() + "' outside a for loop");
        }
        endOfTag();
        return t.text().equals("break") ? new Stmt.Break(t.offset()) : new Stmt.Continue(t.offset());
    }

    // ---- expressions

    private Expr expression(boolean withCondExpr) {
        Token t = cur();
        enter(t);
        try {
            return withCondExpr ? condExpr() : or();
        } finally {
            nesting--;
        }
    }

    /**
     * jinja2's parse_tuple: one expression, or a tuple when commas follow. Ends before '}}', '%}', ')'
     * or a name in {@code extraEnd}.
     */
    private Expr parseTuple(boolean simplified, boolean withCondExpr, Set<String> extraEnd, boolean explicitParens) {
        Token start = cur();
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (isTupleEnd(extraEnd)) {
                break;
            }
            items.add(simplified ? primary() : expression(withCondExpr));
            if (cur().isOp(",")) {
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
                throw error(cur(), "expected an expression, got " + cur().describe());
            }
        }
        return new Expr.TupleLit(start.offset(), items);
    }

    private boolean isTupleEnd(Set<String> extraEnd) {
        Token t = cur();
        return t.type() == Type.VAR_END || t.type() == Type.BLOCK_END || t.isOp(")")
                || (t.type() == Type.NAME && extraEnd.contains(t.text()));
    }

    private Expr condExpr() {
        Expr expr = or();
        while (cur().isName("if")) {
            Token t = next();
            Expr cond = or();
            Expr otherwise = skipName("else") ? condExpr() : null;
            expr = new Expr.CondExpr(t.offset(), cond, expr, otherwise);
        }
        return expr;
    }

    private Expr or() {
        Expr left = and();
        while (cur().isName("or")) {
            Token t = next();
            left = new Expr.Binary(t.offset(), "or", left, and());
        }
        return left;
    }

    private Expr and() {
        Expr left = not();
        while (cur().isName("and")) {
            Token t = next();
            left = new Expr.Binary(t.offset(), "and", left, not());
        }
        return left;
    }

    private Expr not() {
        if (cur().isName("not")) {
            Token t = next();
            enter(t);
            try {
                return new Expr.Unary(t.offset(), "not", not());
            } finally {
                nesting--;
            }
        }
        return compare();
    }

    private Expr compare() {
        Token start = cur();
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = cur();
            if (t.type() == Type.OP && Set.of("==", "!=", "<", "<=", ">", ">=").contains(t.text())) {
                next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && peek().isName("in")) {
                next();
                next();
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
        while (cur().isOp("+") || cur().isOp("-")) {
            Token t = next();
            left = new Expr.Binary(t.offset(), t.text(), left, concat());
        }
        return left;
    }

    private Expr concat() {
        Expr left = math2();
        while (cur().isOp("~")) {
            Token t = next();
            left = new Expr.Binary(t.offset(), "~", left, math2());
        }
        return left;
    }

    private Expr math2() {
        Expr left = pow();
        while (cur().isOp("*") || cur().isOp("/") || cur().isOp("//") || cur().isOp("%")) {
            Token t = next();
            left = new Expr.Binary(t.offset(), t.text(), left, pow());
        }
        return left;
    }

    private Expr pow() {
        Expr left = unary(true);
        while (cur().isOp("**")) {
            Token t = next();
            left = new Expr.Binary(t.offset(), "**", left, unary(true));
        }
        return left;
    }

    private Expr unary(boolean withFilter) {
        Token t = cur();
        Expr node;
        if (t.isOp("-") || t.isOp("+")) {
            next();
            enter(t);
            try {
                node = new Expr.Unary(t.offset(), t.text(), unary(false));
            } finally {
                nesting--;
            }
        } else {
            node = primary();
        }
        node = postfix(node);
        return withFilter ? filterExpr(node) : node;
    }

    private Expr primary() {
        Token t = cur();
        switch (t.type()) {
            case NAME:
                next();
                switch (t.text()) {
                    case "true": case "True": return new Expr.Const(t.offset(), Boolean.TRUE);
                    case "false": case "False": return new Expr.Const(t.offset(), Boolean.FALSE);
                    case "none": case "None": return new Expr.Const(t.offset(), null);
                    default: return new Expr.Name(t.offset(), t.text());
                }
            case STRING: {
                next();
                StringBuilder b = new StringBuilder(t.text());
                while (cur().type() == Type.STRING) {
                    b.append(next().text());
                }
                return new Expr.Const(t.offset(), b.toString());
            }
            case INTEGER:
            case FLOAT:
                next();
                return new Expr.Const(t.offset(), t.value());
            case OP:
                if (t.isOp("(")) {
                    next();
                    Expr inner = parseTuple(false, true, Set.of(), true);
                    expectOp(")");
                    return inner;
                }
                if (t.isOp("[")) {
                    return listLiteral();
                }
                if (t.isOp("{")) {
                    return dictLiteral();
                }
                throw error(t, "unexpected " + t.describe());
            default:
                throw error(t, "expected an expression, got " + t.describe());
        }
    }

    private Expr listLiteral() {
        Token open = next();
        List<Expr> items = new ArrayList<>();
        while (!cur().isOp("]")) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (cur().isOp("]")) {
                break;
            }
            items.add(expression(true));
        }
        next();
        return new Expr.ListLit(open.offset(), items);
    }

    private Expr dictLiteral() {
        Token open = next();
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!cur().isOp("}")) {
            if (!keys.isEmpty()) {
                expectOp(",");
            }
            if (cur().isOp("}")) {
                break;
            }
            keys.add(expression(true));
            expectOp(":");
            values.add(expression(true));
        }
        next();
        return new Expr.DictLit(open.offset(), keys, values);
    }

    private Expr postfix(Expr node) {
        while (true) {
            Token t = cur();
            if (t.isOp(".")) {
                next();
                Token attr = next();
                if (attr.type() == Type.NAME) {
                    node = new Expr.GetAttr(t.offset(), node, attr.text());
                } else if (attr.type() == Type.INTEGER) {
                    node = new Expr.GetItem(t.offset(), node, new Expr.Const(attr.offset(), attr.value()));
                } else {
                    throw error(attr, "expected an attribute name or index after '.', got " + attr.describe());
                }
            } else if (t.isOp("[")) {
                next();
                List<Expr> args = new ArrayList<>();
                while (!cur().isOp("]")) {
                    if (!args.isEmpty()) {
                        expectOp(",");
                    }
                    args.add(subscribed());
                }
                next();
                if (args.isEmpty()) {
                    throw error(t, "expected a subscript inside '[]'");
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
        Token start = cur();
        Expr[] parts = new Expr[3];
        if (cur().isOp(":")) {
            next();
        } else {
            Expr e = expression(true);
            if (!cur().isOp(":")) {
                return e;
            }
            next();
            parts[0] = e;
        }
        if (!cur().isOp(":") && !cur().isOp("]") && !cur().isOp(",")) {
            parts[1] = expression(true);
        }
        if (cur().isOp(":")) {
            next();
            if (!cur().isOp("]") && !cur().isOp(",")) {
                parts[2] = expression(true);
            }
        }
        return new Expr.Slice(start.offset(), parts[0], parts[1], parts[2]);
    }

    private Expr.Call call(Expr fn) {
        Token open = cur();
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        callArgs(args, kwNames, kwValues);
        return new Expr.Call(open.offset(), fn, args, kwNames, kwValues);
    }

    private void callArgs(List<Expr> args, List<String> kwNames, List<Expr> kwValues) {
        expectOp("(");
        boolean requireComma = false;
        while (!cur().isOp(")")) {
            if (requireComma) {
                expectOp(",");
                if (cur().isOp(")")) {
                    break;
                }
            }
            if (cur().isOp("*") || cur().isOp("**")) {
                throw error(cur(), "*args and **kwargs in calls are not supported in chat templates");
            }
            if (cur().type() == Type.NAME && peek().isOp("=")) {
                String key = next().text();
                next();
                if (kwNames.contains(key)) {
                    throw error(cur(), "keyword argument '" + key + "' repeated");
                }
                kwNames.add(key);
                kwValues.add(expression(true));
            } else {
                if (!kwNames.isEmpty()) {
                    throw error(cur(), "positional argument follows keyword argument");
                }
                args.add(expression(true));
            }
            requireComma = true;
        }
        next();
    }

    private Expr filterExpr(Expr node) {
        while (true) {
            if (cur().isOp("|")) {
                node = filters(node, false);
            } else if (cur().isName("is")) {
                node = test(node);
            } else if (cur().isOp("(")) {
                node = call(node);
            } else {
                return node;
            }
        }
    }

    private Expr filters(Expr node, boolean startInline) {
        while (cur().isOp("|") || startInline) {
            if (!startInline) {
                next();
            }
            startInline = false;
            Token name = expect(Type.NAME, "a filter name");
            if (!Filters.exists(name.text())) {
                throw error(name, "no filter named '" + name.text() + "'");
            }
            List<Expr> args = new ArrayList<>();
            List<String> kwNames = new ArrayList<>();
            List<Expr> kwValues = new ArrayList<>();
            if (cur().isOp("(")) {
                callArgs(args, kwNames, kwValues);
            }
            node = new Expr.Filter(name.offset(), node, name.text(), args, kwNames, kwValues);
        }
        return node;
    }

    /** The filters of {@code {% filter a|b %}} or {@code {% set x | a %}}, each with a null value. */
    private List<Expr.Filter> filterChain(boolean optional) {
        List<Expr.Filter> chain = new ArrayList<>();
        if (optional && !cur().isOp("|")) {
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
        Token is = next();
        boolean negated = skipName("not");
        Token name = expect(Type.NAME, "a test name");
        if (!Tests.exists(name.text())) {
            throw error(name, "no test named '" + name.text() + "'");
        }
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        Token t = cur();
        if (t.isOp("(")) {
            callArgs(args, kwNames, kwValues);
        } else if ((t.type() == Type.NAME || t.type() == Type.STRING || t.type() == Type.INTEGER
                || t.type() == Type.FLOAT || t.isOp("[") || t.isOp("{"))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) {
                throw error(t, "tests cannot be chained with 'is'");
            }
            args.add(postfix(primary()));
        }
        return new Expr.Test(is.offset(), node, name.text(), args, kwNames, kwValues, negated);
    }
}
