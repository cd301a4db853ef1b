package dev.ember.backend.cpu;

import dev.ember.ConfigException;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.backend.cpu.PagedScenario.Chunk;
import dev.ember.backend.cpu.PagedScenario.Seq;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import dev.ember.weights.ModelWeights;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuBackendTest {
    private final ModelConfig config = TinyModels.qwen3();
    private final ModelWeights weights = TinyModels.weights(config, DType.BF16, 3);

    @Test
    void kvCacheTakesWhatTheBudgetAllowsUpToTheCap() {
        // qwen3 tiny: 2 layers * K and V * 4 tokens * 1 kv head * 16 dims * 4 bytes = 1024 bytes a block
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 10 * 1024 + 1000)) {
            assertEquals(10, backend.allocateKvCache(4, 0));
            assertTrue(backend.description().contains("10 blocks x 4 tokens"), backend.description());
            assertThrows(IllegalStateException.class, () -> backend.allocateKvCache(4, 0));
        }
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 10 * 1024)) {
            assertEquals(3, backend.allocateKvCache(4, 3));
        }
    }

    @Test
    void aBudgetBelowOneBlockNamesTheOption() {
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 1000)) {
            ConfigException e = assertThrows(ConfigException.class, () -> backend.allocateKvCache(4, 0));
            assertTrue(e.getMessage().contains("cpu_kv_cache_mb") && e.getMessage().contains("1024 bytes"), e.getMessage());
        }
    }

    @Test
    void badThreadCountIsAConfigError() {
        ConfigException e = assertThrows(ConfigException.class, () -> new CpuBackend(config, weights, 0, 1 << 20));
        assertTrue(e.getMessage().contains("num_threads"), e.getMessage());
    }

    @Test
    void stepNeedsAnAllocatedOpenBackendAndCloseIsIdempotent() {
        PagedScenario scenario = new PagedScenario(4, 8, SamplingParams.builder().build(), 1);
        Seq seq = scenario.newSeq(3, 5, config.vocabSize());
        ForwardBatch batch = scenario.batch(List.of(new Chunk(seq, 3, true)));
        CpuBackend backend = new CpuBackend(config, weights, 2, 1 << 20);
        assertThrows(IllegalStateException.class, () -> backend.step(batch));
        backend.allocateKvCache(4, 8);
        assertEquals(1, backend.step(batch).tokens().length);
        backend.close();
        backend.close();
        assertThrows(IllegalStateException.class, () -> backend.step(batch));
    }

    @Test
    void batchesWithAnotherBlockSizeOrUnknownBlocksAreRejected() {
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 1 << 20)) {
            backend.allocateKvCache(8, 4);
            PagedScenario scenario = new PagedScenario(4, 8, SamplingParams.builder().build(), 1);
            Seq seq = scenario.newSeq(3, 5, config.vocabSize());
            ForwardBatch batch = scenario.batch(List.of(new Chunk(seq, 3, true)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.step(batch));
            assertTrue(e.getMessage().contains("blocks of 4"), e.getMessage());
        }
        try (CpuBackend backend = new CpuBackend(config, weights, 1, 1 << 20)) {
            backend.allocateKvCache(4, 2); // the scenario hands out block ids up to 7
            PagedScenario scenario = new PagedScenario(4, 8, SamplingParams.builder().build(), 4);
            Seq seq = scenario.newSeq(12, 12, config.vocabSize());
            ForwardBatch batch = scenario.batch(List.of(new Chunk(seq, 12, true)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.step(batch));
            assertTrue(e.getMessage().contains("blocks [0, 2)"), e.getMessage());
        }
    }

    /** A request's sampled tokens depend on its seed and its own tokens only, not on what shares its batch. */
    @Test
    void sampledTokensDoNotDependOnBatchComposition() {
        SamplingParams params = SamplingParams.builder().temperature(1.0).topP(0.95).logprobs(3).build();
        int[] alone = generate(params, false);
        int[] batched = generate(params, true);
        assertEquals(java.util.Arrays.toString(alone), java.util.Arrays.toString(batched));
    }

    /** Prefill then 6 decodes of one sequence (seed 1000, the first of the batch), feeding back its own tokens. */
    private int[] generate(SamplingParams params, boolean withNeighbours) {
        int vocab = config.vocabSize();
        try (CpuBackend backend = new CpuBackend(config, weights, 2, 1 << 20)) {
            backend.allocateKvCache(4, 64);
            PagedScenario scenario = new PagedScenario(4, 64, params, withNeighbours ? 9 : 10);
            Seq target = scenario.newSeq(7, 13, vocab);
            java.util.Arrays.fill(target.tokens, 7, 13, 0);
            System.arraycopy(new int[] {5, 9, 1, 33, 2, 40, 8}, 0, target.tokens, 0, 7);
            Seq other = scenario.newSeq(5, 20, vocab);
            int[] out = new int[6];
            for (int i = 0; i < out.length; i++) {
                List<Chunk> chunks = new java.util.ArrayList<>();
                chunks.add(new Chunk(target, i == 0 ? 7 : 1, true));
                if (withNeighbours) {
                    chunks.add(new Chunk(other, i == 0 ? 5 : 1, true));
                }
                StepOutput step = backend.step(scenario.batch(chunks));
                out[i] = step.tokens()[0];
                assertEquals(3, step.topTokenIds()[0].length);
                if (i + 1 < out.length) {
                    target.tokens[7 + i] = out[i];
                }
                if (withNeighbours) {
                    assertTrue(step.tokens()[1] >= 0);
                }
            }
            return out;
        }
    }
}
