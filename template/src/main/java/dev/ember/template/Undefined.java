package dev.ember.template;

/**
 * jinja2's default Undefined: renders as "", is falsy, iterates as empty and has length 0, but using it
 * any further (attribute, item, call, arithmetic, ordering) fails with the hint saying what was missing.
 * An "unsafe" undefined stands for an attribute the sandbox refuses (e.g. {@code __class__}).
 */
final class Undefined {
    private final String hint;
    private final boolean unsafe;

    private Undefined(String hint, boolean unsafe) {
        this.hint = hint;
        this.unsafe = unsafe;
    }

    static Undefined named(String name) {
        return new Undefined("'" + name + "' is undefined", false);
    }

    static Undefined missingAttribute(Object owner, String attribute) {
        return new Undefined("'" + PyOps.typeName(owner) + " object' has no attribute '" + attribute + "'", false);
    }

    static Undefined missingItem(Object owner, Object key) {
        if (owner instanceof java.util.Map) {
            return new Undefined("'" + PyOps.typeName(owner) + " object' has no attribute " + PyFormat.repr(key), false);
        }
        return new Undefined(PyOps.typeName(owner) + " object has no element " + PyFormat.repr(key), false);
    }

    static Undefined because(String hint) {
        return new Undefined(hint, false);
    }

    static Undefined unsafe(Object owner, String attribute) {
        return new Undefined("access to attribute '" + attribute + "' of '" + PyOps.typeName(owner)
                + "' object is unsafe.", true);
    }

    /** The error for using this value in a way jinja2's Undefined does not allow. */
    TemplateException error() {
        return new TemplateException((unsafe ? "SecurityError: " : "UndefinedError: ") + hint);
    }

    @Override
    public String toString() {
        return "";
    }
}
