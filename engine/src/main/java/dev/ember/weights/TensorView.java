package dev.ember.weights;

import dev.ember.ModelFormatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * A read-only view of one tensor's bytes: row-major, little-endian, in its stored {@link DType}.
 * The bytes are usually slices of a memory-mapped safetensors file (owned by the {@link Checkpoint}
 * that handed them out; valid until that checkpoint is closed); tests may wrap heap buffers. A Java buffer holds at
 * most 2 GiB, so a larger tensor (the embeddings of a 70B model in bf16, of a 7B model in fp32) is held as
 * consecutive chunks of {@link #CHUNK_BYTES} bytes (the last may be shorter); {@link #chunk} hands them out.
 * Thread-safe for reads: every accessor uses absolute indexes.
 */
public final class TensorView {
    /** Bytes per chunk of a tensor held in several buffers: 1 GiB, a multiple of every element size. */
    public static final long CHUNK_BYTES = 1L << 30;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer[] chunks;
    private final long numElements;

    public TensorView(String name, DType dtype, long[] shape, ByteBuffer data) {
        this(name, dtype, shape, List.of(data));
    }

    /**
     * @param chunks the tensor's bytes in order; every chunk but the last holds exactly {@link #CHUNK_BYTES}
     */
    public TensorView(String name, DType dtype, long[] shape, List<ByteBuffer> chunks) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        this.numElements = n;
        long bytes = 0;
        this.chunks = new ByteBuffer[chunks.size()];
        for (int i = 0; i < chunks.size(); i++) {
            ByteBuffer c = chunks.get(i);
            if (i < chunks.size() - 1 && c.remaining() != CHUNK_BYTES) {
                throw new IllegalArgumentException("chunk " + i + " of tensor '" + name + "' holds " + c.remaining()
                        + " bytes; every chunk but the last must hold " + CHUNK_BYTES);
            }
            bytes += c.remaining();
            this.chunks[i] = c.slice().order(ByteOrder.LITTLE_ENDIAN);
        }
        if (bytes != n * dtype.sizeBytes()) {
            throw new ModelFormatException("tensor '" + name + "' has shape " + Arrays.toString(shape) + " of " + dtype
                    + " (" + n * dtype.sizeBytes() + " bytes) but " + bytes + " bytes of data");
        }
    }

    /** A float32 tensor over a copy of {@code values}; for tests and small generated tensors. */
    public static TensorView ofFloats(String name, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new TensorView(name, DType.F32, shape, b);
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long numElements() {
        return numElements;
    }

    /** Size in bytes. */
    public long sizeBytes() {
        return numElements * dtype.sizeBytes();
    }

    /** How many buffers hold the bytes (1 up to {@link #CHUNK_BYTES}). */
    public int numChunks() {
        return chunks.length;
    }

    /** Chunk {@code i}'s raw little-endian bytes (a read-only duplicate positioned at 0); it starts at byte i * CHUNK_BYTES. */
    public ByteBuffer chunk(int i) {
        return chunks[i].asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The raw little-endian bytes (a read-only duplicate positioned at 0) of a tensor held in one buffer.
     *
     * @throws IllegalStateException for a tensor of several chunks: read those with {@link #chunk}
     */
    public ByteBuffer bytes() {
        if (chunks.length != 1) {
            throw new IllegalStateException("tensor '" + name + "' is " + sizeBytes() + " bytes in " + chunks.length
                    + " chunks; read it chunk by chunk");
        }
        return chunk(0);
    }

    /** Element {@code i} (row-major) converted to float. */
    public float get(long i) {
        long at = i * dtype.sizeBytes();
        ByteBuffer c = chunks[(int) (at / CHUNK_BYTES)];
        int idx = (int) (at % CHUNK_BYTES);
        return switch (dtype) {
            case F32 -> c.getFloat(idx);
            case BF16 -> DType.bf16ToFloat(c.getShort(idx));
            case F16 -> DType.f16ToFloat(c.getShort(idx));
        };
    }

    /** Converts elements [offset, offset + dst.length) into {@code dst}. */
    public void copyTo(long offset, float[] dst) {
        for (int i = 0; i < dst.length; i++) {
            dst[i] = get(offset + i);
        }
    }

    /** All elements converted to float (copies onto the heap; for small tensors and tests). */
    public float[] toFloats() {
        float[] out = new float[Math.toIntExact(numElements)];
        copyTo(0, out);
        return out;
    }

    /** Throws a message naming this tensor, the expected and the found shape unless they match. */
    public TensorView requireShape(String file, long... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new ModelFormatException("tensor '" + name + "' in " + file + " has shape " + Arrays.toString(shape)
                    + "; expected " + Arrays.toString(expected));
        }
        return this;
    }
}
