package dev.ember.spark;

import dev.ember.ConfigException;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
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
                "spark.ember.confFile", props.toString(),
                "spark.ember.max_tokens", "9",
                "spark.app.name", "ignored",
                "spark.ember.ONERROR", "fail");
        Map<String, String> merged = EmberOptions.merge(conf, Map.of("Max_Tokens", "11", "model", "demo"), Map.of());
        assertEquals("demo", merged.get("model"));
        assertEquals("11", merged.get("max_tokens"));
        assertEquals("0.5", merged.get("temperature"));
        assertEquals("8", merged.get("max_num_seqs"));
        assertEquals("fail", merged.get("onError"));

        EmberSettings s = EmberSettings.resolve(merged);
        assertEquals("demo", s.model());
        assertEquals(EmberSettings.OnError.FAIL, s.onError());
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
    }

    @Test
    void defaultsOfTheConnectorOptions() {
        EmberSettings s = EmberSettings.resolve(Map.of("model", "demo"));
        assertEquals(EmberSettings.OnError.NULL, s.onError());
        assertEquals(512, s.maxInFlightPerTask());
        assertEquals("prompt", s.promptColumn());
        assertEquals("parquet", s.inputFormat());
        assertEquals(10.0, s.progressIntervalSeconds());
        assertEquals(0.0, s.pricePerGpuHour());
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
        assertFails(Map.of("model", "demo", "temprature", "0"), "unknown Ember option 'temprature'; known options: ");
        assertFails(Map.of("max_tokens", "4"), "option 'model' is 'null'; allowed: a checkpoint directory");
        assertFails(Map.of("model", "demo", "temperature", "-1"), "option 'temperature' is '-1.0'");
        assertFails(Map.of("model", "demo", "max_num_seqs", "abc"), "option 'max_num_seqs' is 'abc'; allowed: an integer");
        assertFails(Map.of("model", "demo", "device", "tpu"), "option 'device' is 'tpu'");
        assertFails(Map.of("model", "demo", "onError", "skip"), "option 'onError' is 'skip'; allowed: null, fail");
        assertFails(Map.of("model", "demo", "maxInFlightPerTask", "0"), "option 'maxInFlightPerTask' is '0'; allowed: an integer >= 1");
        assertFails(Map.of("model", "demo", "pricePerGpuHour", "-2"), "option 'pricePerGpuHour' is '-2'");
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
        assertTrue(e.getMessage().startsWith("option 'device' is 'cuda'; allowed: only sampling options may vary per row"),
                e.getMessage());
    }

    @Test
    void everyOptionIsDocumentedOnce() {
        Map<String, String> all = EmberOptions.all();
        Map<String, String> lower = new HashMap<>();
        for (String k : all.keySet()) {
            String prev = lower.put(k.toLowerCase(java.util.Locale.ROOT), k);
            assertNull(prev, "two options differ only in case: " + k + " and " + prev);
            assertTrue(all.get(k).contains("default") || all.get(k).contains("required"),
                    "option " + k + " documents its default: " + all.get(k));
        }
    }

    private static void assertFails(Map<String, String> options, String expectedStart) {
        ConfigException e = assertThrows(ConfigException.class, () -> EmberSettings.resolve(options));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }
}
