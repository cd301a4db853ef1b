package dev.ember.engine;

import dev.ember.backend.Backend;
import dev.ember.backend.cpu.CpuBackend;
import dev.ember.model.ModelConfig;
import dev.ember.weights.ModelWeights;

/** Picks the backend for {@code EngineConfig.device()}. */
final class BackendFactory {
    private BackendFactory() {
    }

    static Backend create(EngineConfig config, ModelConfig model, ModelWeights weights) {
        return switch (config.device()) {
            case "cpu" -> new CpuBackend(model, weights, config.effectiveThreads(), config.cpuKvCacheBytes());
            case "cuda" -> throw new dev.ember.ConfigException("device=cuda: the CUDA backend is not in this build");
            default -> throw new IllegalStateException("unvalidated device " + config.device());
        };
    }
}
