package dev.ember.backend.cuda;

import dev.ember.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * Ember's kernels: the fatbin that the Maven build compiles with nvcc (engine/src/main/cuda/build.sh) and
 * packs as a class-path resource, loaded with cuModuleLoadData into the current context. Launches go to
 * one stream; arguments are raw values (a device pointer is a {@code long} address). Not thread-safe.
 */
final class KernelModule implements AutoCloseable {
    static final String RESOURCE = "/dev/ember/backend/cuda/ember_kernels.fatbin";

    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private boolean closed;

    KernelModule() {
        byte[] image = readImage();
        Cuda.check(JCudaDriver.cuModuleLoadData(module, image), "cuModuleLoadData(" + RESOURCE + ")");
    }

    /** True when this build carries the compiled kernels (nvcc was found at build time). */
    static boolean available() {
        return KernelModule.class.getResource(RESOURCE) != null;
    }

    private static byte[] readImage() {
        try (InputStream in = KernelModule.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new CudaException("this Ember build has no CUDA kernels (" + RESOURCE + " is missing: nvcc was not"
                        + " found when the engine was built); rebuild with nvcc on the PATH or use device=cpu");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
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

    /**
     * Launches {@code name} on {@code stream}.
     *
     * @param args each a Long (device address or 64-bit value), Integer or Float, in the kernel's order
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
