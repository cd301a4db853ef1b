package dev.ember.backend.cuda;

import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/** One non-blocking CUDA stream: every launch, copy and GEMM of an engine goes to it, in order. */
final class CudaStream implements AutoCloseable {
    private final CUstream stream = new CUstream();
    private boolean closed;

    CudaStream() {
        Cuda.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    }

    CUstream handle() {
        return stream;
    }

    /** The raw CUstream handle, for cuBLAS. */
    long address() {
        return Cuda.address(stream);
    }

    void synchronize() {
        Cuda.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
        }
    }
}
