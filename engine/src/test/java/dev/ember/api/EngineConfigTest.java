package dev.ember.api;

import dev.ember.ConfigException;
import org.junit.jupiter.api.Test;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineConfigTest {

    @Test
    void readsEveryDocumentedOption() {
        EngineConfig c = EngineConfig.fromOptions(Map.ofEntries(
                Map.entry("model", "/m"), Map.entry("device", "CUDA"), Map.entry("device_ordinal", "1"),
                Map.entry("dtype", "float32"), Map.entry("block_size", "32"), Map.entry("max_num_seqs", "8"),
                Map.entry("max_num_batched_tokens", "512"), Map.entry("max_model_len", "100"),
                Map.entry("num_kv_blocks", "7"), Map.entry("cpu_kv_cache_mb", "3"),
                Map.entry("gpu_memory_utilization", "0.5"), Map.entry("enable_prefix_caching", "false"),
                Map.entry("max_in_flight", "9"), Map.entry("num_threads", "2"), Map.entry("seed", "-5"),
                Map.entry("enforce_eager", "true")));
        assertEquals(Path.of("/m"), c.model());
        assertEquals("cuda", c.device());
        assertEquals(1, c.deviceOrdinal());
        assertEquals("float32", c.dtype());
        assertEquals(32, c.blockSize());
        assertEquals(8, c.maxNumSeqs());
        assertEquals(512, c.maxNumBatchedTokens());
        assertEquals(100, c.maxModelLen());
        assertEquals(7, c.numKvBlocks());
        assertEquals(3L << 20, c.cpuKvCacheBytes());
        assertEquals(0.5, c.gpuMemoryUtilization());
        assertEquals(false, c.enablePrefixCaching());
        assertEquals(9, c.maxInFlight());
        assertEquals(2, c.effectiveThreads());
        assertEquals(-5, c.seed());
        assertEquals(true, c.enforceEager());
        assertEquals(c, c.toBuilder().build());
    }

    @Test
    void badOptionsNameTheOptionTheValueAndWhatIsAllowed() {
        assertMessage(Map.of("model", "/m", "device", "tpu"), "option 'device' is 'tpu'; allowed: cpu, cuda");
        assertMessage(Map.of("model", "/m", "block_size", "0"), "option 'block_size' is '0'; allowed: an integer in [1, 256]");
        assertMessage(Map.of("model", "/m", "max_num_seqs", "many"), "option 'max_num_seqs' is 'many'; allowed: an integer");
        assertMessage(Map.of("model", "/m", "gpu_memory_utilization", "1.5"), "option 'gpu_memory_utilization' is '1.5'");
        assertMessage(Map.of("model", "/m", "enable_prefix_caching", "yes"), "allowed: true, false");
        assertMessage(Map.of("model", "/m", "max_num_batched_tokens", "8"), "allowed: an integer >= block_size (16)");
        assertMessage(Map.of("model", "/m", "flux_capacitor", "1"), "unknown Ember option 'flux_capacitor'; known options: async_scheduling, block_size, ");
        assertMessage(Map.of("model", "/m", "maxNumSeqs", "1"), "unknown Ember option 'maxNumSeqs'; did you mean 'max_num_seqs'?");
        assertMessage(Map.of("device", "cpu"), "option 'model' is 'null'");
        // one token of context leaves no room for an output token after the prompt's (the scheduler's IllegalArgument
        // at engine start used to be the only word about it)
        assertMessage(Map.of("model", "/m", "max_model_len", "1"), "option 'max_model_len' is '1'; allowed: 0 (the"
                + " model's limit) or an integer >= 2");
    }

    private static void assertMessage(Map<String, String> options, String fragment) {
        ConfigException e = assertThrows(ConfigException.class, () -> EngineConfig.fromOptions(options));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    /** The builder's defaults are the registry's: one place says what an option defaults to. */
    @Test
    void builderDefaultsAreTheRegistryDefaults() {
        Map<String, String> defaults = new java.util.HashMap<>();
        for (var o : EngineOptions.ALL.all()) {
            if (o.defaultValue() != null) {
                defaults.put(o.name(), String.valueOf(o.defaultValue()));
            }
        }
        defaults.put("model", "/m");
        assertEquals(EngineConfig.builder(Path.of("/m")).build(), EngineConfig.fromOptions(defaults));
    }

    /** conf/engine.properties documents the engine's options, with their real defaults. */
    @Test
    void confTemplateMatchesTheOptions() throws Exception {
        Path conf = Path.of("..", "conf", "engine.properties");
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(conf)) {
            p.load(r);
        }
        String text = Files.readString(conf);
        for (String key : EngineOptions.ALL.all().stream().map(o -> o.name()).toList()) {
            assertTrue(p.containsKey(key) || text.contains("#" + key + "="), "conf/engine.properties lacks " + key);
        }
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            assertTrue(EngineOptions.ALL.contains(key), "conf/engine.properties sets " + key + ": it is a template, all commented out");
        }
        p.setProperty("model", "/m");
        Map<String, String> options = new java.util.HashMap<>();
        p.stringPropertyNames().forEach(k -> options.put(k, p.getProperty(k)));
        assertEquals(EngineConfig.builder(Path.of("/m")).build(), EngineConfig.fromOptions(options));
    }
}
