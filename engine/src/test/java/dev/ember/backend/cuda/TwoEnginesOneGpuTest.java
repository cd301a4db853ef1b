package dev.ember.backend.cuda;

import dev.ember.api.EngineConfig;
import dev.ember.model.Architecture;
import dev.ember.model.ModelConfig;
import dev.ember.model.ModelConfigLoader;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.model.WeightLoader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two engines with default options on one GPU in one JVM (SparkVsEngine's bare engine beside the Spark task's):
 * the first takes gpu_memory_utilization of the device, the second sizes its KV cache from what is left instead of
 * failing with "room for 0 blocks".
 */
@Tag("gpu")
class TwoEnginesOneGpuTest {
    @Test
    void aSecondEngineWithDefaultOptionsGetsTheMemoryTheFirstLeaves(@TempDir Path dir) {
        RandomCheckpoint.write(dir, CudaBackendTest.spec(Architecture.QWEN2, true));
        ModelConfig config = ModelConfigLoader.load(dir);
        EngineConfig engine = EngineConfig.builder(dir).device("cuda").maxModelLen(512).build();
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir);
             CudaBackend first = CudaBackend.open(config, WeightLoader.load(config, checkpoint), engine)) {
            int firstBlocks = first.allocateKvCache(16, 0);
            try (CudaBackend second = CudaBackend.open(config, WeightLoader.load(config, checkpoint), engine)) {
                int secondBlocks = second.allocateKvCache(16, 0);
                assertTrue(secondBlocks >= 512 / 16, "second engine: " + secondBlocks + " blocks; "
                        + second.description());
                assertTrue(firstBlocks > secondBlocks, "the first engine took its share first: " + firstBlocks
                        + " vs " + secondBlocks);
            }
        }
    }
}
