package dev.ember.backend.cuda;

import dev.ember.weights.DType;

/**
 * The paged KV cache: one allocation laid out (layer, K|V, block, kvHead, blockSize, headDim) in the compute
 * dtype. A block of one KV head is a contiguous (blockSize, headDim) tile, so decode attention reads whole
 * rows with 16-byte loads. Owns the allocation.
 */
final class KvCache implements AutoCloseable {
    final int numBlocks;
    final int blockSize;
    private final long layerBytes;
    private final DeviceBuffer buffer;

    KvCache(int numLayers, int numBlocks, int blockSize, int numKvHeads, int headDim, DType dtype) {
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.layerBytes = bytesPerBlock(1, blockSize, numKvHeads, headDim, dtype) / 2 * numBlocks;
        this.buffer = new DeviceBuffer(2L * numLayers * layerBytes, "KV cache of " + numBlocks + " blocks");
    }

    /** Bytes one block takes over all layers, K and V. */
    static long bytesPerBlock(int numLayers, int blockSize, int numKvHeads, int headDim, DType dtype) {
        return 2L * numLayers * blockSize * numKvHeads * headDim * dtype.sizeBytes();
    }

    long keys(int layer) {
        return buffer.address() + 2L * layer * layerBytes;
    }

    long values(int layer) {
        return buffer.address() + (2L * layer + 1) * layerBytes;
    }

    long sizeBytes() {
        return buffer.sizeBytes();
    }

    @Override
    public void close() {
        buffer.close();
    }
}
