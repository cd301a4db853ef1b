package dev.ember.backend.cuda;

import dev.ember.model.Architecture;
import dev.ember.model.ModelConfig;
import dev.ember.model.ModelConfigLoader;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.weights.DType;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.weights.TensorView;
import dev.ember.model.WeightLoader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tensor over 1 GiB (an fp32 embedding of 270,000 x 1,024 = 1.1 GB, two mapped chunks) uploads to the GPU chunk by
 * chunk in place: rows on both sides of the chunk boundary read back exactly. (Over 2 GiB the same path runs with
 * three chunks; the CPU side of that is LargeTensorTest's sparse 2.4 GB file.)
 */
@Tag("gpu")
class LargeTensorGpuTest {
    @Test
    void aMultiChunkTensorUploadsExactly(@TempDir Path dir) {
        int vocab = 270_000;
        int hidden = 1024;
        RandomCheckpoint.Spec spec = RandomCheckpoint.Spec.builder(Architecture.QWEN2).withTokenizer(false)
                .dtype(DType.F32).vocabSize(vocab).usedVocabSize(vocab).hiddenSize(hidden).numHeads(8).numKvHeads(2)
                .headDim(128).intermediateSize(256).numLayers(1).build();
        RandomCheckpoint.write(dir, spec);
        ModelConfig config = ModelConfigLoader.load(dir);
        float[] want = RandomCheckpoint.values(spec, "model.embed_tokens.weight");
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir);
             GpuTestSupport gpu = new GpuTestSupport()) {
            ModelWeights weights = WeightLoader.load(config, checkpoint);
            assertTrue(weights.embedTokens().numChunks() == 2, "the embedding spans two chunks");
            try (DeviceWeights device = new DeviceWeights(config, weights, DType.F32)) {
                long rowsPerChunk = TensorView.CHUNK_BYTES / (4L * hidden);
                for (long row : new long[] {0, rowsPerChunk - 1, rowsPerChunk, vocab - 1}) {
                    float[] got = new float[hidden];
                    device.embedTokens.download(row * hidden * 4, got);
                    float[] expected = java.util.Arrays.copyOfRange(want, (int) (row * hidden), (int) ((row + 1) * hidden));
                    assertArrayEquals(expected, got, "row " + row);
                }
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
