package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.backend.Backend;
import dev.ember.backend.cpu.CpuBackend;
import dev.ember.backend.cuda.CudaBackend;
import dev.ember.model.ModelConfig;
import dev.ember.weights.ModelWeights;

/** Picks the backend for {@code EngineConfig.device()}. */
final class BackendFactory {
    private BackendFactory() {
    }

    static Backend create(EngineConfig config, ModelConfig model, ModelWeights weights) {
        return switch (config.device()) {
            case "cpu" -> new CpuBackend(model, weights, config.effectiveThreads(), config.cpuKvCacheBytes());
            case "cuda" -> CudaBackend.create(model, weights, config);
            default -> throw new IllegalStateException("unvalidated device " + config.device());
        };
    }
}
