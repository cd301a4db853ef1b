package dev.ember.template;

import dev.ember.ModelFormatException;

/** A chat template cannot be parsed; the message starts with the 1-based line and column of the fault. */
public class TemplateSyntaxException extends ModelFormatException {
    private static final long serialVersionUID = 1L;

    private final int line;
    private final int column;

    TemplateSyntaxException(int line, int column, String message) {
        super("chat template syntax error at line " + line + ":" + column + ": " + message);
        this.line = line;
        this.column = column;
    }

    /** 1-based line of the fault (after \r\n and \r were read as \n). */
    public int line() {
        return line;
    }

    /** 1-based column of the fault, counted in UTF-16 units. */
    public int column() {
        return column;
    }
}
