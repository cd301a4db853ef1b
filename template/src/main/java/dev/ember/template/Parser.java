package dev.ember.template;

import dev.ember.template.Stmt.Target;
import dev.ember.template.Token.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive-descent parser for jinja2 statements: if, for, set (incl. namespace attributes and block set),
 * macro, call, filter, with, break, continue, and transformers' generation block. Expressions go to
 * {@link ExprParser}.
 */
final class Parser {
    private static final Set<String> UNSUPPORTED_TAGS = Set.of("include", "import", "from", "extends", "block",
            "autoescape", "do", "trans", "pluralize", "print", "debug");

    private final TokenStream s;
    private final ExprParser exprs;
    private int loopDepth;
    // for statements around the current point (their targets, bodies and else bodies; macros inside them
    // included), where jinja2 refuses to assign "loop" (its compile-time TemplateAssertionError)
    private int forNesting;

    private Parser(List<Token> tokens, SourceMap map) {
        this.s = new TokenStream(tokens, map);
        this.exprs = new ExprParser(s);
    }

    static List<Stmt> parse(List<Token> tokens, SourceMap map) {
        Parser p = new Parser(tokens, map);
        List<Stmt> body = p.subparse(Set.of(), null);
        return body;
    }


    /**
     * Parses statements until a block tag whose name is in {@code endTags}; returns with that name as the
     * current token. {@code opener} names the block being closed, for messages.
     */
    private List<Stmt> subparse(Set<String> endTags, Token opener) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = s.cur();
            switch (t.type()) {
                case DATA:
                    s.next();
                    body.add(new Stmt.Text(t.offset(), t.text()));
                    break;
                case VAR_BEGIN:
                    s.next();
                    Expr e = exprs.parseTuple(false, true, Set.of(), false);
                    s.expect(Type.VAR_END, "end of print statement ('}}')");
                    body.add(new Stmt.Print(t.offset(), e));
                    break;
                case BLOCK_BEGIN:
                    s.next();
                    Token name = s.cur();
                    if (name.type() == Type.NAME && endTags.contains(name.text())) {
                        return body;
                    }
                    body.add(statement(endTags, opener));
                    break;
                case EOF:
                    if (!endTags.isEmpty()) {
                        throw s.error(t, "unexpected end of template; expected " + describeTags(endTags)
                                + " to close the '" + opener.text() + "' block at line " + s.map().position(opener.offset()));
                    }
                    return body;
                default:
                    throw s.error(t, "unexpected " + t.describe());
            }
        }
    }

    private static String describeTags(Set<String> tags) {
        List<String> sorted = new ArrayList<>(tags);
        sorted.sort(null);
        return "'" + String.join("' or '", sorted) + "'";
    }

    private Stmt statement(Set<String> enclosingEnds, Token enclosing) {
        Token t = s.cur();
        if (t.type() != Type.NAME) {
            throw s.error(t, "expected a tag name after '{%', got " + t.describe());
        }
        s.enter(t);
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
                        throw s.error(t, "the '" + t.text() + "' tag is not supported in chat templates");
                    }
                    String looking = enclosingEnds.isEmpty() ? ""
                            : "; expected " + describeTags(enclosingEnds) + " to close the '" + enclosing.text()
                              + "' block at line " + s.map().position(enclosing.offset());
                    throw s.error(t, "unknown tag '" + t.text() + "'" + looking);
            }
        } finally {
            s.leave();
        }
    }

    private void endOfTag() {
        s.expect(Type.BLOCK_END, "end of statement block ('%}')");
    }

    private Stmt ifStatement() {
        Token opener = s.next();
        List<Expr> conditions = new ArrayList<>();
        List<List<Stmt>> bodies = new ArrayList<>();
        List<Stmt> elseBody = List.of();
        conditions.add(exprs.parseTuple(false, false, Set.of(), false));
        endOfTag();
        while (true) {
            bodies.add(subparse(Set.of("elif", "else", "endif"), opener));
            Token end = s.next();
            if (end.text().equals("elif")) {
                conditions.add(exprs.parseTuple(false, false, Set.of(), false));
                endOfTag();
                continue;
            }
            if (end.text().equals("else")) {
                endOfTag();
                elseBody = subparse(Set.of("endif"), opener);
                s.next();
            }
            endOfTag();
            return new Stmt.If(opener.offset(), conditions, bodies, elseBody);
        }
    }

    private Stmt forStatement() {
        Token opener = s.next();
        forNesting++; // from the target on: the target is the first place "loop" is refused
        Target target = assignTarget(false);
        if (!s.skipName("in")) {
            throw s.error(s.cur(), "expected 'in' in for loop, got " + s.cur().describe());
        }
        Expr iterable = exprs.parseTuple(false, false, Set.of("recursive"), false);
        Expr filter = s.skipName("if") ? exprs.expression(true) : null;
        if (s.cur().isName("recursive")) {
            throw s.error(s.cur(), "recursive for loops are not supported in chat templates");
        }
        endOfTag();
        loopDepth++;
        List<Stmt> body = subparse(Set.of("endfor", "else"), opener);
        loopDepth--;
        List<Stmt> elseBody = List.of();
        if (s.next().text().equals("else")) {
            endOfTag();
            int saved = loopDepth;
            loopDepth = 0;
            elseBody = subparse(Set.of("endfor"), opener);
            loopDepth = saved;
            s.next();
        }
        forNesting--;
        endOfTag();
        return new Stmt.For(opener.offset(), target, iterable, filter, body, elseBody);
    }

    private Stmt setStatement() {
        Token opener = s.next();
        Target target = assignTarget(true);
        if (s.skipOp("=")) {
            Expr value = exprs.parseTuple(false, true, Set.of(), false);
            endOfTag();
            return new Stmt.Set(opener.offset(), target, value);
        }
        List<Expr.Filter> filters = exprs.filterChain(true);
        endOfTag();
        List<Stmt> body = subparse(Set.of("endset"), opener);
        s.next();
        endOfTag();
        return new Stmt.SetBlock(opener.offset(), target, filters, body);
    }

    /** A name, {@code ns.attr} (when allowed), or a comma-separated tuple of names. */
    private Target assignTarget(boolean withNamespace) {
        if (withNamespace && s.cur().type() == Type.NAME && s.peek().isOp(".")) {
            String ns = s.next().text();
            s.next();
            String attr = s.expect(Type.NAME, "an attribute name").text();
            return new Target.Attr(ns, attr);
        }
        List<Target> items = new ArrayList<>();
        boolean tuple = false;
        do {
            if (s.cur().isOp("(")) {
                s.next();
                items.add(assignTarget(false));
                s.expectOp(")");
            } else {
                Token name = s.expect(Type.NAME, "a variable name to assign to");
                if (Set.of("true", "false", "none", "True", "False", "None").contains(name.text())) {
                    throw s.error(name, "cannot assign to the constant '" + name.text() + "'");
                }
                if (name.text().equals("loop") && forNesting > 0) {
                    throw s.error(name, "Can't assign to special loop variable in for-loop target");
                }
                items.add(new Target.Name(name.text()));
            }
            if (s.cur().isOp(",")) {
                tuple = true;
                s.next();
            } else {
                break;
            }
        } while (s.cur().type() == Type.NAME || s.cur().isOp("("));
        return tuple ? new Target.Tuple(items) : items.get(0);
    }

    private Stmt macroStatement() {
        Token opener = s.next();
        String name = s.expect(Type.NAME, "a macro name").text();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        signature(params, defaults);
        endOfTag();
        int saved = loopDepth;
        loopDepth = 0;
        List<Stmt> body = subparse(Set.of("endmacro"), opener);
        loopDepth = saved;
        s.next();
        endOfTag();
        return new Stmt.Macro(opener.offset(), name, params, defaults, body, NameScan.Uses.of(body));
    }

    private void signature(List<String> params, List<Expr> defaults) {
        s.expectOp("(");
        while (!s.cur().isOp(")")) {
            if (!params.isEmpty()) {
                s.expectOp(",");
            }
            Token p = s.expect(Type.NAME, "a parameter name");
            if (params.contains(p.text())) {
                // Python refuses def f(a, a); the second would silently shadow the first
                throw s.error(p, "duplicate parameter '" + p.text() + "'");
            }
            params.add(p.text());
            if (s.skipOp("=")) {
                defaults.add(exprs.expression(true));
            } else {
                if (defaults.stream().anyMatch(d -> d != null)) {
                    throw s.error(p, "parameter '" + p.text() + "' without a default follows one with a default");
                }
                defaults.add(null);
            }
        }
        s.next();
    }

    private Stmt callStatement() {
        Token opener = s.next();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (s.cur().isOp("(")) {
            signature(params, defaults);
        }
        Expr call = exprs.expression(true);
        if (!(call instanceof Expr.Call)) {
            throw s.error(opener, "expected a macro call after 'call'");
        }
        endOfTag();
        int saved = loopDepth;
        loopDepth = 0;
        List<Stmt> body = subparse(Set.of("endcall"), opener);
        loopDepth = saved;
        s.next();
        endOfTag();
        return new Stmt.CallBlock(opener.offset(), (Expr.Call) call, params, defaults, body,
                NameScan.Uses.of(body));
    }

    private Stmt filterStatement() {
        Token opener = s.next();
        List<Expr.Filter> filters = exprs.filterChain(false);
        if (filters.isEmpty()) {
            throw s.error(s.cur(), "expected a filter name after 'filter'");
        }
        endOfTag();
        List<Stmt> body = subparse(Set.of("endfilter"), opener);
        s.next();
        endOfTag();
        return new Stmt.FilterBlock(opener.offset(), filters, body);
    }

    private Stmt withStatement() {
        Token opener = s.next();
        List<Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (s.cur().type() != Type.BLOCK_END) {
            if (!targets.isEmpty()) {
                s.expectOp(",");
            }
            targets.add(new Target.Name(s.expect(Type.NAME, "a variable name").text()));
            s.expectOp("=");
            values.add(exprs.expression(true));
        }
        endOfTag();
        List<Stmt> body = subparse(Set.of("endwith"), opener);
        s.next();
        endOfTag();
        return new Stmt.With(opener.offset(), targets, values, body);
    }

    /** transformers' {% generation %} marks assistant text for masks; rendering just shows its body. */
    private Stmt generationStatement() {
        Token opener = s.next();
        endOfTag();
        List<Stmt> body = subparse(Set.of("endgeneration"), opener);
        s.next();
        endOfTag();
        return new Stmt.With(opener.offset(), List.of(), List.of(), body);
    }

    private Stmt loopControl() {
        Token t = s.next();
        if (loopDepth == 0) {
            throw s.error(t, "'" + t.text() + "' outside a for loop");
        }
        endOfTag();
        return t.text().equals("break") ? new Stmt.Break(t.offset()) : new Stmt.Continue(t.offset());
    }

}
