package dev.ember.backend.cpu;

/**
 * The CPU backend's paged KV cache: per layer one K and one V array laid out
 * {@code [numBlocks][blockSize][numKvHeads][headDim]} in float32. Owned by {@link CpuBackend}; not thread-safe.
 */
final class KvCache {
    final int numBlocks;
    final int blockSize;
    private float[][] keys;
    private float[][] values;

    KvCache(int numLayers, int numBlocks, int blockSize, int numKvHeads, int headDim) {
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        int perLayer = Math.multiplyExact(Math.multiplyExact(numBlocks, blockSize), numKvHeads * headDim);
        this.keys = new float[numLayers][perLayer];
        this.values = new float[numLayers][perLayer];
    }

    /** Bytes one block takes over all layers, K and V. */
    static long bytesPerBlock(int numLayers, int blockSize, int numKvHeads, int headDim) {
        return 2L * numLayers * blockSize * numKvHeads * headDim * Float.BYTES;
    }

    float[] keys(int layer) {
        requireOpen();
        return keys[layer];
    }

    float[] values(int layer) {
        requireOpen();
        return values[layer];
    }

    long sizeBytes() {
        return keys == null ? 0 : 2L * keys.length * keys[0].length * Float.BYTES;
    }

    /** Drops the arrays so the heap can take them back; idempotent. */
    void release() {
        keys = null;
        values = null;
    }

    private void requireOpen() {
        if (keys == null) {
            throw new IllegalStateException("the CPU KV cache was released (the backend is closed)");
        }
    }
}
