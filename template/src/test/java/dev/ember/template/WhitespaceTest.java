package dev.ember.template;

import static dev.ember.template.TemplateTesting.render;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** transformers' whitespace settings (trim_blocks, lstrip_blocks) and jinja2's -/+ markers, rule by rule. */
class WhitespaceTest {
    @Test
    void trimBlocksRemovesOneNewlineAfterABlockTag() {
        assertEquals("A\nB", render("{% if true %}\nA\n{% endif %}\nB"));
        assertEquals("\nA", render("{% if true %}\n\nA{% endif %}"));
    }

    @Test
    void trimBlocksKeepsSpacesBeforeTheNewline() {
        assertEquals("  \nA", render("{% if true %}  \nA{% endif %}"));
    }

    @Test
    void trimBlocksAppliesToCommentsButNotToVariables() {
        assertEquals("A", render("{# c #}\nA"));
        assertEquals("x\nA", render("{{ 'x' }}\nA"));
    }

    @Test
    void lstripBlocksRemovesIndentationBeforeABlockTagThatStartsItsLine() {
        assertEquals("A", render("  {% if true %}A{% endif %}"));
        assertEquals("A", render("\t {% if true %}A{% endif %}"));
        assertEquals("A", render("  {# c #}\nA"));
        assertEquals("  - 1\n  - 2\n", render("{% for i in [1,2] %}\n  - {{ i }}\n{% endfor %}"));
    }

    @Test
    void lstripBlocksLeavesTextBeforeATagMidLineAndVariableTags() {
        assertEquals("x  A", render("x  {% if true %}A{% endif %}"));
        assertEquals("  v", render("  {{ 'v' }}"));
        assertEquals("  A  ", render("  {% if true %}  A{% endif %}  "));
    }

    @Test
    void plusMarkersDisableLstripAndTrim() {
        assertEquals("  A", render("  {%+ if true %}A{% endif %}"));
        assertEquals("\nA", render("{% if true +%}\nA{% endif %}"));
    }

    @Test
    void minusMarkersStripAllWhitespaceIncludingNewlines() {
        assertEquals("AB", render("A \n\n {%- if true %}B{% endif %}"));
        assertEquals("B", render("{% if true -%} \n\n B{% endif %}"));
        assertEquals("AbC", render("A  {{- 'b' -}}  \n C"));
        assertEquals("a", render("{%- if true %}\n{{ 'a' }}\n{%- endif %}"));
        assertEquals("xy", render("x\n  {%- if true %}y{% endif %}"));
    }

    @Test
    void oneTrailingNewlineOfTheTemplateIsDropped() {
        assertEquals("A", render("A\n"));
        assertEquals("A\n", render("A\n\n"));
    }

    @Test
    void windowsAndOldMacLineEndsBecomeNewlines() {
        assertEquals("A\nB\n", render("A\r\n{% if true %}\r\nB\r\n{% endif %}"));
        assertEquals("a\nb", render("{{ 'a\r\nb' }}"));
        assertEquals("a\nb", render("a\rb"));
    }

    @Test
    void rawBlocksAndCommentsAreNotRendered() {
        assertEquals("{{ x }}", render("{% raw %}{{ x }}{% endraw %}"));
        assertEquals("ab", render("a{# x #}b"));
    }
}
