package dev.ember.template;

import dev.ember.template.Token.Type;
import java.util.List;

/** A cursor over the tokens of one template, shared by the statement and expression parsers. */
final class TokenStream {
    private static final int MAX_NESTING = 200;

    private final List<Token> tokens;
    private final SourceMap map;
    private int i;
    private int nesting;

    TokenStream(List<Token> tokens, SourceMap map) {
        this.tokens = tokens;
        this.map = map;
    }

    SourceMap map() {
        return map;
    }

    Token cur() {
        return tokens.get(i);
    }

    Token peek() {
        return tokens.get(Math.min(i + 1, tokens.size() - 1));
    }

    Token next() {
        Token t = tokens.get(i);
        if (t.type() != Type.EOF) {
            i++;
        }
        return t;
    }

    TemplateSyntaxException error(Token at, String message) {
        return map.error(at.offset(), message);
    }

    Token expect(Type type, String what) {
        Token t = cur();
        if (t.type() != type) {
            throw error(t, "expected " + what + ", got " + t.describe());
        }
        return next();
    }

    void expectOp(String op) {
        Token t = cur();
        if (!t.isOp(op)) {
            throw error(t, "expected '" + op + "', got " + t.describe());
        }
        next();
    }

    boolean skipOp(String op) {
        if (cur().isOp(op)) {
            next();
            return true;
        }
        return false;
    }

    boolean skipName(String name) {
        if (cur().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    void enter(Token at) {
        if (++nesting > MAX_NESTING) {
            throw error(at, "template nests deeper than " + MAX_NESTING + " levels");
        }
    }

    /** Leaves one nesting level entered with {@link #enter}. */
    void leave() {
        nesting--;
    }
}
