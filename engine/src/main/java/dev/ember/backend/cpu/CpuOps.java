package dev.ember.backend.cpu;

import dev.ember.model.RopeScaling;
import dev.ember.weights.TensorView;

import java.util.concurrent.ForkJoinPool;

/**
 * The float32 operations of the CPU backend, public so the CUDA backend's kernel tests can use them as their
 * reference. Activations are plain row-major {@code float[]} arrays; shapes are given as {@code (rows, cols)}.
 * Weights are {@link TensorView}s (f32, bf16 or f16) read in place and converted on the fly, never copied.
 *
 * <p>Arguments go output first, then inputs, then sizes, then the pool. A {@code ForkJoinPool} argument may be
 * null: the operation then runs on the calling thread. Every method is stateless and thread-safe as long as
 * concurrent calls do not write the same arrays.
 */
public final class CpuOps {
    private CpuOps() {
    }

    /**
     * Linear layer {@code out = x W^T (+ bias)}, as PyTorch's {@code Linear}.
     *
     * @param out    (rows, outFeatures), written
     * @param x      (rows, inFeatures)
     * @param weight (outFeatures, inFeatures) row-major
     * @param bias   (outFeatures), or null
     * @param rows   number of input rows
     * @param pool   workers that split the output features, or null
     */
    public static void matmul(float[] out, float[] x, TensorView weight, TensorView bias, int rows, ForkJoinPool pool) {
        Matmul.run(out, x, weight, bias, rows, pool);
    }

    /**
     * Hugging Face RMSNorm in float32: {@code out[r] = weight * (x[r] * (float) (1 / sqrt(mean(x[r]^2) + eps)))},
     * the mean of squares accumulated in double.
     *
     * @param out    (rows, dim), written; may be {@code x} itself
     * @param x      (rows, dim)
     * @param weight (dim)
     */
    public static void rmsnorm(float[] out, float[] x, TensorView weight, int rows, float eps) {
        float[] w = TensorRows.toFloats(weight);
        int dim = w.length;
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            double sumSquares = 0;
            for (int i = 0; i < dim; i++) {
                sumSquares += (double) x[base + i] * x[base + i];
            }
            float variance = (float) (sumSquares / dim);
            float inv = (float) (1.0 / Math.sqrt(variance + eps));
            for (int i = 0; i < dim; i++) {
                out[base + i] = w[i] * (x[base + i] * inv);
            }
        }
    }

    /**
     * The residual add fused with the next RMSNorm: {@code residual += delta}, then
     * {@code out = rmsnorm(residual)} (as {@link #rmsnorm}).
     *
     * @param out      (rows, dim), written
     * @param residual (rows, dim), updated in place
     * @param delta    (rows, dim), the sub-layer output added to the residual stream
     * @param weight   (dim)
     */
    public static void addRmsnorm(float[] out, float[] residual, float[] delta, TensorView weight, int rows, float eps) {
        int n = rows * Math.toIntExact(weight.numElements());
        for (int i = 0; i < n; i++) {
            residual[i] += delta[i];
        }
        rmsnorm(out, residual, weight, rows, eps);
    }

    /**
     * Qwen3's per-head RMSNorm of q or k, in place: {@link #rmsnorm} over each head's {@code headDim} values.
     *
     * @param x      (numTokens, numHeads * headDim), updated in place
     * @param weight (headDim)
     */
    public static void headRmsnorm(float[] x, TensorView weight, int numTokens, int numHeads, float eps) {
        rmsnorm(x, x, weight, numTokens * numHeads, eps);
    }

    /**
     * RoPE inverse frequencies as Hugging Face computes them: {@code invFreq[i] = 1 / theta^(2i / headDim)} for
     * {@code i < headDim / 2}, rescaled by {@link RopeScaling#scaleInvFreq} when {@code scaling} is not null,
     * rounded to float.
     *
     * @return (headDim / 2)
     */
    public static float[] ropeInvFreq(int headDim, double theta, RopeScaling scaling) {
        float[] invFreq = new float[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            double f = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
            invFreq[i] = (float) (scaling == null ? f : scaling.scaleInvFreq(f));
        }
        return invFreq;
    }

    /**
     * RoPE rotation tables: the angle {@code a = (float) positions[t] * invFreq[i]} is a float32 product (as in
     * Hugging Face), {@code cos[t][i] = (float) cos(a)}, {@code sin[t][i] = (float) sin(a)}.
     *
     * @param cos       (numTokens, headDim / 2), written
     * @param sin       (numTokens, headDim / 2), written
     * @param positions (numTokens) absolute positions
     * @param invFreq   (headDim / 2) from {@link #ropeInvFreq}
     */
    public static void ropeCosSin(float[] cos, float[] sin, int[] positions, float[] invFreq) {
        int half = invFreq.length;
        for (int t = 0; t < positions.length; t++) {
            float p = positions[t];
            for (int i = 0; i < half; i++) {
                float angle = p * invFreq[i];
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * Rotary embedding in the rotate-half (NeoX) layout of HF Llama/Qwen, in place: within each head, element
     * {@code i < headDim/2} pairs with {@code i + headDim/2}:
     * {@code x1' = x1 cos - x2 sin}, {@code x2' = x2 cos + x1 sin}.
     *
     * @param x   (numTokens, numHeads * headDim), updated in place
     * @param cos (numTokens, headDim / 2) from {@link #ropeCosSin}
     * @param sin (numTokens, headDim / 2)
     */
    public static void rope(float[] x, float[] cos, float[] sin, int numTokens, int numHeads, int headDim) {
        int half = headDim / 2;
        for (int t = 0; t < numTokens; t++) {
            for (int h = 0; h < numHeads; h++) {
                int base = (t * numHeads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float c = cos[t * half + i];
                    float s = sin[t * half + i];
                    float x1 = x[base + i];
                    float x2 = x[base + half + i];
                    x[base + i] = x1 * c - x2 * s;
                    x[base + half + i] = x2 * c + x1 * s;
                }
            }
        }
    }

    /**
     * The gated MLP activation {@code out[i] = silu(gate[i]) * up[i]} with {@code silu(g) = g / (1 + exp(-g))}.
     *
     * @param out  (n), written; may be {@code gate} or {@code up}
     */
    public static void siluMul(float[] out, float[] gate, float[] up, int n) {
        siluMul(out, gate, up, n, null);
    }

    /** As {@link #siluMul(float[], float[], float[], int)}, split over the pool's workers (or the caller when null). */
    public static void siluMul(float[] out, float[] gate, float[] up, int n, ForkJoinPool pool) {
        siluMul(out, gate, up, n, pool, Simd.KERNELS);
    }

    static void siluMul(float[] out, float[] gate, float[] up, int n, ForkJoinPool pool, Kernels kernels) {
        Parallel.forRange(pool, n, 1 << 14, (start, end) -> kernels.siluMul(out, gate, up, start, end));
    }

    /**
     * Embedding lookup.
     *
     * @param out      (numTokens, hidden), written
     * @param tokenIds (numTokens)
     * @param table    (vocab, hidden)
     */
    public static void embedding(float[] out, int[] tokenIds, TensorView table) {
        long[] shape = table.shape();
        int vocab = Math.toIntExact(shape[0]);
        int hidden = Math.toIntExact(shape[1]);
        TensorRows rows = new TensorRows(table);
        for (int t = 0; t < tokenIds.length; t++) {
            int id = tokenIds[t];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " at batch index " + t
                        + " is outside the embedding table '" + table.name() + "' of " + vocab + " rows");
            }
            rows.read((long) id * hidden, hidden, out, t * hidden);
        }
    }

    /**
     * Writes new tokens' K and V into a paged cache laid out {@code [numBlocks][blockSize][numKvHeads][headDim]}
     * (so slot {@code block * blockSize + offset} starts at {@code slot * numKvHeads * headDim}). A negative slot
     * (padding) is skipped.
     *
     * @param kCache      (numBlocks * blockSize, numKvHeads * headDim), updated
     * @param vCache      same layout as kCache
     * @param k           (numTokens, numKvHeads * headDim)
     * @param v           (numTokens, numKvHeads * headDim)
     * @param slotMapping (numTokens) flat slot of each token
     */
    public static void storeKv(float[] kCache, float[] vCache, float[] k, float[] v, int[] slotMapping, int numKvHeads,
                               int headDim) {
        int width = numKvHeads * headDim;
        long slots = kCache.length / width;
        for (int t = 0; t < slotMapping.length; t++) {
            int slot = slotMapping[t];
            if (slot < 0) {
                continue;
            }
            if (slot >= slots) {
                throw new IllegalArgumentException("slot " + slot + " of token " + t + " is outside the KV cache of "
                        + slots + " slots");
            }
            System.arraycopy(k, t * width, kCache, slot * width, width);
            System.arraycopy(v, t * width, vCache, slot * width, width);
        }
    }

    /**
     * Causal attention of new tokens over a paged KV cache (which already holds their own K/V, see
     * {@link #storeKv}). Token {@code t} of sequence {@code s} (tokens {@code [queryStart[s], queryStart[s+1])})
     * attends to the sequence's positions {@code 0 .. positions[t]}; position {@code p} is read from block
     * {@code blockTables[s][p / blockSize]}, offset {@code p % blockSize}. Grouped-query: query head {@code h}
     * uses KV head {@code h / (numHeads / numKvHeads)}. Scores are {@code q.k * (1/sqrt(headDim))}; softmax in
     * float32 after subtracting the maximum.
     *
     * @param out         (numTokens, numHeads * headDim), written; may be {@code q} itself (each pair reads its q row first)
     * @param q           (numTokens, numHeads * headDim), after RoPE
     * @param kCache      (numBlocks * blockSize, numKvHeads * headDim) of this layer
     * @param vCache      same layout as kCache
     * @param queryStart  (numSeqs + 1) prefix sums of the sequences' new-token counts
     * @param positions   (numTokens) absolute position of each new token
     * @param blockTables (numSeqs) block ids of each sequence in order
     * @param pool        workers that split the (token, head) pairs, or null
     */
    public static void pagedAttention(float[] out, float[] q, float[] kCache, float[] vCache, int[] queryStart,
                                      int[] positions, int[][] blockTables, int blockSize, int numHeads,
                                      int numKvHeads, int headDim, ForkJoinPool pool) {
        PagedAttention.run(out, q, kCache, vCache, queryStart, positions, blockTables, blockSize, numHeads, numKvHeads,
                headDim, pool, Simd.KERNELS);
    }
}
