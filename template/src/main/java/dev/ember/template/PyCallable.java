package dev.ember.template;

import java.util.List;
import java.util.Map;

/** Something a template may call: a builtin, a bound string/dict/list method, a macro or loop.cycle. */
interface PyCallable {
    Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs);

    /** For messages: {@code "method 'str.split'"}, {@code "macro 'render'"}. */
    String describe();
}
