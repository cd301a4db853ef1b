package dev.ember.backend.cuda;

import dev.ember.backend.ForwardBatch;

import java.nio.IntBuffer;

/**
 * The per-step integer inputs of the kernels, staged in one pinned host buffer and sent with one async copy
 * into one device buffer whose regions sit at fixed offsets (so captured graphs can keep reading them):
 * <pre>
 *   tokenIds, positions, slots   (maxTokens each)
 *   queryStart (maxSeqs + 1), contextLens (maxSeqs), logitRows (maxSeqs: token index whose logits are computed)
 *   sampleParams (maxSeqs, 12)    see sampling.cu
 *   tiles (maxTiles, 3)           prefill query tiles: sequence, first token, count (not for the leading
 *                                 single-token sequences: the decode kernel runs those)
 *   blockTables (maxSeqs, stride) stride chosen per step
 * </pre>
 * Offsets are in ints. The host side is two pinned buffers used in turn ({@link #beginStep}), so a step can be
 * written while the previous one's copy may still be in flight (the engine launches a step before collecting the one
 * before it, never two ahead). Owns all three buffers. Not thread-safe.
 */
final class StepInputs implements AutoCloseable {
    static final int SAMPLE_PARAM_INTS = 12;

    final int maxTokens;
    final int maxSeqs;
    final int maxBlocksPerSeq;
    final int maxTiles;
    /** Query tokens per prefill tile (Kernels.prefillTileTokens). */
    final int tileTokens;
    final long tokenIds;
    final long positions;
    final long slots;
    final long queryStart;
    final long contextLens;
    final long logitRows;
    final long sampleParams;
    final long tiles;
    final long blockTables;
    private final long totalInts;
    private final PinnedBuffer[] hosts = new PinnedBuffer[2];
    private final DeviceBuffer device;
    private final IntBuffer[] hostInts = new IntBuffer[2];
    private int current;
    private PinnedBuffer host;
    private IntBuffer ints;
    private int btStride = 1;
    private final PrefillTileOrder tileOrder;
    private int numTiles;
    private int decodePrefix;
    private long usedInts;

    StepInputs(int maxTokens, int maxSeqs, int maxBlocksPerSeq, int tileTokens) {
        this.maxTokens = maxTokens;
        this.tileTokens = tileTokens;
        this.maxSeqs = maxSeqs;
        this.maxBlocksPerSeq = maxBlocksPerSeq;
        this.maxTiles = maxTokens / tileTokens + maxSeqs + 1;
        this.tileOrder = new PrefillTileOrder(maxTiles);
        long o = 0;
        tokenIds = o;
        positions = o += maxTokens;
        slots = o += maxTokens;
        queryStart = o += maxTokens;
        contextLens = o += maxSeqs + 1;
        logitRows = o += maxSeqs;
        sampleParams = o += maxSeqs;
        tiles = o += (long) maxSeqs * SAMPLE_PARAM_INTS;
        blockTables = o += 3L * maxTiles;
        totalInts = o + (long) maxSeqs * maxBlocksPerSeq;
        try {
            for (int i = 0; i < 2; i++) {
                hosts[i] = new PinnedBuffer(totalInts * 4, "step inputs (host)");
                hostInts[i] = hosts[i].buffer().asIntBuffer();
            }
            device = new DeviceBuffer(totalInts * 4, "step inputs");
        } catch (RuntimeException e) {
            for (PinnedBuffer b : hosts) {
                if (b != null) {
                    b.close();
                }
            }
            throw e;
        }
        host = hosts[0];
        ints = hostInts[0];
    }

    /** Device address of an int region (one of the offset fields). */
    long address(long intOffset) {
        return device.address(intOffset * 4);
    }

    long sizeBytes() {
        return totalInts * 12; // two host copies and the device copy
    }

    /** Switches to the other host buffer: call before a step's first write (sampler parameters included). */
    void beginStep() {
        current ^= 1;
        host = hosts[current];
        ints = hostInts[current];
    }

    int blockTableStride() {
        return btStride;
    }

    int numTiles() {
        return numTiles;
    }

    /**
     * The leading sequences of the step with one query token each (the scheduler puts decodes first): sequence i
     * of them has token i, so the decode kernel runs them in a mixed step; the prefill tiles cover the rest.
     */
    int decodePrefix() {
        return decodePrefix;
    }

    /**
     * Writes the batch's inputs, padded with {@code padSeqs} empty single-token sequences (context 0, slot -1:
     * they store nothing and attend to nothing) so a captured graph of a larger batch can run it.
     *
     * @param stride     block-table stride (>= every sequence's block count)
     * @param logitRowOf (numSeqs) the token index whose logits each sequence needs, or -1 for none
     */
    void write(ForwardBatch b, int padSeqs, int stride, int[] logitRowOf) {
        write(b, b.tokenIds, padSeqs, stride, logitRowOf);
    }

    /** As above with the token ids to stage in place of the batch's (placeholders resolved for the device). */
    void write(ForwardBatch b, int[] tokenIdValues, int padSeqs, int stride, int[] logitRowOf) {
        int t = b.numTokens();
        int s = b.numSeqs;
        if (t + padSeqs > maxTokens || s + padSeqs > maxSeqs) {
            throw new IllegalArgumentException("step of " + t + " tokens and " + s + " sequences exceeds the capacity of "
                    + maxTokens + " tokens and " + maxSeqs + " sequences");
        }
        if (stride > maxBlocksPerSeq) {
            throw new IllegalArgumentException("block table of " + stride + " blocks exceeds max_model_len's "
                    + maxBlocksPerSeq);
        }
        btStride = stride;
        ints.put((int) tokenIds, tokenIdValues, 0, t);
        ints.put((int) positions, b.positions, 0, t);
        ints.put((int) slots, b.slotMapping, 0, t);
        ints.put((int) queryStart, b.queryStart, 0, s + 1);
        ints.put((int) contextLens, b.contextLens, 0, s);
        int rows = 0;
        for (int i = 0; i < s; i++) {
            if (logitRowOf[i] >= 0) {
                ints.put((int) logitRows + rows++, logitRowOf[i]);
            }
        }
        for (int p = 0; p < padSeqs; p++) {
            int tok = t + p;
            ints.put((int) tokenIds + tok, 0);
            ints.put((int) positions + tok, 0);
            ints.put((int) slots + tok, -1);
            ints.put((int) queryStart + s + p + 1, tok + 1);
            ints.put((int) contextLens + s + p, 0);
            ints.put((int) logitRows + rows++, tok);
        }
        decodePrefix = 0;
        while (decodePrefix < s && b.queryStart[decodePrefix + 1] - b.queryStart[decodePrefix] == 1) {
            decodePrefix++;
        }
        numTiles = tileOrder.write(b.queryStart, b.contextLens, decodePrefix, s, tileTokens, ints, (int) tiles);
        for (int i = 0; i < s + padSeqs; i++) {
            int base = (int) blockTables + i * stride;
            int[] table = i < s ? b.blockTables[i] : null;
            int used = table == null ? 0 : Math.min(table.length, stride);
            if (used > 0) {
                ints.put(base, table, 0, used);
            }
            for (int k = used; k < stride; k++) {
                ints.put(base + k, 0);
            }
        }
        usedInts = blockTables + (long) (s + padSeqs) * stride;
    }

    /** Writes one sampled row's parameters (see sampling.cu). */
    void writeSampleParams(int row, int[] values) {
        ints.put((int) sampleParams + row * SAMPLE_PARAM_INTS, values, 0, SAMPLE_PARAM_INTS);
    }

    /** The one host-to-device copy of the step. */
    void upload(CudaStream stream) {
        host.copyToDeviceAsync(device, 0, usedInts * 4, stream);
    }

    @Override
    public void close() {
        try {
            device.close();
        } finally {
            try {
                hosts[0].close();
            } finally {
                hosts[1].close();
            }
        }
    }
}
