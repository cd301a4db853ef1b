package dev.ember.template;

/**
 * One lexical token of a template. {@code text} is the data for DATA, the name for NAME, the decoded
 * value for STRING and the operator for OP; {@code value} holds the number for INTEGER and FLOAT.
 * {@code offset} points into the newline-normalized source.
 */
record Token(Type type, String text, Object value, int offset) {
    enum Type { DATA, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OP, EOF }

    boolean is(Type t, String s) {
        return type == t && text.equals(s);
    }

    boolean isName(String s) {
        return is(Type.NAME, s);
    }

    boolean isOp(String s) {
        return is(Type.OP, s);
    }

    /** How an error message names this token. */
    String describe() {
        switch (type) {
            case EOF: return "end of template";
            case VAR_END: return "end of print statement ('}}')";
            case BLOCK_END: return "end of statement block ('%}')";
            case VAR_BEGIN: return "'{{'";
            case BLOCK_BEGIN: return "'{%'";
            case DATA: return "template data";
            case STRING: return "string literal";
            case INTEGER: case FLOAT: return "number " + value;
            default: return "'" + text + "'";
        }
    }
}
