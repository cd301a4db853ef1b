package dev.ember.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * One language feature per snippet: output byte for byte, or the same kind of failure. Syntax errors must
 * be found at parse time on the same line; for runtime errors jinja2's message must appear in ours.
 * reference/snippets.json was rendered by transformers' own chat-template environment;
 * reference/more_snippets.json (more features and 150 seeded random expressions) by the same jinja2
 * version configured the same way, which agreed with transformers on every snippet of the first file.
 */
class JinjaConformanceTest {
    private static final Set<String> SYNTAX_ERRORS = Set.of("TemplateSyntaxError", "TemplateAssertionError", "SyntaxError");

    @TestFactory
    Stream<DynamicTest> snippetsRenderLikeTransformers() {
        Map<String, Object> reference = Fixtures.json("/dev/ember/template/reference/snippets.json");
        assertTrue(String.valueOf(reference.get("origin")).startsWith("transformers"), "fixtures must come from transformers");
        return tests(reference);
    }

    @TestFactory
    Stream<DynamicTest> moreSnippetsRenderLikeJinja() {
        Map<String, Object> reference = Fixtures.json("/dev/ember/template/reference/more_snippets.json");
        assertTrue(String.valueOf(reference.get("origin")).startsWith("jinja2 3.1.6"), "fixtures must come from jinja2");
        return tests(reference);
    }

    @SuppressWarnings("unchecked")
    private static Stream<DynamicTest> tests(Map<String, Object> reference) {
        List<Map<String, Object>> snippets = (List<Map<String, Object>>) reference.get("snippets");
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < snippets.size(); i++) {
            Map<String, Object> s = snippets.get(i);
            String template = (String) s.get("template");
            String label = "#" + i + " " + template.replace("\n", "\\n");
            tests.add(DynamicTest.dynamicTest(label.length() > 80 ? label.substring(0, 80) : label, () -> check(s)));
        }
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    private static void check(Map<String, Object> s) {
        String template = (String) s.get("template");
        Map<String, Object> context = (Map<String, Object>) s.get("context");
        if (s.containsKey("text")) {
            assertEquals(s.get("text"), ChatTemplate.parse(template).render(context));
            return;
        }
        String error = (String) s.get("error");
        String type = error.substring(0, error.indexOf(':'));
        String message = error.substring(error.indexOf(':') + 2);
        if (SYNTAX_ERRORS.contains(type)) {
            TemplateSyntaxException e = assertThrows(TemplateSyntaxException.class, () -> ChatTemplate.parse(template));
            if (s.containsKey("lineno") && !type.equals("SyntaxError")) {
                assertEquals(((Number) s.get("lineno")).intValue(), e.line(), e.getMessage());
            }
            return;
        }
        ChatTemplate parsed = ChatTemplate.parse(template);
        TemplateException e = assertThrows(TemplateException.class, () -> parsed.render(context));
        if (type.equals("TemplateError")) {
            assertEquals(message, e.templateMessage());
        } else {
            assertTrue(e.getMessage().contains(type + ": " + message), "expected '" + error + "' in: " + e.getMessage());
        }
    }
}
