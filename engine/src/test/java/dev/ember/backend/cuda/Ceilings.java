package dev.ember.backend.cuda;

import dev.ember.weights.DType;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The two ceilings issue 8 measures floors against, measured on the card a profile runs on (profiling only, beside
 * {@link StepProfile}): the device-to-device copy bandwidth (bytes read + written, a 1 GiB copy, as the attention and
 * small-kernel benches count it) and cuBLAS's bf16 GEMM rate on a large square product (8,192³, random values: a
 * zero-filled operand draws less power and runs faster than real weights). Data-sheet peaks (989 TFLOP/s, 3,350 GB/s
 * for an H100 SXM) are higher than either, so a floor from them reads a kernel lower against what the card does.
 */
record Ceilings(double tflops, double gbs) {
    private static final int GEMM = 8192;
    private static final long COPY_BYTES = 1L << 30;

    /**
     * Measures both on the backend's stream (the backend stays usable; about 2.2 GB is held while measuring: the copy's
     * two 1 GiB buffers).
     */
    static Ceilings measure(CudaStream stream) {
        return new Ceilings(gemmTflops(stream), copyGbs(stream));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "GEMM %.0f TFLOP/s (cuBLAS bf16 %d³), copy %.0f GB/s (device to device)",
                tflops, GEMM, gbs);
    }

    private static double copyGbs(CudaStream stream) {
        try (DeviceBuffer a = new DeviceBuffer(COPY_BYTES, "copy ceiling source");
             DeviceBuffer b = new DeviceBuffer(COPY_BYTES, "copy ceiling target")) {
            a.fillAsync(0, COPY_BYTES, (byte) 0x5a, stream);
            Runnable copy = () -> Cuda.check(JCudaDriver.cuMemcpyDtoDAsync(b.at(0), a.at(0), COPY_BYTES,
                    stream.handle()), "cuMemcpyDtoDAsync");
            double ms = bestMillis(stream, copy, 10);
            return 2.0 * COPY_BYTES / (ms * 1e6);
        }
    }

    private static double gemmTflops(CudaStream stream) {
        long bytes = 2L * GEMM * GEMM;
        try (DeviceBuffer x = new DeviceBuffer(bytes, "GEMM ceiling x");
             DeviceBuffer w = new DeviceBuffer(bytes, "GEMM ceiling w");
             DeviceBuffer y = new DeviceBuffer(bytes, "GEMM ceiling y");
             Cublas blas = new Cublas(stream)) {
            fillRandomBf16(x, 1);
            fillRandomBf16(w, 2);
            Runnable gemm = () -> blas.defaultLinear(y.address(), x.address(), w.address(), GEMM, GEMM, GEMM,
                    DType.BF16, false);
            double ms = bestMillis(stream, gemm, 10);
            return 2.0 * GEMM * GEMM * GEMM / (ms * 1e9);
        }
    }

    /** bf16 values uniform in about [-1, 1], uploaded 8 MiB at a time. */
    private static void fillRandomBf16(DeviceBuffer buf, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer chunk = ByteBuffer.allocateDirect(8 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (long off = 0; off < buf.sizeBytes(); off += chunk.capacity()) {
            chunk.clear();
            while (chunk.remaining() >= 2) {
                float v = (float) (random.nextDouble() * 2 - 1);
                chunk.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
            chunk.flip();
            chunk.limit((int) Math.min(chunk.limit(), buf.sizeBytes() - off));
            buf.upload(off, chunk);
        }
    }

    /**
     * Milliseconds of one run: the mean of {@code reps} back-to-back runs between two events, after three untimed
     * ones; the best of three such rounds (a ceiling: what the card reaches, not an average with noise).
     */
    private static double bestMillis(CudaStream stream, Runnable run, int reps) {
        for (int i = 0; i < 3; i++) {
            run.run();
        }
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            best = Math.min(best, millis(stream, () -> {
                for (int i = 0; i < reps; i++) {
                    run.run();
                }
            }) / reps);
        }
        return best;
    }

    /** GPU milliseconds between two events recorded on {@code stream} around what {@code run} enqueues. */
    static double millis(CudaStream stream, Runnable run) {
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        Cuda.check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
        Cuda.check(JCudaDriver.cuEventCreate(end, 0), "cuEventCreate");
        try {
            Cuda.check(JCudaDriver.cuEventRecord(start, stream.handle()), "cuEventRecord");
            run.run();
            Cuda.check(JCudaDriver.cuEventRecord(end, stream.handle()), "cuEventRecord");
            Cuda.check(JCudaDriver.cuEventSynchronize(end), "cuEventSynchronize");
            float[] ms = new float[1];
            Cuda.check(JCudaDriver.cuEventElapsedTime(ms, start, end), "cuEventElapsedTime");
            return ms[0];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(end);
        }
    }
}
