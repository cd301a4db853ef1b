package dev.ember.spark.executor;

import dev.ember.ConfigException;
import dev.ember.spark.EmberSettings;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskDeviceTest {
    private static final EmberSettings CPU = EmberSettings.resolve(Map.of("model", "demo"));
    private static final EmberSettings CUDA = EmberSettings.resolve(Map.of("model", "demo", "device", "cuda", "device_ordinal", "2"));

    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of("gpu", new ResourceInformation("gpu", addresses));
    }

    @Test
    void theCpuHasNoOrdinal() {
        assertNull(TaskDevice.gpuOrdinal(CPU, gpus("1")));
    }

    @Test
    void aTaskUsesTheFirstGpuSparkAssignedIt() {
        assertEquals(3, TaskDevice.gpuOrdinal(CUDA, gpus("3", "5")));
        // tasks of a fractional amount get the same address, hence the same EngineKey and one shared engine
        assertEquals(TaskDevice.gpuOrdinal(CUDA, gpus("1")), TaskDevice.gpuOrdinal(CUDA, gpus("1")));
    }

    @Test
    void withoutSparkResourcesTheOptionDecides() {
        assertEquals(2, TaskDevice.gpuOrdinal(CUDA, Map.of()));
        assertEquals(0, TaskDevice.gpuOrdinal(EmberSettings.resolve(Map.of("model", "demo", "device", "cuda")), Map.of()));
    }

    @Test
    void aNonNumericAddressNamesTheDiscoveryScript() {
        ConfigException e = assertThrows(ConfigException.class, () -> TaskDevice.gpuOrdinal(CUDA, gpus("GPU-abc")));
        assertTrue(e.getMessage().contains("discoveryScript"), e.getMessage());
    }
}
