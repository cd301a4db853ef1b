package dev.ember.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Map;

/**
 * Ember's kernels loaded with cuModuleLoadData into the current context, from the image {@link KernelImage} chooses
 * (the build's nvcc fatbin, or the jar's sources compiled with NVRTC). Launches go to one stream; arguments are raw
 * values (a device pointer is a {@code long} address). Not thread-safe.
 */
final class KernelModule implements AutoCloseable {
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final String origin;
    private boolean closed;

    /** The kernels for {@code device} (its context current on this thread). */
    KernelModule(CudaDevice device) {
        this(KernelImage.forDevice(device.computeMajor(), device.computeMinor()));
    }

    KernelModule(KernelImage.Loaded image) {
        this.origin = image.origin();
        Cuda.check(JCudaDriver.cuModuleLoadData(module, image.bytes()), "cuModuleLoadData(" + origin + ")");
    }

    /** Where the loaded image came from (the fatbin resource, or NVRTC and its cache file). */
    String origin() {
        return origin;
    }

    CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f == null) {
            f = new CUfunction();
            Cuda.check(JCudaDriver.cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
            functions.put(name, f);
        }
        return f;
    }

    /** Lets kernel {@code name} use up to {@code bytes} of dynamic shared memory (beyond the default 48 KiB). */
    void allowDynamicSharedMemory(String name, int bytes) {
        Cuda.check(JCudaDriver.cuFuncSetAttribute(function(name),
                CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(" + name + ", MAX_DYNAMIC_SHARED_SIZE_BYTES=" + bytes + ")");
    }

    /** Asks the driver to give shared memory the largest share of the SM's L1 when {@code name} runs. */
    void preferMaxSharedMemory(String name) {
        Cuda.check(JCudaDriver.cuFuncSetAttribute(function(name),
                CUfunction_attribute.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 100),
                "cuFuncSetAttribute(" + name + ", PREFERRED_SHARED_MEMORY_CARVEOUT=100)");
    }

    /**
     * Launches {@code name} on {@code stream}.
     *
     * @param args each a Long (device address or 64-bit value), Integer, Float or long[] (a struct passed by value,
     *             such as a CUtensorMap's 16 words), in the kernel's order
     */
    void launch(String name, int gridX, int gridY, int gridZ, int block, int sharedBytes, CudaStream stream,
                Object... args) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0) {
            return; // nothing to do: an empty batch part
        }
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof Long v) {
                params[i] = Pointer.to(new long[] {v});
            } else if (a instanceof Integer v) {
                params[i] = Pointer.to(new int[] {v});
            } else if (a instanceof Float v) {
                params[i] = Pointer.to(new float[] {v});
            } else if (a instanceof long[] v) {
                params[i] = Pointer.to(v);
            } else {
                throw new IllegalArgumentException("kernel " + name + " argument " + i + " has unsupported type " + a);
            }
        }
        Cuda.check(JCudaDriver.cuLaunchKernel(function(name), gridX, gridY, gridZ, block, 1, 1, sharedBytes,
                stream.handle(), Pointer.to(params), null), "cuLaunchKernel(" + name + ")");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload");
        }
    }
}
