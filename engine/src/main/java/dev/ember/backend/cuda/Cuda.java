package dev.ember.backend.cuda;

import dev.ember.CudaException;
import jcuda.NativePointerObject;
import jcuda.driver.CUresult;

import java.lang.reflect.Method;

/**
 * Static helpers for JCuda's driver API: result checking and raw addresses. No static state touches CUDA,
 * so this class loads on machines without a GPU. Thread-safe.
 */
final class Cuda {
    private static final Method NATIVE_POINTER;

    static {
        try {
            NATIVE_POINTER = NativePointerObject.class.getDeclaredMethod("getNativePointer");
            NATIVE_POINTER.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Cuda() {
    }

    /** Throws a {@link CudaException} naming {@code call} and the CUresult's name unless {@code result} is success. */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(result));
        }
    }

    /**
     * The raw handle or address behind a JCuda object (device pointer, stream, context), as kernels and cuBLAS
     * receive it. JCuda keeps it in a protected field; the engine runs JCuda from the class path, so plain
     * reflection reaches it.
     */
    static long address(NativePointerObject p) {
        try {
            return (long) NATIVE_POINTER.invoke(p);
        } catch (ReflectiveOperationException e) {
            throw new CudaException("cannot read JCuda's native pointer of " + p, e);
        }
    }
}
