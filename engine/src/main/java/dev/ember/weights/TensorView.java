package dev.ember.weights;

import dev.ember.ModelFormatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A read-only view of one tensor's bytes: row-major, little-endian, in its stored {@link DType}.
 * The buffer is usually a slice of a memory-mapped safetensors file (owned by the {@link Checkpoint}
 * that handed it out; valid until that checkpoint is closed); tests may wrap heap buffers.
 * Thread-safe for reads: every accessor uses absolute indexes.
 */
public final class TensorView {
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer data;
    private final long numElements;

    public TensorView(String name, DType dtype, long[] shape, ByteBuffer data) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        this.numElements = n;
        if ((long) data.remaining() != n * dtype.sizeBytes()) {
            throw new ModelFormatException("tensor '" + name + "' has shape " + Arrays.toString(shape) + " of " + dtype
                    + " (" + n * dtype.sizeBytes() + " bytes) but " + data.remaining() + " bytes of data");
        }
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
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

    /** The raw little-endian bytes (a read-only duplicate positioned at 0). */
    public ByteBuffer bytes() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Element {@code i} (row-major) converted to float. */
    public float get(long i) {
        int idx = Math.toIntExact(i);
        return switch (dtype) {
            case F32 -> data.getFloat(idx * 4);
            case BF16 -> DType.bf16ToFloat(data.getShort(idx * 2));
            case F16 -> DType.f16ToFloat(data.getShort(idx * 2));
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
