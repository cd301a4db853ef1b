package dev.ember.spark.executor;

import dev.ember.ConfigException;
import dev.ember.spark.EmberSettings;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import java.util.Map;

/**
 * The GPU a task runs on: the first address of the task's {@code gpu} resource (Spark's
 * {@code spark.task.resource.gpu.amount}; with a fraction, several tasks get the same address and so share one
 * engine), else the {@code device_ordinal} option. Null on the CPU.
 */
public final class TaskDevice {
    private TaskDevice() {
    }

    /** The ordinal for {@code settings} in the current task (null for device=cpu). */
    public static Integer gpuOrdinal(EmberSettings settings) {
        TaskContext tc = TaskContext.get();
        return gpuOrdinal(settings, tc == null ? Map.of() : tc.resourcesJMap());
    }

    /** The ordinal for {@code settings} given a task's or executor's resources. */
    public static Integer gpuOrdinal(EmberSettings settings, Map<String, ResourceInformation> resources) {
        if (!"cuda".equals(settings.device())) {
            return null;
        }
        ResourceInformation gpu = resources.get("gpu");
        if (gpu != null && gpu.addresses().length > 0) {
            String address = gpu.addresses()[0];
            try {
                return Integer.parseInt(address.trim());
            } catch (NumberFormatException e) {
                throw ConfigException.invalid("gpu resource address", address,
                        "an integer GPU ordinal (check spark.executor.resource.gpu.discoveryScript)");
            }
        }
        return Integer.parseInt(settings.engineOptions().getOrDefault("device_ordinal", "0").trim());
    }
}
