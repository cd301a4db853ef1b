package dev.ember.backend.cuda;

import dev.ember.engine.Engine;
import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.model.Architecture;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernels NVRTC compiles from the jar's sources ({@code -Dember.kernels=nvrtc}) give the same tokens as the
 * build's nvcc fatbin, for bf16 (tensor-core attention) and float32 (CUDA-core attention) models, greedy and sampled
 * rows, prefill and decode; the compiled image lands in the per-host cache.
 */
@Tag("gpu")
class NvrtcKernelsGpuTest {
    @AfterEach
    void clear() {
        System.clearProperty(KernelImage.MODE_PROPERTY);
        System.clearProperty(KernelCache.DIR_PROPERTY);
    }

    private static List<Request> requests() {
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            SamplingParams p = SamplingParams.builder().maxTokens(4 + (i * 7) % 40).seed((long) i)
                    .temperature(i % 3 == 0 ? 0 : 0.8).build();
            out.add(Request.ofText("r" + i, "request " + i + " tells a story about " + "y ".repeat(i * 3), p));
        }
        return out;
    }

    private static List<Result> run(Path model, String kernels) {
        System.setProperty(KernelImage.MODE_PROPERTY, kernels);
        EngineConfig config = EngineConfig.builder(model).device("cuda").maxNumSeqs(8).numKvBlocks(1024).build();
        try (Engine engine = Engine.create(config)) {
            return engine.generate(requests());
        }
    }

    @Test
    void nvrtcKernelsGiveTheFatbinsTokens(@TempDir Path dir) throws Exception {
        assumeTrue(KernelImage.hasFatbin(), "this build has no nvcc fatbin to compare with (build with nvcc)");
        Path cache = dir.resolve("kernel-cache");
        for (DType dtype : new DType[] {DType.BF16, DType.F32}) {
            Path model = dir.resolve("model-" + dtype);
            RandomCheckpoint.write(model, RandomCheckpoint.Spec.builder(Architecture.QWEN2).withTokenizer(true)
                    .dtype(dtype).maxPositionEmbeddings(512).numLayers(2).std(0.02).embeddingStd(0.02).hiddenSize(256)
                    .numHeads(4).numKvHeads(2).headDim(64).intermediateSize(384).build());
            List<Result> fatbin = run(model, "fatbin");
            System.setProperty(KernelCache.DIR_PROPERTY, cache.toString());
            List<Result> nvrtc = run(model, "nvrtc");
            for (int i = 0; i < fatbin.size(); i++) {
                assertTrue(fatbin.get(i).ok(), fatbin.get(i).error());
                assertArrayEquals(fatbin.get(i).tokenIds(), nvrtc.get(i).tokenIds(), dtype + " request " + i);
                assertEquals(fatbin.get(i).finishReason(), nvrtc.get(i).finishReason(), dtype + " request " + i);
            }
        }
        try (var files = Files.list(cache)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertEquals(1, names.size(), "one image per host and GPU, compiled once for both models: " + names);
            assertTrue(names.get(0).matches("ember_kernels-[0-9a-f]{16}-(sm|compute)_\\d+-nvrtc\\d+\\.\\d+\\.(cubin|ptx)"),
                    names.get(0));
        }
    }
}
