package dev.ember.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Page-locked host memory (cuMemAllocHost), so copies to and from the device are truly asynchronous and a
 * captured graph's inputs can be staged here. The ByteBuffer view is little-endian and valid until close.
 */
final class PinnedBuffer implements AutoCloseable {
    private final Pointer host = new Pointer();
    private final ByteBuffer buffer;
    private final String label;
    private boolean closed;

    PinnedBuffer(long sizeBytes, String label) {
        Cuda.check(JCudaDriver.cuMemAllocHost(host, sizeBytes), "cuMemAllocHost(" + sizeBytes + " bytes for " + label + ")");
        this.buffer = host.getByteBuffer(0, sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.label = label;
    }

    ByteBuffer buffer() {
        return buffer;
    }

    /** Copies bytes [0, bytes) to the device buffer's {@code dstOffset}, asynchronously on the stream. */
    void copyToDeviceAsync(DeviceBuffer dst, long dstOffset, long bytes, CudaStream stream) {
        CUdeviceptr d = dst.at(dstOffset);
        Cuda.check(JCudaDriver.cuMemcpyHtoDAsync(d, host, bytes, stream.handle()), "cuMemcpyHtoDAsync(" + label + ")");
    }

    /** Copies {@code bytes} from the device buffer's {@code srcOffset} into this buffer at {@code hostOffset}. */
    void copyFromDeviceAsync(long hostOffset, DeviceBuffer src, long srcOffset, long bytes, CudaStream stream) {
        Cuda.check(JCudaDriver.cuMemcpyDtoHAsync(host.withByteOffset(hostOffset), src.at(srcOffset), bytes, stream.handle()),
                "cuMemcpyDtoHAsync(" + label + ")");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost(" + label + ")");
        }
    }
}
