package dev.ember.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.ConfigException;
import dev.ember.LlmException;
import java.time.Year;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The public API: the conversation overload's variables, raise_exception, limits and errors. */
class ChatTemplateTest {
    private static final List<Map<String, Object>> HELLO = List.of(Map.of("role", "user", "content", "Hello"));

    @Test
    void conversationVariablesFollowApplyChatTemplate() {
        ChatTemplate t = ChatTemplate.parse("{{ bos_token is defined }}|{{ eos_token }}|{{ tools is none }}|"
                + "{{ documents is none }}|{{ add_generation_prompt }}|{{ messages[0].content }}|{{ enable_thinking }}");
        assertEquals("False|</s>|True|True|True|Hello|False",
                t.render(HELLO, true, null, "</s>", Map.of("enable_thinking", false)));
        assertEquals("True||True|True|False|Hello|", t.render(HELLO, false, "<s>", null, null));
    }

    @Test
    void extraMayCarryToolsAndOverrideSpecialTokens() {
        ChatTemplate t = ChatTemplate.parse("{{ tools | map(attribute='name') | join }}|{{ bos_token }}|{{ pad_token }}");
        Map<String, Object> extra = Map.of("tools", List.of(Map.of("name", "a"), Map.of("name", "b")),
                "bos_token", "<B>", "pad_token", "<pad>");
        assertEquals("ab|<B>|<pad>", t.render(HELLO, true, "<s>", "</s>", extra));
    }

    @Test
    void extraMustNotShadowTheConversationArguments() {
        ChatTemplate t = ChatTemplate.parse("x");
        TemplateException e = assertThrows(TemplateException.class,
                () -> t.render(HELLO, true, null, null, Map.of("messages", List.of())));
        assertTrue(e.getMessage().contains("'messages'"), e.getMessage());
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplate t = ChatTemplate.parse("{% for m in messages %}\n{% if m.role == 'system' %}"
                + "{{ raise_exception('System role not supported: ' ~ m.content) }}{% endif %}{% endfor %}");
        TemplateException e = assertThrows(TemplateException.class,
                () -> t.render(List.of(Map.of("role", "system", "content", "S")), true, null, null, null));
        assertTrue(e.raisedByTemplate());
        assertEquals("System role not supported: S", e.templateMessage());
        assertTrue(e.getMessage().contains("System role not supported: S"), e.getMessage());
        assertTrue(e.getMessage().contains("template line 2:"), e.getMessage());
        assertTrue(LlmException.class.isInstance(e));
    }

    @Test
    void otherRenderErrorsAreNotRaisedByTheTemplateAndNameThePosition() {
        ChatTemplate t = ChatTemplate.parse("ok\n{{ messages[0].content.startswith('x') }}");
        TemplateException e = assertThrows(TemplateException.class,
                () -> t.render(List.of(Map.of("role", "assistant")), false, null, null, null));
        assertFalse(e.raisedByTemplate());
        assertNull(e.templateMessage());
        assertTrue(e.getMessage().startsWith("UndefinedError: 'dict object' has no attribute 'content'"), e.getMessage());
        assertTrue(e.getMessage().contains("template line 2:"), e.getMessage());
    }

    @Test
    void strftimeNowFormatsTheCurrentTime() {
        String year = ChatTemplate.parse("{{ strftime_now('%Y') }}").render(Map.of());
        assertTrue(Math.abs(Integer.parseInt(year) - Year.now().getValue()) <= 1, year);
        assertTrue(ChatTemplate.parse("{{ strftime_now('%d %b %Y') }}").render(Map.of()).matches("\\d\\d [A-Z][a-z]{2} \\d{4}"));
    }

    @Test
    void renderingCopiesTheContext() {
        Map<String, Object> message = new HashMap<>(Map.of("role", "user", "content", "a"));
        ChatTemplate t = ChatTemplate.parse("{{ messages[0].content }}");
        assertEquals("a", t.render(List.of(message), false, null, null, null));
        message.put("content", "b");
        assertEquals("b", t.render(List.of(message), false, null, null, null));
    }

    @Test
    void limitsAreValidated() {
        assertThrows(ConfigException.class, () -> new RenderLimits(0, 1, 1));
        assertThrows(ConfigException.class, () -> new RenderLimits(1, -1, 1));
        assertThrows(ConfigException.class, () -> new RenderLimits(1, 1, 0));
        ChatTemplate t = ChatTemplate.parse("{{ 'x' * 20 }}");
        assertEquals("x".repeat(20), t.withLimits(new RenderLimits(100, 20, 1000)).render(Map.of()));
        assertThrows(TemplateException.class, () -> t.withLimits(new RenderLimits(100, 19, 1000)).render(Map.of()));
    }

    @Test
    void sourceIsKept() {
        assertEquals("a\r\n", ChatTemplate.parse("a\r\n").source());
    }
}
