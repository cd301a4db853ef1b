package dev.ember.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** Shorthand for tests: render a template string with name/value pairs as its variables. */
final class TemplateTesting {
    private TemplateTesting() {
    }

    static String render(String template, Object... nameValuePairs) {
        Map<String, Object> context = new LinkedHashMap<>();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            context.put((String) nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return ChatTemplate.parse(template).render(context);
    }
}
