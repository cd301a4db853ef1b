package dev.ember.backend.cuda;

import dev.ember.weights.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the GPU tests share: GPU 0's context, a stream, the kernel module, and typed uploads/downloads of float
 * data in any storage dtype. Device outputs are poisoned (all bits set: NaN in every dtype) before a kernel
 * runs, so an element a kernel forgot to write shows up as NaN. Owns every buffer it hands out.
 */
final class GpuTestSupport implements AutoCloseable {
    final CudaDevice device;
    final CudaStream stream;
    final KernelModule module;
    private final List<AutoCloseable> buffers = new ArrayList<>();

    GpuTestSupport() {
        device = CudaDevice.open(0);
        stream = new CudaStream();
        module = new KernelModule(device);
    }

    Kernels kernels(DType dtype) {
        return new Kernels(module, stream, dtype);
    }

    /** Values rounded to what the dtype can hold (so CPU references see the GPU's exact inputs). */
    static float[] round(float[] v, DType dtype) {
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> out[i];
                case BF16 -> DType.bf16ToFloat(DType.floatToBf16(out[i]));
                case F16 -> DType.f16ToFloat(DType.floatToF16(out[i]));
            };
        }
        return out;
    }

    static float[] random(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    DeviceBuffer upload(float[] values, DType dtype) {
        ByteBuffer b = ByteBuffer.allocateDirect(Math.max(1, values.length) * dtype.sizeBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case BF16 -> b.putShort(DType.floatToBf16(v));
                case F16 -> b.putShort(DType.floatToF16(v));
            }
        }
        b.flip();
        DeviceBuffer d = track(new DeviceBuffer(Math.max(4, (long) values.length * dtype.sizeBytes()), "test input"));
        if (values.length > 0) {
            d.upload(0, b);
        }
        return d;
    }

    DeviceBuffer uploadInts(int[] values) {
        DeviceBuffer d = track(new DeviceBuffer(Math.max(4, 4L * values.length), "test ints"));
        if (values.length > 0) {
            d.upload(0, values);
        }
        return d;
    }

    /** An output buffer of {@code elements} elements with every bit set. */
    DeviceBuffer poisoned(long elements, DType dtype) {
        DeviceBuffer d = track(new DeviceBuffer(Math.max(4, elements * dtype.sizeBytes()), "test output"));
        d.fillAsync(0, d.sizeBytes(), (byte) 0xff, stream);
        stream.synchronize();
        return d;
    }

    float[] download(DeviceBuffer d, int elements, DType dtype) {
        stream.synchronize();
        float[] out = new float[elements];
        if (dtype == DType.F32) {
            d.download(0, out);
            return out;
        }
        short[] raw = new short[elements];
        d.download(0, raw);
        for (int i = 0; i < elements; i++) {
            out[i] = dtype == DType.BF16 ? DType.bf16ToFloat(raw[i]) : DType.f16ToFloat(raw[i]);
        }
        return out;
    }

    int[] downloadInts(DeviceBuffer d, int elements) {
        stream.synchronize();
        int[] out = new int[elements];
        d.download(0, out);
        return out;
    }

    /** ||got - want|| / ||want||; infinite where got holds a NaN (an unwritten, poisoned element). */
    static double relativeError(float[] got, float[] want) {
        if (got.length != want.length) {
            throw new AssertionError("length " + got.length + " != " + want.length);
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < got.length; i++) {
            if (Float.isNaN(got[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = (double) got[i] - want[i];
            diff += d * d;
            norm += (double) want[i] * want[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }

    /**
     * Every element of {@code got} within {@code relative} of its {@code want} plus 1e-3 (a NaN, an unwritten element,
     * fails); the failure names how many are off and the first.
     */
    static void assertElementsClose(float[] want, float[] got, double relative, String what) {
        int bad = 0;
        String first = "";
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs((double) got[i] - want[i]);
            if (!(err <= Math.abs(want[i]) * relative + 1e-3)) {
                if (bad++ == 0) {
                    first = " (first at " + i + ": " + got[i] + " against " + want[i] + ")";
                }
            }
        }
        assertEquals(0, bad, what + ": " + bad + " of " + want.length + " elements off" + first);
    }

    /** The tolerance of the issue: 1e-5 relative in float32, 1e-2 in 16-bit dtypes. */
    static double tolerance(DType dtype) {
        return dtype == DType.F32 ? 1e-5 : 1e-2;
    }

    <T extends AutoCloseable> T track(T b) {
        buffers.add(b);
        return b;
    }

    @Override
    public void close() throws Exception {
        for (int i = buffers.size() - 1; i >= 0; i--) {
            buffers.get(i).close();
        }
        module.close();
        stream.close();
        device.close();
    }
}
