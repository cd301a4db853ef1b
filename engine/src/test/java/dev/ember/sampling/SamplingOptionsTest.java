package dev.ember.sampling;

import dev.ember.ConfigException;
import dev.ember.guided.Constraint;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingOptionsTest {

    @Test
    void everyOptionIsParsedOntoItsField() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("max_tokens", "40");
        o.put("min_tokens", "3");
        o.put("temperature", "0.7");
        o.put("top_p", "0.9");
        o.put("top_k", "50");
        o.put("min_p", "0.05");
        o.put("repetition_penalty", "1.1");
        o.put("presence_penalty", "0.5");
        o.put("frequency_penalty", "0.25");
        o.put("request_seed", "1234");
        o.put("stop", "[\"\\n\\n\", \"END\"]");
        o.put("stop_token_ids", "7, 9");
        o.put("ignore_eos", "TRUE");
        o.put("logprobs", "2");
        // the four guided options exclude each other: guidedOptionsSetTheConstraint covers them
        Set<String> covered = new java.util.LinkedHashSet<>(o.keySet());
        covered.addAll(List.of("guided_choice", "guided_regex", "guided_json", "return_type"));
        assertEquals(SamplingOptions.ALL.all().stream().map(x -> x.name()).collect(java.util.stream.Collectors.toSet()),
                covered, "the test covers every option");
        SamplingParams p = SamplingOptions.apply(o, SamplingParams.builder());
        assertEquals(40, p.maxTokens());
        assertEquals(3, p.minTokens());
        assertEquals(0.7, p.temperature());
        assertEquals(0.9, p.topP());
        assertEquals(50, p.topK());
        assertEquals(0.05, p.minP());
        assertEquals(1.1, p.repetitionPenalty());
        assertEquals(0.5, p.presencePenalty());
        assertEquals(0.25, p.frequencyPenalty());
        assertEquals(1234L, p.seed());
        assertEquals(List.of("\n\n", "END"), p.stop());
        assertEquals(Set.of(7, 9), p.stopTokenIds());
        assertTrue(p.ignoreEos());
        assertEquals(2, p.logprobs());
    }

    @Test
    void guidedOptionsSetTheConstraint() {
        assertEquals(Constraint.choice(List.of("a", "b c")),
                SamplingOptions.apply(Map.of("guided_choice", "[\"a\",\"b c\"]"), SamplingParams.builder()).guided());
        assertEquals(Constraint.choice(List.of("x", "y")),
                SamplingOptions.apply(Map.of("guided_choice", "x, y"), SamplingParams.builder()).guided());
        assertEquals(Constraint.regex("[0-9]+"),
                SamplingOptions.apply(Map.of("guided_regex", "[0-9]+"), SamplingParams.builder()).guided());
        assertEquals(Constraint.json("{\"type\":\"boolean\"}"),
                SamplingOptions.apply(Map.of("guided_json", "{\"type\":\"boolean\"}"), SamplingParams.builder()).guided());
        Constraint typed = SamplingOptions.apply(Map.of("return_type", "STRUCT<ok: BOOLEAN>"), SamplingParams.builder())
                .guided();
        assertEquals(Constraint.Kind.JSON, typed.kind());
        assertTrue(typed.pattern().contains("\"required\":[\"ok\"]"), typed.pattern());
        Map<String, String> two = new LinkedHashMap<>();
        two.put("guided_regex", "a");
        two.put("guided_choice", "a,b");
        ConfigException e = assertThrows(ConfigException.class, () -> SamplingOptions.apply(two, SamplingParams.builder()));
        assertTrue(e.getMessage().contains("guided_regex is set too"), e.getMessage());
        assertThrows(ConfigException.class, () -> SamplingOptions.apply(Map.of("guided_choice", "[1]"), SamplingParams.builder()));
    }

    /** A JSON list followed by more text is refused naming the option, not read up to its end with the rest dropped. */
    @Test
    void jsonListsWithTrailingTextAreRefused() {
        for (String[] bad : new String[][] {{"guided_choice", "[\"a\",\"b\"] [\"c\"]"}, {"guided_choice", "[\"a\"]]"},
                {"stop", "[\"x\"], \"y\""}, {"stop_token_ids", "[1, 2] 3"}}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> SamplingOptions.apply(Map.of(bad[0], bad[1]), SamplingParams.builder()), bad[1]);
            assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
        }
    }

    @Test
    void aPlainStopValueIsOneStopString() {
        SamplingParams p = SamplingOptions.apply(Map.of("stop", "a,b"), SamplingParams.builder());
        assertEquals(List.of("a,b"), p.stop());
    }

    @Test
    void otherKeysAreLeftToTheCallerAndDefaultsStay() {
        SamplingParams p = SamplingOptions.apply(Map.of("device", "cuda"), SamplingParams.builder().maxTokens(5));
        assertEquals(5, p.maxTokens());
    }

    @Test
    void badValuesNameTheOptionTheValueAndWhatIsAllowed() {
        assertMessage(Map.of("max_tokens", "ten"), "option 'max_tokens' is 'ten'; allowed: an integer");
        assertMessage(Map.of("temperature", "-1"), "option 'temperature' is '-1'; allowed: a number in [0, 3.4e38]");
        assertMessage(Map.of("temperature", "1e300"), "option 'temperature' is '1e300'; allowed: a number in [0, 3.4e38]");
        assertMessage(Map.of("ignore_eos", "yes"), "option 'ignore_eos' is 'yes'; allowed: true, false");
        assertMessage(Map.of("stop_token_ids", "1,-2"), "option 'stop_token_ids' is '1,-2'; allowed: comma-separated token ids >= 0");
        assertMessage(Map.of("stop", "[1]"), "option 'stop' is '[1]'; allowed: a JSON array of non-empty strings");
        assertMessage(Map.of("stop", "[\"a\""), "option 'stop' is '[\"a\"'; allowed: a JSON array of strings");
        assertMessage(Map.of("top_p", "0"), "option 'top_p' is '0'; allowed: a number in (0, 1]");
    }

    private static void assertMessage(Map<String, String> options, String expectedStart) {
        ConfigException e = assertThrows(ConfigException.class, () -> SamplingOptions.apply(options, SamplingParams.builder()));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }
}
