package dev.ember.backend.cpu;

import java.nio.ByteBuffer;

/**
 * The inner loops of the CPU backend, in two interchangeable implementations chosen once by {@link Simd}: the
 * Vector API ({@link VectorKernels}) and plain Java ({@link ScalarKernels}). Everything around them (tiling,
 * threads, bounds checks, weight conversion) is shared, so the two differ only in float32 summation order.
 *
 * <p>A weight tile holds {@code n} weight rows of {@code k} elements each, row after row, padded with zero rows
 * up to a multiple of {@link #WEIGHT_ROWS}. Outputs go to {@code out[r * outStride + outOffset + j]} for input
 * rows {@code r} in {@code [r0, r1)} and tile rows {@code j < n}. Implementations are stateless and thread-safe.
 */
interface Kernels {
    /** Weight rows a micro-kernel computes at once; tiles are padded to a multiple of it. */
    int WEIGHT_ROWS = 4;

    /** One line for logs. */
    String description();

    /**
     * Whether bf16 weights are multiplied straight from their raw bits ({@link #packBf16Input} and
     * {@link #bf16Tile}); if not, they are converted into float tiles first.
     */
    boolean bf16Native();

    /** Reorders the (rows, k) input for {@link #bf16Tile} (k even); the layout is the implementation's own. */
    float[] packBf16Input(float[] x, int rows, int k);

    /**
     * {@code out = x w^T} for one tile of bf16 weights given as raw bits, two elements per int (element {@code 2i}
     * in the low half, as little-endian memory holds them).
     *
     * @param xPacked (rows, k) from {@link #packBf16Input}
     * @param w       (n rounded up to WEIGHT_ROWS, k / 2)
     */
    void bf16Tile(float[] out, int outStride, int outOffset, float[] xPacked, int k, int r0, int r1, int[] w, int n);

    /**
     * {@code out = x w^T} for one tile of float weights.
     *
     * @param x (rows, k)
     * @param w (n rounded up to WEIGHT_ROWS, k)
     */
    void floatTile(float[] out, int outStride, int outOffset, float[] x, int k, int r0, int r1, float[] w, int n);

    /** {@code sum a[aOffset + i] * b[bOffset + i]} over {@code i < n}. */
    float dot(float[] a, int aOffset, float[] b, int bOffset, int n);

    /** {@code y[yOffset + i] += alpha * x[xOffset + i]} for {@code i < n}. */
    void axpy(float[] y, int yOffset, float alpha, float[] x, int xOffset, int n);

    /** {@code out[i] = silu(gate[i]) * up[i]} for {@code i} in {@code [from, to)}. */
    void siluMul(float[] out, float[] gate, float[] up, int from, int to);

    /**
     * The three bf16 parts of {@code x[xOffset + i]}, {@code i < n}, for {@link OneDnnGemm}: {@code hi} the
     * nearest bf16 (ties to even), {@code mid} the nearest to {@code x - hi}, {@code lo} the nearest to what is
     * left; {@code hi + mid + lo == x} exactly for finite x in the normal range. Written as raw bf16 bits to
     * {@code parts[hiAt + i]}, {@code parts[hiAt + n + i]} and {@code parts[hiAt + 2n + i]}.
     */
    void splitBf16(float[] x, int xOffset, short[] parts, int hiAt, int n);

    /**
     * {@code y[yOffset + j] = (lo[j] + mid[j]) + hi[j] (+ bias[j])} for {@code j < n}, where hi, mid and lo are the
     * native-order floats of {@code products} from byte {@code at}, {@code at + 4n} and {@code at + 8n}: one output row
     * of {@link OneDnnGemm}, read in place from its native buffer, the smaller parts added first. {@code bias} may be
     * null.
     */
    void sumParts(ByteBuffer products, int at, int n, float[] bias, float[] y, int yOffset);
}
