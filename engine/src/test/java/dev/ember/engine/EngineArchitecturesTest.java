package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.model.Architecture;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every supported architecture runs end to end from files on disk, sharded and in each storage dtype. */
class EngineArchitecturesTest {

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void generatesFromAWrittenCheckpoint(Architecture arch, @TempDir Path dir) {
        RandomCheckpoint.write(dir.resolve("bf16"), RandomCheckpoint.Spec.tiny(arch));
        RandomCheckpoint.write(dir.resolve("f32-sharded"),
                RandomCheckpoint.Spec.builder(arch).dtype(DType.F32).numShards(3).build());
        SamplingParams p = SamplingParams.builder().maxTokens(8).temperature(0).ignoreEos(true).build();
        List<Request> requests = List.of(Request.ofText("a", "hello world", p), Request.ofText("b", "abc abc abc", p));
        for (String variant : List.of("bf16", "f32-sharded")) {
            try (Engine engine = Engine.create(EngineConfig.builder(dir.resolve(variant)).numThreads(2)
                    .cpuKvCacheBytes(4L << 20).build())) {
                List<Result> results = engine.generate(requests);
                for (Result r : results) {
                    assertTrue(r.ok(), r.error());
                    assertEquals(8, r.completionTokens());
                }
                // greedy decoding of a batch equals decoding each request alone
                assertArrayEquals(results.get(1).tokenIds(), engine.generate(requests.subList(1, 2)).get(0).tokenIds());
            }
        }
    }
}
