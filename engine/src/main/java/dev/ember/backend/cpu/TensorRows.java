package dev.ember.backend.cpu;

import dev.ember.weights.DType;
import dev.ember.weights.TensorView;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Reads a tensor's elements as float straight from its (usually memory-mapped) buffer, converting bf16/f16 on
 * the fly, without copying the tensor onto the heap. Thread-safe: absolute gets only.
 */
final class TensorRows {
    private final DType dtype;
    private final FloatBuffer[] floats;
    private final ShortBuffer[] shorts;
    /** Elements per chunk of the tensor (TensorView.CHUNK_BYTES / element size). */
    private final long chunkElements;

    TensorRows(TensorView tensor) {
        this.dtype = tensor.dtype();
        int n = tensor.numChunks();
        this.floats = dtype == DType.F32 ? new FloatBuffer[n] : null;
        this.shorts = dtype == DType.F32 ? null : new ShortBuffer[n];
        for (int i = 0; i < n; i++) {
            ByteBuffer bytes = tensor.chunk(i);
            if (floats != null) {
                floats[i] = bytes.asFloatBuffer();
            } else {
                shorts[i] = bytes.asShortBuffer();
            }
        }
        this.chunkElements = TensorView.CHUNK_BYTES / dtype.sizeBytes();
    }

    /** Converts elements {@code [offset, offset + n)} into {@code dst[dstOffset ..]}. */
    void read(long offset, int n, float[] dst, int dstOffset) {
        read(offset, n, dst, dstOffset, dtype == DType.F32 ? null : new short[n]);
    }

    /**
     * As {@link #read(long, int, float[], int)} with a caller-owned scratch of at least {@code n} shorts for 16-bit
     * dtypes: one bulk copy out of the buffer, then a plain array loop, measured several times faster than
     * element-wise buffer gets. A range that crosses a chunk boundary is read in two parts.
     */
    void read(long offset, int n, float[] dst, int dstOffset, short[] scratch) {
        while (n > 0) {
            int chunk = (int) (offset / chunkElements);
            int at = (int) (offset % chunkElements);
            int part = (int) Math.min(n, chunkElements - at);
            readChunk(chunk, at, part, dst, dstOffset, scratch);
            offset += part;
            dstOffset += part;
            n -= part;
        }
    }

    private void readChunk(int chunk, int offset, int n, float[] dst, int dstOffset, short[] scratch) {
        if (dtype == DType.F32) {
            floats[chunk].get(offset, dst, dstOffset, n);
            return;
        }
        shorts[chunk].get(offset, scratch, 0, n);
        if (dtype == DType.BF16) {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = Float.intBitsToFloat((scratch[i] & 0xffff) << 16);
            }
        } else {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = DType.f16ToFloat(scratch[i]);
            }
        }
    }

    /** All elements, for the small vectors (norm weights, biases) that are read once per call. */
    static float[] toFloats(TensorView tensor) {
        float[] out = new float[Math.toIntExact(tensor.numElements())];
        new TensorRows(tensor).read(0, out.length, out, 0);
        return out;
    }
}
