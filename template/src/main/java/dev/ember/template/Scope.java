package dev.ember.template;

import java.util.HashMap;
import java.util.Map;

/**
 * One frame of variables. The template's top level, each for-loop iteration, each macro call and each
 * with-block get their own frame, so a {@code set} inside a loop does not leak out (that is what
 * namespace() is for), exactly as in jinja2.
 */
final class Scope {
    static final Object MISSING = new Object();

    private final Map<String, Object> vars = new HashMap<>();
    private final Scope parent;

    Scope(Scope parent) {
        this.parent = parent;
    }

    Object lookup(String name) {
        for (Scope s = this; s != null; s = s.parent) {
            Object v = s.vars.getOrDefault(name, MISSING);
            if (v != MISSING) {
                return v;
            }
        }
        return MISSING;
    }

    void set(String name, Object value) {
        vars.put(name, value);
    }
}
