package dev.ember.backend.cuda;

import dev.ember.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;

/**
 * A device allocation (cuMemAlloc) with its one owner. Offsets are in bytes. Copies named *Async go to the
 * given stream; the others are synchronous. {@code close()} frees it and is idempotent; not thread-safe.
 */
final class DeviceBuffer implements AutoCloseable {
    private final CUdeviceptr ptr = new CUdeviceptr();
    private final long sizeBytes;
    private final long address;
    private final String label;
    private boolean closed;

    /**
     * @param label what the memory is for, named in the error when the device is out of memory
     */
    DeviceBuffer(long sizeBytes, String label) {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException(label + ": cannot allocate " + sizeBytes + " bytes");
        }
        int r = JCudaDriver.cuMemAlloc(ptr, sizeBytes);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw new CudaException("cuMemAlloc of " + sizeBytes + " bytes for " + label
                    + " failed: CUDA_ERROR_OUT_OF_MEMORY; lower gpu_memory_utilization, max_num_batched_tokens or max_num_seqs, or use a larger GPU");
        }
        Cuda.check(r, "cuMemAlloc(" + sizeBytes + " bytes for " + label + ")");
        this.sizeBytes = sizeBytes;
        this.address = Cuda.address(ptr);
        this.label = label;
    }

    long sizeBytes() {
        return sizeBytes;
    }

    /** The device address of byte 0, as a kernel argument. */
    long address() {
        return address;
    }

    /** The device address of byte {@code offset}. */
    long address(long offset) {
        checkRange(offset, 0);
        return address + offset;
    }

    CUdeviceptr at(long offset) {
        return offset == 0 ? ptr : ptr.withByteOffset(offset);
    }

    /** Copies the buffer's remaining bytes (direct or array-backed) to {@code offset}, synchronously. */
    void upload(long offset, ByteBuffer src) {
        long n = src.remaining();
        checkRange(offset, n);
        Cuda.check(JCudaDriver.cuMemcpyHtoD(at(offset), Pointer.to(src), n), "cuMemcpyHtoD(" + label + ")");
    }

    void upload(long offset, float[] src) {
        checkRange(offset, 4L * src.length);
        Cuda.check(JCudaDriver.cuMemcpyHtoD(at(offset), Pointer.to(src), 4L * src.length), "cuMemcpyHtoD(" + label + ")");
    }

    void upload(long offset, int[] src) {
        checkRange(offset, 4L * src.length);
        Cuda.check(JCudaDriver.cuMemcpyHtoD(at(offset), Pointer.to(src), 4L * src.length), "cuMemcpyHtoD(" + label + ")");
    }

    void download(long offset, float[] dst) {
        checkRange(offset, 4L * dst.length);
        Cuda.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), at(offset), 4L * dst.length), "cuMemcpyDtoH(" + label + ")");
    }

    void download(long offset, int[] dst) {
        checkRange(offset, 4L * dst.length);
        Cuda.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), at(offset), 4L * dst.length), "cuMemcpyDtoH(" + label + ")");
    }

    void download(long offset, short[] dst) {
        checkRange(offset, 2L * dst.length);
        Cuda.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), at(offset), 2L * dst.length), "cuMemcpyDtoH(" + label + ")");
    }

    /** Fills {@code bytes} bytes from {@code offset} with {@code value} on the stream. */
    void fillAsync(long offset, long bytes, byte value, CudaStream stream) {
        checkRange(offset, bytes);
        Cuda.check(JCudaDriver.cuMemsetD8Async(at(offset), value, bytes, stream.handle()), "cuMemsetD8Async(" + label + ")");
    }

    private void checkRange(long offset, long bytes) {
        if (closed) {
            throw new IllegalStateException(label + " is closed");
        }
        if (offset < 0 || bytes < 0 || offset + bytes > sizeBytes) {
            throw new IndexOutOfBoundsException(label + ": bytes [" + offset + ", " + (offset + bytes)
                    + ") outside the allocation of " + sizeBytes);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(JCudaDriver.cuMemFree(ptr), "cuMemFree(" + label + ")");
        }
    }
}
