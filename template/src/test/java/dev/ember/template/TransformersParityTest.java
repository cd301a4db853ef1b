package dev.ember.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Byte-for-byte parity with Hugging Face transformers 5.17 {@code apply_chat_template}: every
 * conversation in reference/NAME.json was rendered on a machine with transformers installed
 * (regenerate/ says how), with the template in templates/NAME.jinja.
 */
class TransformersParityTest {
    private static final String DIR = "/dev/ember/template/";
    private static final List<String> TEMPLATES = List.of("qwen3", "chatml_tools", "llama3", "mistral", "gemma",
            "features", "whitespace", "whitespace_crlf");

    @TestFactory
    @SuppressWarnings("unchecked")
    Stream<DynamicTest> rendersLikeTransformers() {
        Map<String, Object> tokens = Fixtures.json(DIR + "templates/special_tokens.json");
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : TEMPLATES) {
            ChatTemplate template = ChatTemplate.parse(Fixtures.text(DIR + "templates/" + name + ".jinja"));
            Map<String, Object> special = (Map<String, Object>) tokens.get(name);
            List<Map<String, Object>> cases = (List<Map<String, Object>>) Fixtures.json(DIR + "reference/" + name + ".json").get("cases");
            for (int i = 0; i < cases.size(); i++) {
                Map<String, Object> c = cases.get(i);
                tests.add(DynamicTest.dynamicTest(name + " #" + i, () -> check(template, special, c)));
            }
        }
        assertTrue(tests.size() >= 60, "expected the full fixture set, found " + tests.size());
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    private static void check(ChatTemplate template, Map<String, Object> special, Map<String, Object> c) {
        List<Map<String, Object>> messages = (List<Map<String, Object>>) c.get("messages");
        boolean addGenerationPrompt = (Boolean) c.getOrDefault("add_generation_prompt", true);
        Map<String, Object> extra = (Map<String, Object>) c.get("extra");
        String bos = (String) special.get("bos_token");
        String eos = (String) special.get("eos_token");
        if (c.containsKey("text")) {
            assertEquals(c.get("text"), template.render(messages, addGenerationPrompt, bos, eos, extra));
            return;
        }
        String error = (String) c.get("error");
        TemplateException e = assertThrows(TemplateException.class,
                () -> template.render(messages, addGenerationPrompt, bos, eos, extra));
        if (error.startsWith("TemplateError: ")) {
            assertTrue(e.raisedByTemplate(), e.getMessage());
            assertEquals(error.substring("TemplateError: ".length()), e.templateMessage());
        } else {
            assertTrue(e.getMessage().contains(error), "expected '" + error + "' in: " + e.getMessage());
        }
    }
}
