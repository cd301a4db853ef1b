package dev.ember.backend.cuda;

import dev.ember.CudaException;
import org.bytedeco.cuda.cudart.CUtensorMap;
import org.bytedeco.javacpp.BytePointer;

import java.util.HashMap;
import java.util.Map;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
import static org.bytedeco.cuda.global.cudart.CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE;
import static org.bytedeco.cuda.global.cudart.CU_TENSOR_MAP_INTERLEAVE_NONE;
import static org.bytedeco.cuda.global.cudart.CU_TENSOR_MAP_L2_PROMOTION_L2_256B;
import static org.bytedeco.cuda.global.cudart.CU_TENSOR_MAP_SWIZZLE_128B;
import static org.bytedeco.cuda.global.cudart.cuTensorMapEncodeTiled;

/**
 * TMA descriptors (CUtensorMap, 128 bytes) for the sm_90a GEMMs' operands, made on the host through bytedeco's driver
 * API binding (JCuda has no cuTensorMapEncodeTiled) and handed to a launch as 16 words by value.
 */
final class TensorMaps {
    /** K elements a box row: one 128-byte swizzle row of bf16 (tma_gemm.cuh's BK). */
    static final int BOX_COLS = 64;

    private TensorMaps() {
    }

    /**
     * A launcher's descriptors, each made once per (matrix, shape, box) and kept: the weights' per layer and box, the
     * activations' per buffer, rows and box (a handful of fixed buffers times the batch buckets). Not thread-safe.
     */
    static final class Cache {
        private record Key(long address, int rows, int cols, int boxRows) {
        }

        private final Map<Key, long[]> maps = new HashMap<>();

        /** {@link TensorMaps#bf16}'s descriptor, made on first use. */
        long[] bf16(long address, int rows, int cols, int boxRows) {
            return maps.computeIfAbsent(new Key(address, rows, cols, boxRows),
                    k -> TensorMaps.bf16(address, rows, cols, boxRows));
        }
    }

    /**
     * The descriptor of a row-major bf16 matrix (rows x cols at {@code address}) read in boxes of boxRows x
     * {@value #BOX_COLS} with the 128-byte swizzle the kernels' wgmma descriptors name; rows past the end read as
     * zeros. Its 16 words.
     */
    static long[] bf16(long address, int rows, int cols, int boxRows) {
        // the encoder wants its output 64-byte aligned (CUDA driver API), more than JavaCPP's allocation promises
        try (BytePointer raw = new BytePointer(128 + 64)) {
            CUtensorMap map = new CUtensorMap(new Cublas.Raw((raw.address() + 63) & ~63L));
            int r = cuTensorMapEncodeTiled(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, new Cublas.Raw(address),
                    new long[] {cols, rows}, new long[] {2L * cols}, new int[] {BOX_COLS, boxRows}, new int[] {1, 1},
                    CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                    CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
            if (r != CUDA_SUCCESS) {
                throw new CudaException("cuTensorMapEncodeTiled(" + rows + " x " + cols + " at 0x" + Long.toHexString(address)
                        + ", box " + boxRows + " x " + BOX_COLS + ") failed: CUresult " + r);
            }
            long[] words = new long[16];
            for (int i = 0; i < words.length; i++) {
                words[i] = map.opaque(i);
            }
            return words;
        }
    }
}
