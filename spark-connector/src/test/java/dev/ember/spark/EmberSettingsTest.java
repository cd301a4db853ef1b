package dev.ember.spark;

import dev.ember.ConfigException;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmberSettingsTest {

    @Test
    void callOptionsBeatSparkConfWhichBeatsThePropertiesFile(@TempDir Path dir) throws Exception {
        Path props = dir.resolve("engine.properties");
        Files.writeString(props, "model=/from/file\nmax_tokens=7\ntemperature=0.5\nmax_num_seqs=8\n");
        Map<String, String> conf = Map.of(
                "spark.ember.conf_file", props.toString(),
                "spark.ember.max_tokens", "9",
                "spark.app.name", "ignored",
                "spark.ember.FAIL_ON_ERROR", "true");
        Map<String, String> merged = EmberOptions.merge(conf, Map.of("Max_Tokens", "11", "model", "demo"), Map.of());
        assertEquals("demo", merged.get("model"));
        assertEquals("11", merged.get("max_tokens"));
        assertEquals("0.5", merged.get("temperature"));
        assertEquals("8", merged.get("max_num_seqs"));
        assertEquals("true", merged.get("fail_on_error"));

        EmberSettings s = EmberSettings.resolve(merged);
        assertEquals("demo", s.model());
        assertTrue(s.failOnError());
        assertEquals(Map.of("max_num_seqs", "8"), s.engineOptions());
        SamplingParams p = s.samplingParams(Map.of());
        assertEquals(11, p.maxTokens());
        assertEquals(0.5, p.temperature());
        assertEquals(3, s.samplingParams(Map.of("max_tokens", "3")).maxTokens(), "per-row options override");
    }

    @Test
    void emberConfDirSuppliesTheDefaultPropertiesFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("engine.properties"), "model=demo\ndevice=cpu\n");
        Map<String, String> merged = EmberOptions.merge(Map.of(), Map.of(), Map.of("EMBER_CONF_DIR", dir.toString()));
        assertEquals(Map.of("model", "demo", "device", "cpu"), merged);
        // a default file that is missing names where the path came from: the user set no conf_file
        Path empty = Files.createDirectory(dir.resolve("empty"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> EmberOptions.merge(Map.of(), Map.of(), Map.of("EMBER_CONF_DIR", empty.toString())));
        assertTrue(e.getMessage().contains("EMBER_CONF_DIR") && e.getMessage().contains(empty.toString()), e.getMessage());
    }

    @Test
    void defaultsOfTheConnectorOptions() {
        EmberSettings s = EmberSettings.resolve(Map.of("model", "demo"));
        assertEquals(false, s.failOnError());
        assertEquals(512, s.maxInFlightPerTask());
        assertEquals("prompt", s.promptColumn());
        assertNull(s.inputFormat(), "taken from the input's extension, else parquet");
        assertEquals("generation", s.outputColumn());
        assertNull(s.systemPrompt());
        assertEquals("cpu", s.device());
        assertEquals(16, s.samplingParams(Map.of()).maxTokens());
    }

    @Test
    void settingsAreSerializableForShippingToExecutors() throws Exception {
        EmberSettings s = EmberSettings.resolve(Map.of("model", "demo", "max_num_seqs", "4", "stop", "x"));
        try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream())) {
            out.writeObject(s);
        }
    }

    @Test
    void badOptionsFailNamingOptionValueAndAllowed() {
        assertFails(Map.of("model", "demo", "temprature", "0"), "unknown Ember option 'temprature'; did you mean 'temperature'?");
        assertFails(Map.of("model", "demo", "maxTokens", "4"), "unknown Ember option 'maxTokens'; did you mean 'max_tokens'?");
        assertFails(Map.of("max_tokens", "4"), "option 'model' is 'null'; allowed: a checkpoint directory");
        assertFails(Map.of("model", "demo", "temperature", "-1"), "option 'temperature' is '-1'");
        assertFails(Map.of("model", "demo", "max_num_seqs", "abc"), "option 'max_num_seqs' is 'abc'; allowed: an integer");
        assertFails(Map.of("model", "demo", "device", "tpu"), "option 'device' is 'tpu'");
        assertFails(Map.of("model", "demo", "fail_on_error", "skip"), "option 'fail_on_error' is 'skip'; allowed: true, false");
        assertFails(Map.of("model", "demo", "onError", "fail"), "unknown Ember option 'onError'; did you mean 'fail_on_error'?");
        assertFails(Map.of("model", "demo", "max_in_flight_per_task", "0"), "option 'max_in_flight_per_task' is '0'; allowed: an integer >= 1");
        assertFails(Map.of("model", "demo", "price_per_gpu_hour", "-2"), "option 'price_per_gpu_hour' is '-2'");
        assertFails(Map.of("model", "demo", "chat", "maybe"), "option 'chat' is 'maybe'; allowed: true, false");
        assertFails(Map.of("model", "demo", "logprobs", "21"), "option 'logprobs' is '21'; allowed: an integer in [0, 20]");
    }

    @Test
    void unknownSparkConfKeysNameTheConfEntry() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> EmberOptions.merge(Map.of("spark.ember.modle", "x"), Map.of(), Map.of()));
        assertTrue(e.getMessage().startsWith("Spark conf 'spark.ember.modle': unknown Ember option 'modle'"), e.getMessage());
    }

    @Test
    void perRowOptionsMayOnlyBeSamplingOptions() {
        EmberSettings s = EmberSettings.resolve(Map.of("model", "demo"));
        ConfigException e = assertThrows(ConfigException.class, () -> s.samplingParams(Map.of("device", "cuda")));
        assertTrue(e.getMessage().startsWith("option 'device' is an engine option; a per-row options map (only sampling options may vary per row) does not read it"),
                e.getMessage());
    }

    @Test
    void oneOptionInTwoSpellingsWithDifferentValuesIsRefusedNotDecidedByMapOrder(@TempDir Path dir) throws Exception {
        // a HashMap's iteration order, not the user, would choose which of 5 and 9 wins
        Map<String, String> twice = new java.util.HashMap<>(Map.of("model", "demo", "max_tokens", "5", "Max-Tokens", "9"));
        ConfigException call = assertThrows(ConfigException.class, () -> EmberOptions.merge(Map.of(), twice, Map.of()));
        assertTrue(call.getMessage().contains("'max_tokens'") && call.getMessage().contains("'Max-Tokens'")
                && call.getMessage().contains("5") && call.getMessage().contains("9"), call.getMessage());
        ConfigException conf = assertThrows(ConfigException.class, () -> EmberOptions.merge(
                Map.of("spark.ember.temperature", "0", "spark.ember.TEMPERATURE", "1"), Map.of("model", "demo"), Map.of()));
        assertTrue(conf.getMessage().contains("spark.ember.temperature") && conf.getMessage().contains("spark.ember.TEMPERATURE"),
                conf.getMessage());
        Path props = dir.resolve("engine.properties");
        Files.writeString(props, "top_k=3\ntop-k=4\n");
        ConfigException file = assertThrows(ConfigException.class, () -> EmberOptions.merge(Map.of(),
                Map.of("model", "demo", "conf_file", props.toString()), Map.of()));
        assertTrue(file.getMessage().startsWith(props.toString()) && file.getMessage().contains("'top-k'"), file.getMessage());
        EmberSettings s = EmberSettings.resolve(Map.of("model", "demo"));
        assertThrows(ConfigException.class, () -> s.samplingParams(Map.of("max_tokens", "2", "MAX_TOKENS", "3")),
                "a per-row map too");
        // the same value in two spellings is no conflict
        assertEquals("5", EmberOptions.merge(Map.of(), Map.of("model", "demo", "max_tokens", "5", "MAX_TOKENS", " 5"),
                Map.of()).get("max_tokens").trim());
    }

    @Test
    void confValueReadsOneOptionAndLeavesTheOtherEntriesToTheQueries() {
        Map<String, String> conf = Map.of("spark.master", "local", "spark.ember.PRELOAD", "true",
                "spark.ember.modle", "x", "spark.ember.top_k", "3", "spark.ember.TOP_K", "4");
        assertEquals("true", EmberOptions.confValue(conf, EmberOptions.PRELOAD),
                "read in any spelling; a typo and another option's two values are not its business");
        assertNull(EmberOptions.confValue(conf, EmberOptions.PROGRESS_INTERVAL_SECONDS));
        ConfigException e = assertThrows(ConfigException.class, () -> EmberOptions.confValue(
                Map.of("spark.ember.preload", "true", "spark.ember.Preload", "false"), EmberOptions.PRELOAD));
        assertTrue(e.getMessage().contains("option 'preload' is given twice with different values")
                && e.getMessage().contains("'spark.ember.preload'") && e.getMessage().contains("'spark.ember.Preload'"),
                e.getMessage());
    }

    @Test
    void aPerRowConstraintMayNotReplaceTheCallsReturnType() {
        // the value field's type is the call's return_type: a row generated under another constraint would be parsed
        // as that type (a struct missing the fields the row's schema left out, read as nulls)
        EmberSettings s = EmberSettings.resolve(Map.of("model", "demo", "return_type", "STRUCT<a: INT, b: INT>"));
        for (String option : new String[]{"guided_json", "guided_regex", "guided_choice"}) {
            String value = switch (option) {
                case "guided_json" -> "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]}";
                case "guided_regex" -> "\\{\"a\":[0-9]\\}";
                default -> "[\"x\"]";
            };
            ConfigException e = assertThrows(ConfigException.class, () -> s.samplingParams(Map.of(option, value)), option);
            assertTrue(e.getMessage().contains(option) && e.getMessage().contains("return_type"), e.getMessage());
        }
        assertEquals(3, s.samplingParams(Map.of("max_tokens", "3")).maxTokens(), "other per-row options still apply");
        EmberSettings noType = EmberSettings.resolve(Map.of("model", "demo", "guided_choice", "[\"x\"]"));
        assertTrue(noType.samplingParams(Map.of("guided_regex", "[0-9]")).guided().describe().contains("[0-9]"),
                "without return_type a row's constraint replaces the call's");
    }

    @Test
    void perRowLogprobsNeedTheCallsLogprobsFields() {
        // the result struct has logprobs/confidence/choice_probs only when the call sets logprobs >= 1: a row's
        // logprobs=5 on a call without them would be computed and dropped
        EmberSettings none = EmberSettings.resolve(Map.of("model", "demo"));
        ConfigException e = assertThrows(ConfigException.class, () -> none.samplingParams(Map.of("logprobs", "5")));
        assertTrue(e.getMessage().contains("logprobs") && e.getMessage().contains("5") && e.getMessage().contains("call"),
                e.getMessage());
        assertEquals(0, none.samplingParams(Map.of("logprobs", "0")).logprobs(), "0 asks for nothing the call lacks");
        EmberSettings some = EmberSettings.resolve(Map.of("model", "demo", "logprobs", "1"));
        assertEquals(5, some.samplingParams(Map.of("logprobs", "5")).logprobs());
        assertEquals(0, some.samplingParams(Map.of("logprobs", "0")).logprobs());
    }

    @Test
    void returnTypeBigintIsAccepted() {
        // ReturnType bounds BIGINT to 18 digits, within the +-1e18 the schema compiler documents
        for (String ddl : new String[]{"BIGINT", "LONG", "ARRAY<STRUCT<id: BIGINT, n: INT>>"}) {
            EmberSettings s = EmberSettings.resolve(Map.of("model", "demo", "return_type", ddl));
            assertEquals(ddl, s.sampling().guided().returnType());
        }
    }

    @Test
    void optionsGivenWhereTheyHaveNoEffectAreRefusedThere() {
        ConfigException price = assertThrows(ConfigException.class, () -> EmberOptions.checkGivenTo("generate()",
                Map.of("price_per_gpu_hour", "2"), EmberOptions.CALL_SCOPES));
        assertTrue(price.getMessage().startsWith("option 'price_per_gpu_hour' is a job option, read by EmberProgress"),
                price.getMessage());
        ConfigException input = assertThrows(ConfigException.class, () -> EmberOptions.checkGivenTo("generate()",
                Map.of("input", "x"), EmberOptions.CALL_SCOPES));
        assertTrue(input.getMessage().contains("only; generate() does not read it"), input.getMessage());
        assertEquals(Map.of("input", "x", "max_tokens", "3"), EmberOptions.checkGivenTo("format(\"llm\")",
                Map.of("INPUT", "x", "max_tokens", "3"), EmberOptions.READER_SCOPES));
    }

    /** The connector guide's options table is generated from the registry; -Dember.writeConf=true rewrites it. */
    @Test
    void guideTableIsTheRegistry() throws Exception {
        Path guide = Path.of("README.md");
        String text = Files.readString(guide);
        String begin = "<!-- options table: generated by EmberSettingsTest -->\n";
        String end = "<!-- end of options table -->";
        int from = text.indexOf(begin) + begin.length();
        int to = text.indexOf(end);
        assertTrue(from >= begin.length() && to >= from, "spark-connector/README.md lacks the options table markers");
        String want = EmberOptions.markdownTable();
        if (Boolean.getBoolean("ember.writeConf")) {
            Files.writeString(guide, text.substring(0, from) + want + text.substring(to));
            text = Files.readString(guide);
        }
        assertEquals(want, text.substring(from, text.indexOf(end)), "the options table of spark-connector/README.md"
                + " is out of date: mvn -o -pl spark-connector test -Dtest=EmberSettingsTest -Dember.writeConf=true");
    }

    /** conf/engine.properties is generated from the registry; -Dember.writeConf=true rewrites it. */
    @Test
    void confTemplateIsTheRegistry() throws Exception {
        Path conf = Path.of("..", "conf", "engine.properties");
        String want = EmberOptions.propertiesTemplate();
        if (Boolean.getBoolean("ember.writeConf")) {
            Files.writeString(conf, want);
        }
        assertEquals(want, Files.readString(conf), "conf/engine.properties is out of date: regenerate it with"
                + " mvn -o -pl spark-connector test -Dtest=EmberSettingsTest -Dember.writeConf=true");
    }

    private static void assertFails(Map<String, String> options, String expectedStart) {
        ConfigException e = assertThrows(ConfigException.class, () -> EmberSettings.resolve(options));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }
}
