package dev.ember.option;

import dev.ember.ConfigException;
import dev.ember.api.EngineOptions;
import dev.ember.sampling.SamplingOptions;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptionSetTest {
    private static final OptionSet ENGINE = OptionSet.union(EngineOptions.ALL, SamplingOptions.ALL);

    @Test
    void namesResolveIgnoringCaseBlanksAndDashes() {
        assertEquals("max_tokens", ENGINE.get(" MAX_TOKENS ").name());
        assertEquals("max_tokens", ENGINE.get("max-tokens").name());
        Map<String, String> in = new LinkedHashMap<>();
        in.put("Top-P", "0.5");
        in.put("MAX_TOKENS", "7");
        assertEquals(List.of(Map.entry("top_p", "0.5"), Map.entry("max_tokens", "7")),
                List.copyOf(ENGINE.canonicalize(in).entrySet()), "canonical names, in the given order");
    }

    @Test
    void oneOptionInTwoSpellingsWithDifferentValuesIsRefusedNamingBoth() {
        Map<String, String> in = new LinkedHashMap<>();
        in.put("Top_P", "0.5");
        in.put("top-p", "0.7");
        ConfigException e = assertThrows(ConfigException.class, () -> ENGINE.canonicalize(in),
                "neither spelling may win by the map's order");
        assertEquals("option 'top_p' is given twice with different values, as 'Top_P' = '0.5' and as 'top-p' = '0.7';"
                + " give it once", e.getMessage());
        in.put("top-p", " 0.5 ");
        assertEquals(Map.of("top_p", " 0.5 "), ENGINE.canonicalize(in), "the same value (blanks aside) is no conflict");

        OptionSet.Canonicalizer conf = ENGINE.canonicalizer();
        conf.put("temperature", "spark.ember.temperature", "0");
        ConfigException keyed = assertThrows(ConfigException.class,
                () -> conf.put("TEMPERATURE", "spark.ember.TEMPERATURE", "1"));
        assertEquals("option 'temperature' is given twice with different values, as 'spark.ember.temperature' = '0'"
                + " and as 'spark.ember.TEMPERATURE' = '1'; give it once", keyed.getMessage(), "the keys as given");
        assertThrows(ConfigException.class, () -> conf.put("temprature", "spark.ember.temprature", "1"));
        assertEquals(Map.of("temperature", "0"), conf.values(), "a refused entry changes nothing");
    }

    @Test
    void unknownNamesSuggestTheClosestOption() {
        assertEquals("max_tokens", ENGINE.suggest("maxTokens"));
        assertEquals("max_tokens", ENGINE.suggest("max_tokns"));
        assertEquals("gpu_memory_utilization", ENGINE.suggest("gpuMemoryUtilisation"));
        assertEquals("model", ENGINE.suggest("modle"), "a swap of two letters is one edit");
        assertNull(ENGINE.suggest("flux_capacitor"));
        ConfigException e = assertThrows(ConfigException.class, () -> ENGINE.get("maxTokens"));
        assertEquals("unknown Ember option 'maxTokens'; did you mean 'max_tokens'?", e.getMessage());
        ConfigException far = assertThrows(ConfigException.class, () -> ENGINE.get("flux_capacitor"));
        assertTrue(far.getMessage().contains("known options: async_scheduling, block_size, cpu_kv_cache_mb"), far.getMessage());
    }

    @Test
    void parseChecksTypeAndRuleAndNamesBoth() {
        Option<Integer> o = Option.integer("n", Scope.ENGINE, 3, Check.between(1, 5), "a count");
        assertEquals(4, o.parse(" 4 "));
        assertEquals("option 'n' is 'x'; allowed: an integer in [1, 5]",
                assertThrows(ConfigException.class, () -> o.parse("x")).getMessage());
        assertEquals("option 'n' is '9'; allowed: an integer in [1, 5]",
                assertThrows(ConfigException.class, () -> o.parse("9")).getMessage());
        assertEquals("a count [an integer in [1, 5]] (default 3)", o.describe());
        Option<Boolean> b = Option.bool("flag", Scope.ENGINE, false, "a flag");
        assertEquals(true, b.parse("TRUE"));
        assertThrows(ConfigException.class, () -> b.parse("yes"));
        Option<Double> d = Option.number("x", Scope.ENGINE, 1.0, Check.positive(), "x");
        assertThrows(ConfigException.class, () -> d.parse("NaN"));
        assertThrows(ConfigException.class, () -> d.parse("Infinity"));
    }

    @Test
    void declarationMistakesFailAtOnce() {
        assertThrows(IllegalArgumentException.class,
                () -> Option.integer("maxTokens", Scope.REQUEST, 1, Check.atLeast(1), "camelCase is refused"));
        assertThrows(IllegalArgumentException.class,
                () -> Option.integer("n", Scope.REQUEST, 0, Check.atLeast(1), "a default failing its own check"));
        Option<Integer> a = Option.integer("n", Scope.REQUEST, 1, Check.atLeast(1), "a");
        assertThrows(IllegalArgumentException.class, () -> OptionSet.of(List.of(a, a)));
    }

    @Test
    void everyDefaultPassesItsOwnParse() {
        for (Option<?> o : ENGINE.all()) {
            if (o.defaultValue() != null) {
                assertEquals(o.defaultValue(), o.parse(String.valueOf(o.defaultValue())), o.name());
            }
        }
    }
}
