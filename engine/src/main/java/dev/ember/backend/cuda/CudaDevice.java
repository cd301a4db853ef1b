package dev.ember.backend.cuda;

import dev.ember.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;

/**
 * One GPU and its primary context (retained on open, released on close), which the CUDA runtime inside
 * cuBLAS shares. Every thread that touches the device calls {@link #makeCurrent()} first: the engine may be
 * built on one thread and stepped on another. Not thread-safe beyond that; {@code close()} is idempotent.
 */
final class CudaDevice implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final String name;
    private final int multiprocessors;
    private final int computeMajor;
    private final int computeMinor;
    private boolean closed;

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        int[] count = {0};
        Cuda.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal >= count[0]) {
            throw new CudaException("device_ordinal=" + ordinal + " but this machine has " + count[0]
                    + " CUDA device(s); use an ordinal in [0, " + count[0] + ")");
        }
        Cuda.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        Cuda.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
        try {
            Cuda.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            byte[] raw = new byte[256];
            Cuda.check(JCudaDriver.cuDeviceGetName(raw, raw.length, device), "cuDeviceGetName");
            int len = 0;
            while (len < raw.length && raw[len] != 0) {
                len++;
            }
            name = new String(raw, 0, len, StandardCharsets.US_ASCII);
            multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        } catch (RuntimeException e) {
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
            throw e;
        }
        if (computeMajor < 8) {
            close();
            throw new CudaException("GPU " + ordinal + " (" + name + ") has compute capability " + computeMajor + "."
                    + computeMinor + "; Ember's kernels need 8.0 or newer (bfloat16)");
        }
    }

    /**
     * Initializes the driver and retains the primary context of GPU {@code ordinal}. Fails with a clear
     * message where JCuda's native library or an NVIDIA driver is missing.
     */
    static CudaDevice open(int ordinal) {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            Cuda.check(JCudaDriver.cuInit(0), "cuInit");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new CudaException("device=cuda needs an NVIDIA driver and JCuda's native library for this platform: "
                    + e.getMessage(), e);
        } catch (CudaException e) {
            throw new CudaException("device=cuda needs an NVIDIA GPU with a working driver; " + e.getMessage(), e);
        }
        return new CudaDevice(ordinal);
    }

    private int attribute(int attribute) {
        int[] v = {0};
        Cuda.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
        return v[0];
    }

    /** Makes the primary context current on the calling thread. */
    void makeCurrent() {
        Cuda.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** {free, total} device memory in bytes. */
    long[] memoryInfo() {
        long[] free = {0};
        long[] total = {0};
        Cuda.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    int ordinal() {
        return ordinal;
    }

    String name() {
        return name;
    }

    int multiprocessors() {
        return multiprocessors;
    }

    int computeMajor() {
        return computeMajor;
    }

    int computeMinor() {
        return computeMinor;
    }

    String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease(" + ordinal + ")");
        }
    }
}
