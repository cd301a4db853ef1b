package dev.ember.template;

import static dev.ember.template.TemplateTesting.render;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The template reaches nothing outside its context, cannot mutate it, and every rendering is bounded. */
class SandboxTest {
    private static final RenderLimits SMALL = new RenderLimits(200_000, 10_000, 5_000);

    @Test
    void dunderAttributesAreUndefinedNotJavaObjects() {
        assertEquals("|False|||", render("{{ ''.__class__ }}|{{ ''.__class__ is defined }}|{{ x.__dict__ }}|"
                + "{{ (1).__class__ }}|{{ [].__len__ }}", "x", Map.of("a", 1L)));
        TemplateException e = assertThrows(TemplateException.class, () -> render("{{ ''.__class__.__mro__ }}"));
        assertTrue(e.getMessage().contains("SecurityError"), e.getMessage());
    }

    @Test
    void javaMethodNamesAreJustMissingAttributes() {
        assertEquals("|||", render("{{ s.getClass }}|{{ s.getBytes }}|{{ m.getClass }}|{{ m.class }}",
                "s", "abc", "m", Map.of("k", 1L)));
        for (String call : List.of("{{ s.getClass() }}", "{{ s.hashCode() }}", "{{ m.toString() }}", "{{ l.stream() }}")) {
            TemplateException e = assertThrows(TemplateException.class,
                    () -> render(call, "s", "abc", "m", Map.of("k", 1L), "l", List.of(1L)));
            assertTrue(e.getMessage().startsWith("UndefinedError: "), e.getMessage());
        }
    }

    @Test
    void onlyTheDocumentedGlobalsExist() {
        assertEquals("True True True True True False False False False False",
                render("{{ range is defined }} {{ dict is defined }} {{ namespace is defined }} "
                        + "{{ raise_exception is defined }} {{ strftime_now is defined }} {{ config is defined }} "
                        + "{{ self is defined }} {{ environ is defined }} {{ os is defined }} {{ System is defined }}"));
    }

    @Test
    void mutatingMethodsAreRefusedAndTheContextStaysUntouched() {
        List<Object> messages = new ArrayList<>(List.of(new HashMap<>(Map.of("role", "user"))));
        for (String t : List.of("{{ messages.append(1) }}", "{{ messages.pop() }}", "{{ messages[0].update({'a': 1}) }}",
                "{{ messages[0].clear() }}", "{{ messages.sort() }}")) {
            TemplateException e = assertThrows(TemplateException.class, () -> render(t, "messages", messages));
            assertTrue(e.getMessage().contains("SecurityError"), t + ": " + e.getMessage());
        }
        assertEquals(List.of(Map.of("role", "user")), messages);
    }

    @Test
    void assigningAttributesWorksOnlyOnNamespaces() {
        TemplateException e = assertThrows(TemplateException.class, () -> render("{% set m.role = 'x' %}", "m", Map.of("role", "user")));
        assertTrue(e.getMessage().contains("cannot assign attribute on non-namespace object"), e.getMessage());
    }

    @Test
    void contextValuesOfOtherJavaTypesAreRejected() {
        for (Object bad : List.of(new File("/etc/passwd"), new Object(), new int[] {1}, Thread.currentThread())) {
            TemplateException e = assertThrows(TemplateException.class, () -> render("{{ x }}", "x", List.of(bad)));
            assertTrue(e.getMessage().contains("unsupported type " + bad.getClass().getName()), e.getMessage());
            assertTrue(e.getMessage().contains("x[0]"), e.getMessage());
        }
    }

    @Test
    void javaNumbersBecomePythonNumbers() {
        assertEquals("42 2.5 [1, 2]", render("{{ i + 1 }} {{ f }} {{ l }}", "i", 41, "f", 2.5f, "l", List.of((short) 1, (byte) 2)));
    }

    @Test
    void aContextThatContainsItselfIsRejectedNotAStackOverflow() {
        Map<String, Object> loop = new HashMap<>();
        loop.put("self", loop);
        TemplateException e = assertThrows(TemplateException.class, () -> render("{{ x }}", "x", loop));
        assertTrue(e.getMessage().contains("nests deeper"), e.getMessage());
    }

    @Test
    void hugeRangesAreRefusedLikeJinjaSandbox() {
        TemplateException e = assertThrows(TemplateException.class,
                () -> render("{% for i in range(10**9) %}{{ i }}{% endfor %}"));
        assertTrue(e.getMessage().contains("OverflowError: Range too big"), e.getMessage());
    }

    @Test
    void nestedLoopsStopAtTheStepLimit() {
        ChatTemplate t = ChatTemplate.parse("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                .withLimits(SMALL);
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(Map.of()));
        assertTrue(e.getMessage().contains("RenderLimits.maxSteps"), e.getMessage());
    }

    @Test
    void longRenderingsStopAtTheDeadline() {
        ChatTemplate t = ChatTemplate.parse("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                .withLimits(new RenderLimits(Long.MAX_VALUE, 1_000, 50));
        long start = System.nanoTime();
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(Map.of()));
        assertTrue(e.getMessage().contains("RenderLimits.timeoutMs"), e.getMessage());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "stopped late");
    }

    @Test
    void outputAndValuesAreBoundedInSize() {
        ChatTemplate loop = ChatTemplate.parse("{% for i in range(1000) %}{{ 'x' * 100 }}{% endfor %}").withLimits(SMALL);
        assertTrue(assertThrows(TemplateException.class, () -> loop.render(Map.of())).getMessage()
                .contains("RenderLimits.maxOutputChars"));
        ChatTemplate repeat = ChatTemplate.parse("{% set s = 'x' * 10**15 %}").withLimits(SMALL);
        assertTrue(assertThrows(TemplateException.class, () -> repeat.render(Map.of())).getMessage()
                .contains("RenderLimits.maxOutputChars"));
        ChatTemplate doubling = ChatTemplate.parse("{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                + "{% set ns.s = ns.s ~ ns.s %}{% endfor %}").withLimits(SMALL);
        assertTrue(assertThrows(TemplateException.class, () -> doubling.render(Map.of())).getMessage()
                .contains("RenderLimits.maxOutputChars"));
    }

    @Test
    void paddingAndIndentationAreBoundedBeforeTheyAreBuilt() {
        for (String t : List.of("{{ '%999999999s' % 'x' }}", "{{ '{:>999999999}'.format(1) }}",
                "{{ ('a\\n' * 1000) | indent(5000) }}", "{{ 'x' | center(999999999) }}", "{{ 'x'.ljust(10**12) }}")) {
            ChatTemplate template = ChatTemplate.parse(t).withLimits(SMALL);
            TemplateException e = assertThrows(TemplateException.class, () -> template.render(Map.of()), t);
            assertTrue(e.getMessage().contains("RenderLimits.maxOutputChars"), t + ": " + e.getMessage());
        }
    }

    @Test
    void valuesNestedTooDeeplyToPrintFailCleanly() {
        TemplateException e = assertThrows(TemplateException.class, () -> render("{% set ns = namespace(x=[]) %}"
                + "{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}"));
        assertTrue(e.getMessage().contains("RecursionError"), e.getMessage());
    }

    @Test
    void unboundedMacroRecursionFailsCleanly() {
        TemplateException e = assertThrows(TemplateException.class,
                () -> render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
        assertTrue(e.getMessage().contains("RecursionError"), e.getMessage());
    }

    @Test
    void deeplyNestedSourceIsASyntaxErrorNotAStackOverflow() {
        String deep = "{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}";
        TemplateSyntaxException e = assertThrows(TemplateSyntaxException.class, () -> ChatTemplate.parse(deep));
        assertTrue(e.getMessage().contains("nests deeper"), e.getMessage());
        String deepIfs = "{% if true %}".repeat(5000);
        assertThrows(TemplateSyntaxException.class, () -> ChatTemplate.parse(deepIfs));
    }

    @Test
    void oneParsedTemplateRendersConcurrently() throws Exception {
        ChatTemplate t = ChatTemplate.parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m | length %}"
                + "{% endfor %}{{ ns.n }}");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                final long n = i;
                results.add(pool.submit(() -> t.render(Map.of("messages", List.of("x".repeat((int) n), "yy")))));
            }
            for (int i = 0; i < results.size(); i++) {
                assertEquals(String.valueOf(i + 2), results.get(i).get());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
