package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.model.Architecture;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.weights.TensorPoke;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A checkpoint with a NaN or an infinity in its weights: the affected rows fail with an error, never garbage. */
class NonFiniteLogitsTest {
    private static final int HIDDEN = 64;

    private static Path checkpoint(Path dir) {
        // untied: a poisoned embedding row must not also poison that token's logit in every row
        return RandomCheckpoint.write(dir, RandomCheckpoint.Spec.builder(Architecture.QWEN2).tieWordEmbeddings(false)
                .hiddenSize(HIDDEN).build());
    }

    private static Engine engine(Path dir) {
        return Engine.create(EngineConfig.builder(dir).numThreads(2).cpuKvCacheBytes(8L << 20).build());
    }

    @Test
    void aNanWeightFailsGreedyAndSampledRowsWithAnErrorNamingTheStep(@TempDir Path dir) throws Exception {
        checkpoint(dir);
        TensorPoke.set(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE), "model.norm.weight", 3, Float.NaN);
        try (Engine engine = engine(dir)) {
            List<Result> results = engine.generate(List.of(
                    Request.ofText("greedy", "hello world", SamplingParams.builder().temperature(0).maxTokens(4).build()),
                    Request.ofText("sampled", "hello world", SamplingParams.builder().temperature(0.8).seed(1L)
                            .maxTokens(4).build())));
            for (Result r : results) {
                assertEquals(FinishReason.ERROR, r.finishReason(), r.requestId() + ": " + r);
                assertNull(r.text());
                assertTrue(r.error().matches(".*NaN or infinite at engine step \\d+ .*"), r.error());
                assertTrue(r.error().contains("output token 0"), r.error());
                assertFalse(r.error().contains("masked"), r.error());
            }
            assertEquals(2, engine.metrics().requestErrors());
            // the engine itself is healthy: nothing leaked, and it takes more work
            assertEquals(FinishReason.ERROR, engine.generate(List.of(Request.ofText("again", "x",
                    SamplingParams.builder().temperature(0).maxTokens(2).build()))).get(0).finishReason());
            assertEquals(0.0, engine.metrics().kvUsage());
        }
    }

    @Test
    void onlyTheRowThatReadsAnInfiniteEmbeddingFails(@TempDir Path clean, @TempDir Path poisoned) throws Exception {
        checkpoint(clean);
        checkpoint(poisoned);
        int badToken = 7;
        TensorPoke.set(poisoned.resolve(SafetensorsCheckpoint.SINGLE_FILE), "model.embed_tokens.weight",
                (long) badToken * HIDDEN + 5, Float.POSITIVE_INFINITY);
        SamplingParams oneToken = SamplingParams.builder().temperature(0).maxTokens(1).build();
        List<Request> requests = List.of(Request.ofTokens("bad", new int[] {5, 6, badToken, 8}, oneToken),
                Request.ofTokens("good", new int[] {5, 6, 9, 8}, oneToken));
        Result reference;
        try (Engine engine = engine(clean)) {
            reference = engine.generate(requests).get(1);
        }
        try (Engine engine = engine(poisoned)) {
            List<Result> results = engine.generate(requests);
            assertEquals(FinishReason.ERROR, results.get(0).finishReason());
            assertTrue(results.get(0).error().contains("engine step"), results.get(0).error());
            assertNull(results.get(1).error());
            assertArrayEquals(reference.tokenIds(), results.get(1).tokenIds());
        }
    }

    @Test
    void aRowWithEveryTokenMaskedFailsAloneAndTheEngineGoesOn(@TempDir Path dir) {
        checkpoint(dir);
        java.util.Set<Integer> everyId = new java.util.HashSet<>();
        for (int id = 0; id < RandomCheckpoint.Spec.DEFAULT_VOCAB_SIZE; id++) {
            everyId.add(id);
        }
        // min_tokens masks the stop ids until one token exists: here that is the whole vocabulary
        SamplingParams masked = SamplingParams.builder().minTokens(1).maxTokens(3).stopTokenIds(everyId).build();
        SamplingParams fine = SamplingParams.builder().temperature(0).maxTokens(3).build();
        try (Engine engine = engine(dir)) {
            for (SamplingParams p : List.of(masked, masked.toBuilder().temperature(0).build())) {
                List<Result> results = engine.generate(List.of(Request.ofText("masked", "hello", p),
                        Request.ofText("fine", "hello", fine)));
                assertEquals(FinishReason.ERROR, results.get(0).finishReason());
                assertTrue(results.get(0).error().contains("every token was masked at engine step"),
                        results.get(0).error());
                assertNull(results.get(1).error());
            }
            assertNull(engine.failure());
            assertEquals(0.0, engine.metrics().kvUsage());
        }
    }
}
