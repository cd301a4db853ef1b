package dev.ember.engine;

import dev.ember.ConfigException;

import java.util.function.Consumer;

/**
 * The effective max_model_len: the configured one (at most the model's max_position_embeddings), or the model's
 * max_position_embeddings, never more than the KV cache holds for one sequence. Without this cap a row whose prompt +
 * max_tokens cannot fit the whole cache would finish {@code length} early with no word why. Stateless.
 */
final class ContextLimit {
    private ContextLimit() {
    }

    /**
     * Refuses a max_model_len set above the model's max_position_embeddings (lowering it quietly would end rows at a
     * context the caller never set). Needs only the configuration: the engine checks it before building a backend.
     */
    static void requireWithinModel(int configured, int maxPositions) {
        if (configured > maxPositions) {
            throw ConfigException.invalid("max_model_len", configured, "0 (the model's limit) or at most the model's"
                    + " max_position_embeddings=" + maxPositions + " (config.json): positions beyond it were never"
                    + " trained");
        }
    }

    /**
     * @param configured      max_model_len from the engine options (0 = the model's limit), already within the
     *                        model's ({@link #requireWithinModel})
     * @param maxPositions    the model's max_position_embeddings
     * @param numKvBlocks     KV blocks allocated
     * @param blockSize       tokens per block
     * @param warn            told when the model's limit is lowered to the cache's
     * @throws ConfigException when max_model_len was set explicitly and the cache cannot hold one sequence that long
     */
    static int effective(int configured, int maxPositions, int numKvBlocks, int blockSize, Consumer<String> warn) {
        int wanted = configured > 0 ? configured : maxPositions;
        long capacity = (long) numKvBlocks * blockSize;
        if (wanted <= capacity) {
            return wanted;
        }
        String cache = "the KV cache holds " + capacity + " tokens (" + numKvBlocks + " blocks of " + blockSize + ")";
        String fix = "raise cpu_kv_cache_mb (device=cpu) or gpu_memory_utilization (device=cuda), raise or unset"
                + " num_kv_blocks";
        if (configured > 0 || capacity < 2) {
            throw new ConfigException("max_model_len=" + wanted + " cannot be served: " + cache + ", less than one"
                    + " sequence of max_model_len tokens needs; " + fix + ", or set max_model_len to at most "
                    + Math.max(2, capacity));
        }
        warn.accept("max_model_len lowered from " + wanted + " (the model's max_position_embeddings) to " + capacity
                + ": " + cache + "; prompt + output of a row is cut at " + capacity + " tokens. To serve longer rows, "
                + fix + "; set max_model_len=" + capacity + " to silence this");
        return (int) capacity;
    }
}
