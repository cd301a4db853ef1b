package dev.ember.engine;

import dev.ember.ConfigException;
import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No row is cut at the KV cache's capacity without a word: max_model_len never exceeds what the cache holds. */
class ContextLimitTest {
    @Test
    void theModelsLimitIsLoweredToTheCacheWithAWarning(@TempDir Path dir) {
        DemoModel.write(dir); // max_position_embeddings 2048
        // the warning the engine logs (through SLF4J) when it lowers the model's limit
        List<String> warnings = new ArrayList<>();
        assertEquals(320, ContextLimit.effective(0, 2048, 20, 16, warnings::add));
        String warning = warnings.stream().filter(w -> w.startsWith("max_model_len lowered")).findFirst().orElseThrow();
        assertTrue(warning.contains("from 2048") && warning.contains("to 320") && warning.contains("num_kv_blocks")
                && warning.contains("gpu_memory_utilization") && warning.contains("cpu_kv_cache_mb"), warning);
        try (Engine engine = Engine.create(EngineConfig.builder(dir).numThreads(2).blockSize(16).numKvBlocks(20).build())) {
            assertEquals(320, engine.maxModelLen());
            // a row that asks for more than the context ends at the effective max_model_len, as documented
            Result r = engine.generate(List.of(Request.ofText("long", "hello", SamplingParams.builder().maxTokens(1000)
                    .ignoreEos(true).temperature(0).build()))).get(0);
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals(320, r.promptTokens() + r.completionTokens());
            // a prompt that cannot fit is that row's error, naming max_model_len
            Result tooLong = engine.generate(List.of(Request.ofTokens("too long", new int[400],
                    SamplingParams.builder().maxTokens(1).build()))).get(0);
            assertTrue(tooLong.error().contains("max_model_len) is 320"), tooLong.error());
        }
    }

    /**
     * An explicit max_model_len beyond the model's max_position_embeddings (positions it was never trained on) is a
     * configuration error naming both; it used to be lowered to the model's limit without a word, so rows ended
     * LENGTH long before the context the caller set.
     */
    @Test
    void anExplicitMaxModelLenAboveTheModelsLimitIsRefused(@TempDir Path dir) {
        DemoModel.write(dir); // max_position_embeddings 2048
        ConfigException e = assertThrows(ConfigException.class, () -> Engine.create(EngineConfig.builder(dir)
                .numThreads(2).blockSize(16).numKvBlocks(512).maxModelLen(4096).build()));
        assertTrue(e.getMessage().contains("max_model_len") && e.getMessage().contains("4096")
                && e.getMessage().contains("max_position_embeddings=2048"), e.getMessage());
        try (Engine engine = Engine.create(EngineConfig.builder(dir).numThreads(2).blockSize(16).numKvBlocks(512)
                .maxModelLen(2048).build())) {
            assertEquals(2048, engine.maxModelLen());
        }
    }

    @Test
    void anExplicitMaxModelLenTheCacheCannotHoldRefusesToStart(@TempDir Path dir) {
        DemoModel.write(dir);
        ConfigException e = assertThrows(ConfigException.class, () -> Engine.create(EngineConfig.builder(dir)
                .numThreads(2).blockSize(16).numKvBlocks(20).maxModelLen(1000).build()));
        assertTrue(e.getMessage().contains("max_model_len=1000 cannot be served: the KV cache holds 320 tokens (20 blocks"
                + " of 16)") && e.getMessage().contains("set max_model_len to at most 320"), e.getMessage());
        try (Engine engine = Engine.create(EngineConfig.builder(dir).numThreads(2).blockSize(16).numKvBlocks(20)
                .maxModelLen(320).build())) {
            assertEquals(320, engine.maxModelLen());
        }
    }
}
