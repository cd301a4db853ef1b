package dev.ember.spark.executor;

import java.util.Map;
import java.util.TreeMap;

/**
 * Identity of an engine in the executor's {@link EngineRegistry}: the model as given, the engine options, and the
 * device ordinal on a GPU (null on the CPU). Two calls with equal keys share one engine.
 */
public record EngineKey(String model, Map<String, String> engineOptions, Integer gpuOrdinal) {
    public EngineKey {
        engineOptions = Map.copyOf(new TreeMap<>(engineOptions));
    }

    /** "model demo on GPU 0 {max_num_seqs=8}": for log lines, without the record's field names. */
    public String describe() {
        return "model " + model + (gpuOrdinal == null ? " on the CPU" : " on GPU " + gpuOrdinal)
                + (engineOptions.isEmpty() ? "" : " " + new TreeMap<>(engineOptions));
    }
}
