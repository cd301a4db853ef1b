package dev.ember.backend.cuda;

import dev.ember.engine.Engine;
import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.model.Architecture;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The CUDA engine with async_scheduling (each decode step launched while the previous runs, its token ids read from
 * that step's samples on the GPU) gives the same tokens as one step at a time: greedy and sampled rows, sequences
 * ending by length and by stop token mid-run, admissions while others decode, CUDA graphs and eager steps.
 */
@Tag("gpu")
class RunAheadGpuTest {
    private static List<Request> requests() {
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            SamplingParams.Builder p = SamplingParams.builder().maxTokens(2 + (i * 11) % 60).seed((long) i)
                    .temperature(i % 4 == 0 ? 0 : 0.8);
            if (i % 6 == 2) {
                p.stopTokenIds(Set.of(5, 9, 11));
            }
            out.add(Request.ofText("r" + i, "request " + i + " asks about the weather and " + "x ".repeat(i), p.build()));
        }
        return out;
    }

    private static List<Result> run(Path dir, boolean async, boolean eager) {
        EngineConfig config = EngineConfig.builder(dir).device("cuda").maxNumSeqs(8).numKvBlocks(2048)
                .asyncScheduling(async).enforceEager(eager).build();
        try (Engine engine = Engine.create(config)) {
            return engine.generate(requests());
        }
    }

    @Test
    void sameTokensWithAndWithoutRunAhead(@TempDir Path dir) {
        RandomCheckpoint.write(dir, RandomCheckpoint.Spec.builder(Architecture.QWEN2).withTokenizer(true)
                .dtype(DType.BF16).maxPositionEmbeddings(512).numLayers(2).std(0.02).embeddingStd(0.02).hiddenSize(256)
                .numHeads(4).numKvHeads(2).headDim(64).intermediateSize(384).build());
        for (boolean eager : new boolean[] {false, true}) { // graph replays and eager steps round alike only among themselves
            List<Result> want = run(dir, false, eager);
            List<Result> got = run(dir, true, eager);
            for (int i = 0; i < want.size(); i++) {
                assertArrayEquals(want.get(i).tokenIds(), got.get(i).tokenIds(), "request " + i + ", eager=" + eager);
                assertEquals(want.get(i).finishReason(), got.get(i).finishReason(), "request " + i);
            }
        }
    }
}
