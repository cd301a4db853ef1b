package dev.ember.template;

import static dev.ember.template.TemplateTesting.render;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Language features, topic by topic. Every expected string was produced by jinja2 3.1.6 configured as
 * transformers configures it (regenerate/local_jinja_env.py), the same jinja2 the transformers fixtures used.
 */
class LanguageTest {
    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** Renders a template that must fail with a message containing {@code expected}; returns the message. */
    private static String assertFails(String template, String expected, Object... vars) {
        String message = assertThrows(TemplateException.class, () -> render(template, vars), template).getMessage();
        assertTrue(message.contains(expected), message);
        return message;
    }

    @Test
    void slicing() {
        assertEquals("[1, 2]|[3, 4]|[4, 3, 2, 1, 0]|[4, 2, 0]|[4, 2]|[0, 1, 2, 3, 4]",
                render("{{ x[1:3] }}|{{ x[-2:] }}|{{ x[::-1] }}|{{ x[::-2] }}|{{ x[4:0:-2] }}|{{ x[:100] }}", "x", List.of(0L, 1L, 2L, 3L, 4L)));
        assertEquals("olléh|éll|o|h",
                render("{{ s[::-1] }}|{{ s[1:-1] }}|{{ s[-1] }}|{{ s[0] }}", "s", "héllo"));
        assertEquals("assistant,user,system",
                render("{{ messages[::-1] | map(attribute='role') | join(',') }}", "messages", List.of(map("role", "system"), map("role", "user"), map("role", "assistant"))));
        assertEquals("(2, 3)",
                render("{{ (1, 2, 3)[1:] }}"));
    }

    @Test
    void namespace() {
        assertEquals("True 3",
                render("{% set ns = namespace(found=false, n=0) %}{% for m in ms %}{% if m == 'b' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }} {{ ns.n }}", "ms", List.of("a", "b", "c")));
        assertEquals("0",
                render("{% set count = 0 %}{% for m in ms %}{% set count = count + 1 %}{% endfor %}{{ count }}", "ms", List.of("a", "b")));
        assertEquals("[0, 2, 4]",
                render("{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% set ns.items = ns.items + [i * 2] %}{% endfor %}{{ ns.items }}"));
    }

    @Test
    void loopVariables() {
        assertEquals("1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;",
                render("{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}"));
        assertEquals("-<1>2 1<2>3 2<3>- ",
                render("{% for x in [1, 2, 3] %}{{ loop.previtem | default('-') }}<{{ x }}>{{ loop.nextitem | default('-') }} {% endfor %}"));
        assertEquals("2:1/2 4:2/2 ",
                render("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}"));
        assertEquals("empty",
                render("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}"));
        assertEquals("a=1;b=2;",
                render("{% for k, v in d | dictsort %}{{ k }}={{ v }};{% endfor %}", "d", map("b", 2L, "a", 1L)));
        assertEquals("0a2a3b",
                render("{% for x in range(6) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{{ loop.cycle('a', 'b') }}{% endfor %}"));
    }

    @Test
    void filters() {
        assertEquals("x|ABC|abc|Hello World|Hello",
                render("{{ '  x  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}"));
        assertEquals("3 3 3 2 1,2,3 [2, 1, 3]",
                render("{{ [1, 2, 3] | length }} {{ 'abc' | count }} {{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ [3, 1, 2] | sort | join(',') }} {{ [3, 1, 2] | reverse | list }}"));
        assertEquals("None|d|d|x",
                render("{{ none | default('d') }}|{{ missing | default('d') }}|{{ '' | default('d', true) }}|{{ missing | d('x') }}"));
        assertEquals("4 -1 2.5 7! 3 2.67 2.0 3.0",
                render("{{ '3' | int + 1 }} {{ 'x' | int(-1) }} {{ '2.5' | float }} {{ 7 | string ~ '!' }} {{ -3 | abs }} {{ 2.675 | round(2) }} {{ 2.5 | round }} {{ 3.7 | round(method='floor') }}"));
        assertEquals("a+b+c a+b-c [1, 2] ['a', 'b']",
                render("{{ 'a-b-c' | replace('-', '+') }} {{ 'a-b-c' | replace('-', '+', 1) }} {{ [1, 1, 2] | unique | list }} {{ ['b', 'a'] | sort | list }}"));
        assertEquals("ann, bob|['ann']|1|[1, 3]|[2, 4]",
                render("{{ users | map(attribute='name') | join(', ') }}|{{ users | selectattr('admin') | map(attribute='name') | list }}|{{ users | rejectattr('admin') | list | length }}|{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [1, 2, 3, 4] | reject('odd') | list }}", "users", List.of(map("name", "ann", "admin", true), map("name", "bob", "admin", false))));
        assertEquals("{\"z\": [1, 2.5, null, true], \"a\": \"ü\"}|{\n  \"z\": [\n    1,\n    2.5,\n    null,\n    true\n  ],\n  \"a\": \"ü\"\n}|\"é\\\"<\"",
                render("{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"<' | tojson }}", "d", map("z", Arrays.asList(1L, 2.5, null, true), "a", "ü")));
        assertEquals("[('b', 1), ('a', 2)] [('b', 1), ('a', 2)] a\n  b <b> &lt;b&gt;",
                render("{{ d | items | list }} {{ d | dictsort(reverse=true) }} {{ 'a\\nb' | indent(2) }} {{ '<b>' | safe }} {{ '<b>' | e }}", "d", map("b", 1L, "a", 2L)));
    }

    @Test
    void tests() {
        assertEquals("True True True True True True True True True True True",
                render("{{ x is defined }} {{ y is undefined }} {{ n is none }} {{ 's' is string }} {{ 1 is number }} {{ 1 is integer }} {{ 1.5 is float }} {{ d is mapping }} {{ l is sequence }} {{ l is iterable }} {{ true is boolean }}", "x", 1L, "n", null, "d", map(), "l", List.of()));
        assertEquals("True True True True True True False True True True",
                render("{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 3 is eq 3 }} {{ 'a' is in 'abc' }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 'abc' is lower }} {{ x is not defined }}"));
    }

    @Test
    void stringMethods() {
        assertEquals("True False answer|reason",
                render("{{ s.startswith('<think>') }} {{ s.endswith('</think>') }} {{ s.split('</think>')[-1].lstrip('\\n') }}|{{ s.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", "s", "<think>\nreason\n</think>\n\nanswer"));
        assertEquals("x hi x|x hi x | x hi x|hi",
                render("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip(' x') }}", "s", " x hi x "));
        assertEquals("['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a b', 'c']",
                render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }}"));
        assertEquals("HELLO hello They'Re Here 2 2 heLLo a and b",
                render("{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ \"they're here\".title() }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ 'hello'.replace('l', 'L') }} {{ '{} and {}'.format('a', 'b') }}"));
        assertEquals("1 dflt ['a', 'b'] [1, 2] [('a', 1), ('b', 2)]",
                render("{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}", "d", map("a", 1L, "b", 2L)));
    }

    @Test
    void undefined() {
        assertEquals("[] [0] [[]] [] [False] [True] [a]",
                render("[{{ missing }}] [{{ missing | length }}] [{{ missing | list }}] [{% for x in missing %}x{% endfor %}] [{{ missing is defined }}] [{{ not missing }}] [{{ missing ~ 'a' }}]"));
        assertEquals("[] [] [] [False]",
                render("[{{ d.nokey }}] [{{ d['nokey'] }}] [{{ l[10] }}] [{{ d.nokey is defined }}]", "d", map("k", 1L), "l", List.of(1L)));
    }

    @Test
    void pythonRendering() {
        assertEquals("True False None 1.0 1e+100 1.5e-07 0.30000000000000004 2.5 2 256",
                render("{{ true }} {{ false }} {{ none }} {{ 1.0 }} {{ 1e100 }} {{ 1.5e-7 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 10 // 4 }} {{ 2 ** 8 }}"));
        assertEquals("['a', 1, 2.0, None, True] {'k': 'v', 'n': [1]} ('t', 1) (1,) it's [\"it's\"]",
                render("{{ ['a', 1, 2.0, none, true] }} {{ {'k': 'v', 'n': [1]} }} {{ ('t', 1) }} {{ (1,) }} {{ \"it's\" }} {{ [\"it's\"] }}"));
        assertEquals("{'role': 'user', 'content': 'hi\\n'}",
                render("{{ messages[0] }}", "messages", List.of(map("role", "user", "content", "hi\n"))));
    }

    @Test
    void attrFilterLooksUpAttributesOnly() {
        // jinja2's attr is Python getattr: a dict's keys are not its attributes (x.a and x['a'] fall back, attr
        // does not), while its methods, a namespace's and the loop's fields are
        assertEquals("|True|1|2",
                render("{{ x | attr('a') }}|{{ x | attr('items') is callable }}|{% set ns = namespace(n=1) %}"
                        + "{{ ns | attr('n') }}|{% for i in [1] %}{{ loop | attr('length') + 1 }}{% endfor %}",
                        "x", map("a", 1)));
    }

    @Test
    void macroCallsHonorTheSignature() {
        // jinja2 gives a macro varargs / kwargs / caller only when its body uses them; otherwise the extra
        // arguments are a TypeError, so transformers fails where a lenient renderer would print something
        assertEquals("1(2,)|1{'b': 2}|2",
                render("{% macro f(a) %}{{ a }}{{ varargs }}{% endmacro %}{{ f(1, 2) }}|"
                        + "{% macro g(a) %}{{ a }}{{ kwargs }}{% endmacro %}{{ g(1, b=2) }}|"
                        + "{% macro h(a) %}{% for x in [1] %}{{ varargs | length }}{% endfor %}{% endmacro %}{{ h(1, 2, 3) }}"));
        for (String[] c : new String[][] {
                {"{% macro f(a) %}{{ a }}{% endmacro %}{{ f(1, 2) }}", "TypeError: macro 'f' takes not more than 1 argument(s)"},
                {"{% macro f(a) %}{{ a }}{% endmacro %}{{ f(1, b=2) }}", "TypeError: macro 'f' takes no keyword argument 'b'"},
                {"{% macro f() %}x{% endmacro %}{% call f() %}y{% endcall %}",
                        "TypeError: macro 'f' was invoked with two values for the special caller argument"},
                {"{% macro f(a) %}{{ caller(1, 2) }}{% endmacro %}{% call(x) f(1) %}{{ x }}{% endcall %}",
                        "takes not more than 1 argument(s)"}}) {
            assertFails(c[0], c[1]);
        }
    }

    @Test
    void formatRefusesMixingAutomaticAndManualFieldNumbers() {
        // Python: ValueError; '{0}{}'.format(1, 2) must not print 11 (or 12)
        for (String t : new String[] {"{{ '{0}{}'.format(1, 2) }}", "{{ '{}{0}'.format(1, 2) }}"}) {
            assertFails(t, "ValueError: cannot switch from manual field specification to automatic field numbering");
        }
        assertEquals("21|122", render("{{ '{a}{}'.format(1, a=2) }}|{{ '{}{}{a}'.format(1, 2, a=2) }}"));
    }

    @Test
    void indentTakesOnlyText() {
        // jinja2's indent appends "\n" to its value: None (an assistant turn with tool calls and no content), a
        // number or an undefined value fail there instead of printing "None" or "5"
        assertEquals("a\n  b", render("{{ 'a\nb' | indent(2) }}"));
        for (String[] c : new String[][] {{"{{ x | indent(2) }}", "UndefinedError"},
                {"{{ none | indent(2) }}", "TypeError: unsupported operand type(s) for +=: 'NoneType' and 'str'"},
                {"{{ 5 | indent(2) }}", "TypeError: unsupported operand type(s) for +=: 'int' and 'str'"}}) {
            assertFails(c[0], c[1]);
        }
    }

    @Test
    void truncateMeasuresOnlyWhatHasALength() {
        // jinja2's truncate takes len(value): a short list or dict comes back whole (not "..."), None and
        // numbers have no len() and fail, a long list cannot be cut
        assertEquals("[1, 2]|{'b': 1, 'a': 2}|...|", render("{{ [1, 2] | truncate(3) }}|{{ {'b': 1, 'a': 2} | truncate(3) }}|"
                + "{{ 'abcdefghijkl' | truncate(3) }}|{{ x | truncate(3) }}"));
        for (String[] c : new String[][] {{"{{ none | truncate(3) }}", "TypeError: object of type 'NoneType' has no len()"},
                {"{{ 5 | truncate(3) }}", "TypeError: object of type 'int' has no len()"},
                {"{{ range(20) | list | truncate(3) }}", "AttributeError: 'list' object has no attribute 'rsplit'"}}) {
            assertFails(c[0], c[1]);
        }
    }

    @Test
    void mapAndSelectOfNothingAreEmpty() {
        // jinja2's map, select, reject, selectattr and rejectattr yield nothing for a false value (None, 0, "")
        // before looking at it: {{ tools | map(attribute='name') | list }} with tools None is [], not an error
        assertEquals("[]|[]|[]|[]|[]|[]",
                render("{{ tools | map(attribute='name') | list }}|{{ none | map('upper') | list }}|{{ none | select | list }}|"
                        + "{{ 0 | reject('odd') | list }}|{{ '' | selectattr('x') | list }}|{{ false | rejectattr('x') | list }}",
                        "tools", null));
    }

    @Test
    void slicingWhatCannotBeSlicedFails() {
        // jinja2 writes a slice as Python's own subscript, not its lenient getitem: {{ m.content[:10] }} with
        // content None is a TypeError in transformers, and must not print an empty string
        // (variables, as templates slice: jinja2's optimizer folds a slice of a literal such as none[:1] through
        // its lenient getitem at compile time, which prints nothing; that quirk is not reproduced)
        Object[][] cases = {{null, "TypeError: 'NoneType' object is not subscriptable"},
                {5L, "TypeError: 'int' object is not subscriptable"},
                {true, "TypeError: 'bool' object is not subscriptable"},
                {map("a", 1L), "TypeError: unhashable type: 'slice'"}};
        for (Object[] c : cases) {
            assertFails("{{ v[1:] }}", (String) c[1], "v", c[0]);
        }
        assertFails("{{ m.content[:10] }}", "'NoneType' object is not subscriptable", "m", map("content", null));
        // an index (not a slice) of None stays undefined, as jinja2's getitem makes it
        assertEquals("|bc", render("{{ none[1] }}|{{ 'abc'[1:] }}"));
    }

    @Test
    void floatFloorDivisionAndModuloFollowPython() {
        // Python's float divmod: 1 // 0.1 is 9.0 (not floor(1 / 0.1) = 10.0), a zero remainder takes the divisor's sign
        assertEquals("-0.0|9.0|0.0|3.0|-4.0|0.09999999999999995|-0.0|0.0|-17.0",
                render("{{ 1 % -0.5 }}|{{ 1 // 0.1 }}|{{ -1 % 0.5 }}|{{ 7.5 // 2 }}|{{ -7.5 // 2 }}|{{ 1 % 0.1 }}|"
                        + "{{ 0.0 // -1 }}|{{ -0.0 % 1 }}|{{ 5 // -0.3 }}"));
    }

    @Test
    void splitlinesTakesAnIntegerKeepends() {
        assertEquals("['a\\n', 'b']|['a\\n', 'b']|['a', 'b']|['a\\n', 'b']",
                render("{{ 'a\nb'.splitlines(1) }}|{{ 'a\nb'.splitlines(true) }}|{{ 'a\nb'.splitlines(0) }}|"
                        + "{{ 'a\nb'.splitlines(keepends=true) }}"));
        // Python: TypeError ('str' object cannot be interpreted as an integer), not a truth test of the argument
        for (String t : new String[] {"{{ 'a'.splitlines(' ') }}", "{{ 'a'.splitlines(none) }}", "{{ 'a'.splitlines(1.0) }}"}) {
            assertFails(t, "TypeError");
        }
    }

    @Test
    void sortTakesSeveralAttributesAndComparesKeysAsPythonLists() {
        // jinja2's sort key is a list, one entry per comma-separated attribute; Python compares lists by == first,
        // so equal keys (None, missing attributes) never reach '<'
        List<Object> x = List.of(map("a", 2L, "b", 1L), map("a", 1L, "b", 2L), map("a", 1L, "b", 1L));
        List<Object> y = List.of(map("n", map("k", "B"), "m", 1L), map("n", map("k", "a"), "m", 2L));
        assertEquals("[None, None]|[{'a': None}, {'a': None}]|[{'a': 1, 'b': 1}, {'a': 1, 'b': 2}, {'a': 2, 'b': 1}]|"
                        + "[{'a': 1, 'b': 2}, {'a': 2, 'b': 1}, {'a': 1, 'b': 1}]|"
                        + "[{'a': 2, 'b': 1}, {'a': 1, 'b': 2}, {'a': 1, 'b': 1}]|"
                        + "[{'n': {'k': 'a'}, 'm': 2}, {'n': {'k': 'B'}, 'm': 1}]",
                render("{{ [none, none] | sort }}|{{ [{'a': none}, {'a': none}] | sort(attribute='a') }}|"
                        + "{{ x | sort(attribute='a,b') }}|{{ x | sort(attribute='b,a', reverse=true) }}|"
                        + "{{ x | sort(attribute='z') }}|{{ y | sort(attribute='n.k,m') }}", "x", x, "y", y));
    }

    @Test
    void percentFormatAlternateFormPrefixesHexAndOctal() {
        // Python: '%#x' % 255 is 0xff (the '#' flag was ignored: ff), zero padding goes after the prefix
        assertEquals("0xff|0XFF|0o10|-ff|  0xa|0o10  |0x00ff|-0xff|0o0",
                render("{{ '%#x|%#X|%#o|%x|%#5x|%-#6o|%#06x|%#x|%#o' % (255, 255, 8, -255, 10, 8, 255, -255, 0) }}"));
    }

    @Test
    void formattingPythonAllowsButThisRendererLacksIsNamedSo() {
        assertEquals("3|-4", render("{{ '%u|%u' % (3, -4) }}"));
        // Python accepts these; an error saying "unsupported format character" or "Single '}'" blamed the template
        for (String[] c : new String[][] {{"{{ '%g' % 3.5 }}", "'g'"}, {"{{ '%a' % 'x' }}", "'a'"},
                {"{{ '%*d' % (5, 3) }}", "'*'"}, {"{{ '{0:{1}}'.format(3, 5) }}", "nested"}}) {
            String message = assertFails(c[0], c[1]);
            assertTrue(message.contains("not supported in chat templates"), message);
        }
    }
}
