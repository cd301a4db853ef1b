package dev.ember.backend.cuda;

import dev.ember.ModelFormatException;
import dev.ember.weights.DType;
import jcuda.driver.JCudaDriver;

import java.util.List;

/**
 * The load-time check that a model's weights are finite, on the GPU (finite.cu): one counting pass per tensor over
 * its device copy, a few milliseconds for a 7B model. A NaN or an infinity in any weight makes every logit NaN;
 * without this check decoding would return garbage tokens with no error. Stateless.
 */
final class FiniteWeights {
    private FiniteWeights() {
    }

    /**
     * @throws ModelFormatException naming the first tensor (in upload order) that holds a NaN or an infinity, with
     *                              the count, when any does
     */
    static void require(Kernels kernels, CudaStream stream, List<DeviceWeights.Part> parts, DType dtype) {
        if (parts.isEmpty()) {
            return;
        }
        // the uploads were synchronous copies from pageable memory, which may still be in flight when they return
        Cuda.check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
        try (DeviceBuffer counts = new DeviceBuffer(8L * parts.size(), "non-finite weight counts")) {
            counts.fillAsync(0, counts.sizeBytes(), (byte) 0, stream);
            for (int i = 0; i < parts.size(); i++) {
                DeviceWeights.Part p = parts.get(i);
                kernels.countNonFinite(counts.address(8L * i), p.address(), p.numElements());
            }
            stream.synchronize();
            int[] words = new int[2 * parts.size()];
            counts.download(0, words);
            for (int i = 0; i < parts.size(); i++) {
                long bad = (words[2 * i] & 0xffffffffL) | ((long) words[2 * i + 1] << 32);
                if (bad != 0) {
                    DeviceWeights.Part p = parts.get(i);
                    throw new ModelFormatException("weight tensor '" + p.name() + "' holds " + bad + " NaN or infinite"
                            + " values (of " + p.numElements() + ") in " + dtype + ": the checkpoint is corrupt, or its"
                            + " values do not fit this dtype (for a float32 checkpoint in float16, try dtype=bfloat16"
                            + " or float32)");
                }
            }
        }
    }
}
