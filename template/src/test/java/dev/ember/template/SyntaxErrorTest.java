package dev.ember.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.ModelFormatException;
import org.junit.jupiter.api.Test;

/** Syntax errors are found by parse() and name the line and column of the fault. */
class SyntaxErrorTest {
    private static TemplateSyntaxException fails(String source) {
        return assertThrows(TemplateSyntaxException.class, () -> ChatTemplate.parse(source));
    }

    private static void at(String source, int line, int column, String text) {
        TemplateSyntaxException e = fails(source);
        assertEquals(line, e.line(), e.getMessage());
        assertEquals(column, e.column(), e.getMessage());
        assertTrue(e.getMessage().startsWith("chat template syntax error at line " + line + ":" + column + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }

    @Test
    void isAModelFormatException() {
        assertTrue(ModelFormatException.class.isAssignableFrom(TemplateSyntaxException.class));
    }

    @Test
    void missingEndTagNamesTheOpeningBlock() {
        at("a\n{% if x %}\nunclosed", 3, 9, "expected 'elif' or 'else' or 'endif' to close the 'if' block at line 2:4");
        assertTrue(fails("a\n{% for m in ms %}x").getMessage().contains("'for' block at line 2:4"));
    }

    @Test
    void incompleteExpressions() {
        at("{{ 1 + }}", 1, 8, "expected an expression");
        at("line1\n  {% for %}", 2, 10, "variable name");
        at("{{ }}", 1, 4, "expected an expression");
        at("{{ (1, 2 }}", 1, 10, "unexpected '}', expected ')'");
    }

    @Test
    void unknownTagsFiltersAndTests() {
        at("x\n{% endif %}", 2, 4, "unknown tag 'endif'");
        at("{% foo %}", 1, 4, "unknown tag 'foo'");
        at("{% for i in x %}{% endif %}", 1, 20, "expected 'else' or 'endfor'");
        at("{{ x | nosuchfilter }}", 1, 8, "no filter named 'nosuchfilter'");
        at("{{ x is nosuchtest }}", 1, 9, "no test named 'nosuchtest'");
        at("{% include 'x.html' %}", 1, 4, "not supported");
    }

    @Test
    void lexicalErrors() {
        at("ok\n{{ 'unterminated }}", 2, 4, "unterminated string literal");
        at("{# never closed", 1, 1, "missing end of comment tag");
        at("{% raw %} never closed", 1, 1, "missing end of raw directive");
        at("{{ a ! b }}", 1, 6, "unexpected character '!'");
        at("{{ x", 1, 1, "never closed");
    }

    @Test
    void loopControlsOutsideALoop() {
        at("{% break %}", 1, 4, "'break' outside a for loop");
        at("{% for x in y %}{% endfor %}{% continue %}", 1, 32, "'continue' outside a for loop");
        at("{% for x in y %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}", 1, 35, "'break' outside a for loop");
    }

    @Test
    void aParameterNamedTwiceIsRefused() {
        // jinja2 fails to compile {% macro f(a, a) %} (Python: duplicate argument); the second a must not
        // silently shadow the first
        at("{% macro f(a, a) %}{% endmacro %}", 1, 15, "duplicate parameter 'a'");
        at("{% macro f(a) %}{% endmacro %}{% call(x, x) f(1) %}{% endcall %}", 1, 42, "duplicate parameter 'x'");
    }

    @Test
    void assigningTheLoopVariableInALoopIsRefused() {
        // jinja2 refuses these at compile time (TemplateAssertionError); rendering them printed the assigned value
        for (String source : new String[] {"{% for loop in [1] %}{{ loop }}{% endfor %}",
                "{% for x, loop in [[1, 2]] %}{% endfor %}",
                "{% for x in [1] %}{% set loop = 5 %}{{ loop }}{% endfor %}",
                "{% for x in [] %}{% else %}{% set a, loop = 1, 2 %}{% endfor %}",
                "{% for x in [1] %}{% macro m() %}{% set loop %}t{% endset %}{% endmacro %}{% endfor %}"}) {
            assertTrue(fails(source).getMessage().contains("Can't assign to special loop variable"), source);
        }
        // outside a loop, or as a namespace attribute, it is an ordinary name
        assertEquals("1|1", ChatTemplate.parse("{% set loop = 1 %}{{ loop }}|{% for x in [1] %}{% set ns = namespace() %}"
                + "{% set ns.loop = 1 %}{{ ns.loop }}{% endfor %}").render(java.util.Map.of()));
    }
}
