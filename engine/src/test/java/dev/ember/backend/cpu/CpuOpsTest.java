package dev.ember.backend.cpu;

import dev.ember.model.RopeScaling;
import dev.ember.weights.DType;
import dev.ember.weights.TensorView;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuOpsTest {
    private static final ForkJoinPool POOL = new ForkJoinPool(3);
    private final Random random = new Random(11);

    @AfterAll
    static void stopPool() {
        POOL.shutdownNow();
    }

    @Test
    void matmulMatchesADirectDotProductForEveryDtypeAndOddShapes() {
        // 301 features: not a multiple of the 4-row weight blocks, several feature tiles;
        // 43 rows of 70 features: few feature tiles, so rows are split too, into odd-sized tiles;
        // 70 and 102 inputs: whole SIMD chunks of bf16 pairs (32 or 64 elements) plus a tail; 5 rows: pairs and a last row
        for (int[] shape : new int[][] {{7, 301, 33}, {43, 70, 20}, {1, 9, 5}, {5, 37, 70}, {6, 19, 102}, {2, 3, 128}}) {
            for (DType dtype : DType.values()) {
                for (ForkJoinPool pool : new ForkJoinPool[] {null, POOL}) {
                    for (Kernels kernels : TestKernels.all()) {
                        checkMatmul(shape[0], shape[1], shape[2], dtype, pool, kernels);
                    }
                }
            }
        }
    }

    @Test
    void matmulOfSeveralWeightsOverOneInputMatchesSeparateCalls() {
        float[] x = gaussian(9 * 70);
        TensorView q = TinyModels.tensor("q", DType.BF16, new long[] {40, 70}, gaussian(40 * 70));
        TensorView k = TinyModels.tensor("k", DType.F16, new long[] {8, 70}, gaussian(8 * 70));
        TensorView bias = TinyModels.tensor("kb", DType.F32, new long[] {8}, gaussian(8));
        for (Kernels kernels : TestKernels.all()) {
            float[] yq = new float[9 * 40];
            float[] yk = new float[9 * 8];
            Matmul.runAll(kernels, x, 9, POOL, new Matmul.Job(yq, q, null), new Matmul.Job(yk, k, bias));
            float[] sq = new float[9 * 40];
            float[] sk = new float[9 * 8];
            Matmul.runAll(kernels, x, 9, null, new Matmul.Job(sq, q, null));
            Matmul.runAll(kernels, x, 9, null, new Matmul.Job(sk, k, bias));
            assertArrayEquals(sq, yq, kernels.description());
            assertArrayEquals(sk, yk, kernels.description());
        }
        TensorView narrow = TinyModels.tensor("v", DType.F32, new long[] {8, 69}, gaussian(8 * 69));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Matmul.runAll(Simd.KERNELS, x, 9,
                null, new Matmul.Job(new float[9 * 40], q, null), new Matmul.Job(new float[9 * 8], narrow, null)));
        assertTrue(e.getMessage().contains("'v' has 69"), e.getMessage());
    }

    private void checkMatmul(int rows, int out, int in, DType dtype, ForkJoinPool pool, Kernels kernels) {
        float[] x = gaussian(rows * in);
        TensorView w = TinyModels.tensor("w", dtype, new long[] {out, in}, gaussian(out * in));
        TensorView b = TinyModels.tensor("b", dtype, new long[] {out}, gaussian(out));
        float[] y = new float[rows * out];
        Matmul.runAll(kernels, x, rows, pool, new Matmul.Job(y, w, b));
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double expected = b.get(o);
                for (int i = 0; i < in; i++) {
                    expected += (double) x[r * in + i] * w.get((long) o * in + i);
                }
                assertEquals(expected, y[r * out + o], 1e-5 * Math.max(1, Math.abs(expected)),
                        kernels.description() + " " + dtype + " " + rows + "x" + out + "x" + in + " row " + r + " feature " + o);
            }
        }
    }

    @Test
    void matmulRejectsMismatchedShapesNamingTheWeight() {
        TensorView w = TensorView.ofFloats("model.layers.0.mlp.up_proj.weight", new long[] {4, 3}, new float[12]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuOps.matmul(new float[8], new float[5], w, null, 2, null));
        assertTrue(e.getMessage().contains("up_proj"), e.getMessage());
    }

    @Test
    void rmsnormFollowsTheHuggingFaceFormula() {
        int rows = 3;
        int dim = 10;
        float[] x = gaussian(rows * dim);
        float[] wv = gaussian(dim);
        TensorView w = TensorView.ofFloats("norm", new long[] {dim}, wv);
        float[] out = new float[rows * dim];
        CpuOps.rmsnorm(out, x, w, rows, 1e-5f);
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int i = 0; i < dim; i++) {
                ms += x[r * dim + i] * x[r * dim + i];
            }
            double scale = 1 / Math.sqrt(ms / dim + 1e-5);
            for (int i = 0; i < dim; i++) {
                assertEquals(x[r * dim + i] * scale * wv[i], out[r * dim + i], 1e-6);
            }
        }
    }

    @Test
    void addRmsnormUpdatesTheResidualAndNormalizesTheSum() {
        float[] residual = gaussian(8);
        float[] delta = gaussian(8);
        float[] sum = new float[8];
        for (int i = 0; i < 8; i++) {
            sum[i] = residual[i] + delta[i];
        }
        TensorView w = TensorView.ofFloats("norm", new long[] {4}, gaussian(4));
        float[] expected = new float[8];
        CpuOps.rmsnorm(expected, sum, w, 2, 1e-6f);
        float[] out = new float[8];
        CpuOps.addRmsnorm(out, residual, delta, w, 2, 1e-6f);
        assertArrayEquals(sum, residual);
        assertArrayEquals(expected, out);
    }

    @Test
    void headRmsnormNormalizesEachHeadOnItsOwn() {
        int heads = 3;
        int headDim = 4;
        float[] x = gaussian(2 * heads * headDim);
        x[5] *= 100; // one loud head must not change the others
        float[] original = x.clone();
        TensorView w = TensorView.ofFloats("q_norm", new long[] {headDim}, new float[] {1, 1, 1, 1});
        CpuOps.headRmsnorm(x, w, 2, heads, 0f);
        for (int head = 0; head < 2 * heads; head++) {
            double ms = 0;
            for (int d = 0; d < headDim; d++) {
                ms += x[head * headDim + d] * x[head * headDim + d];
            }
            assertEquals(1.0, ms / headDim, 1e-5, "head " + head);
            double scale = x[head * headDim] / original[head * headDim];
            for (int d = 0; d < headDim; d++) {
                assertEquals(original[head * headDim + d] * scale, x[head * headDim + d], 1e-5);
            }
        }
    }

    @Test
    void ropeInverseFrequenciesAndLlama3Scaling() {
        float[] plain = CpuOps.ropeInvFreq(8, 10000, null);
        assertArrayEquals(new float[] {1f, 0.1f, 0.01f, 0.001f}, plain, 1e-9f);
        // wavelengths 6.3, 63, 628, 6283 against thresholds 64/4 = 16 and 64/1 = 64
        float[] scaled = CpuOps.ropeInvFreq(8, 10000, new RopeScaling(8, 1, 4, 64));
        assertEquals(1f, scaled[0]);
        double smooth = (64 / (2 * Math.PI / 0.1) - 1) / (4 - 1);
        assertEquals((1 - smooth) * 0.1 / 8 + smooth * 0.1, scaled[1], 1e-8);
        assertEquals(0.01f / 8, scaled[2], 1e-10);
        assertEquals(0.001f / 8, scaled[3], 1e-11);
    }

    @Test
    void ropeRotatesHalvesAndDependsOnlyOnRelativePosition() {
        int headDim = 8;
        float[] invFreq = CpuOps.ropeInvFreq(headDim, 10000, null);
        float[] q = gaussian(headDim);
        float[] k = gaussian(headDim);
        double reference = Double.NaN;
        for (int shift : new int[] {0, 5, 37}) {
            float[] qr = q.clone();
            float[] kr = k.clone();
            rotate(qr, 9 + shift, invFreq);
            rotate(kr, 4 + shift, invFreq);
            double dot = 0;
            for (int d = 0; d < headDim; d++) {
                dot += qr[d] * kr[d];
            }
            if (Double.isNaN(reference)) {
                reference = dot;
            }
            assertEquals(reference, dot, 1e-5, "q.k must depend on the position difference only");
        }
        float[] x = {1, 0, 0, 0, 0, 0, 0, 0};
        rotate(x, 3, invFreq);
        // element 0 pairs with element 4 (rotate-half), angle 3 * invFreq[0] = 3
        assertEquals(Math.cos(3), x[0], 1e-6);
        assertEquals(Math.sin(3), x[4], 1e-6);
        assertEquals(0, x[1]);
        float[] atZero = q.clone();
        rotate(atZero, 0, invFreq);
        assertArrayEquals(q, atZero);
    }

    @Test
    void ropeAppliesEachTokensPositionToEveryHead() {
        int heads = 2;
        int headDim = 4;
        float[] invFreq = CpuOps.ropeInvFreq(headDim, 100, null);
        float[] x = gaussian(3 * heads * headDim);
        float[] expected = x.clone();
        int[] positions = {7, 0, 2};
        for (int t = 0; t < 3; t++) {
            for (int h = 0; h < heads; h++) {
                float[] head = java.util.Arrays.copyOfRange(expected, (t * heads + h) * headDim, (t * heads + h + 1) * headDim);
                rotate(head, positions[t], invFreq);
                System.arraycopy(head, 0, expected, (t * heads + h) * headDim, headDim);
            }
        }
        float[] cos = new float[3 * headDim / 2];
        float[] sin = new float[3 * headDim / 2];
        CpuOps.ropeCosSin(cos, sin, positions, invFreq);
        CpuOps.rope(x, cos, sin, 3, heads, headDim);
        assertArrayEquals(expected, x);
    }

    @Test
    void siluMulIsTheGatedActivation() {
        float[] gate = {0f, 1f, -2f, 3f};
        float[] up = {5f, 2f, 1f, -1f};
        float[] out = new float[4];
        CpuOps.siluMul(out, gate, up, 4);
        for (int i = 0; i < 4; i++) {
            assertEquals(gate[i] / (1 + Math.exp(-gate[i])) * up[i], out[i], 1e-6);
        }
    }

    @Test
    void embeddingGathersRowsAndRejectsUnknownIds() {
        float[] table = gaussian(5 * 3);
        TensorView t = TinyModels.tensor("model.embed_tokens.weight", DType.BF16, new long[] {5, 3}, table);
        float[] out = new float[2 * 3];
        CpuOps.embedding(out, new int[] {4, 1}, t);
        for (int i = 0; i < 3; i++) {
            assertEquals(t.get(4 * 3 + i), out[i]);
            assertEquals(t.get(3 + i), out[3 + i]);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuOps.embedding(new float[3], new int[] {5}, t));
        assertTrue(e.getMessage().contains("token id 5") && e.getMessage().contains("embed_tokens"), e.getMessage());
    }

    @Test
    void storeKvWritesSlotsAndSkipsPadding() {
        int kvHeads = 2;
        int headDim = 3;
        int width = kvHeads * headDim;
        float[] kCache = new float[8 * width];
        float[] vCache = new float[8 * width];
        float[] k = gaussian(3 * width);
        float[] v = gaussian(3 * width);
        CpuOps.storeKv(kCache, vCache, k, v, new int[] {6, -1, 1}, kvHeads, headDim);
        assertArrayEquals(java.util.Arrays.copyOfRange(k, 0, width), java.util.Arrays.copyOfRange(kCache, 6 * width, 7 * width));
        assertArrayEquals(java.util.Arrays.copyOfRange(v, 2 * width, 3 * width), java.util.Arrays.copyOfRange(vCache, width, 2 * width));
        float nonZero = 0;
        for (int slot : new int[] {0, 2, 3, 4, 5, 7}) {
            for (int i = 0; i < width; i++) {
                nonZero += Math.abs(kCache[slot * width + i]);
            }
        }
        assertEquals(0f, nonZero);
        assertThrows(IllegalArgumentException.class, () -> CpuOps.storeKv(kCache, vCache, k, v, new int[] {8, 0, 0}, kvHeads, headDim));
    }

    @Test
    void pagedAttentionEqualsDenseCausalAttentionWithGqa() {
        int heads = 4;
        int kvHeads = 2;
        int headDim = 6;
        int blockSize = 3;
        int[] blocksA = {5, 0, 7};  // sequence A: 8 tokens cached, the last 3 are new
        int[] blocksB = {2, 6};     // sequence B: 4 tokens, all new (a prefill)
        int[][] tables = {blocksA, blocksB};
        int[] lens = {8, 4};
        int width = kvHeads * headDim;
        float[] kCache = new float[8 * blockSize * width];
        float[] vCache = new float[8 * blockSize * width];
        float[][][] denseK = new float[2][][];
        float[][][] denseV = new float[2][][];
        for (int s = 0; s < 2; s++) {
            denseK[s] = new float[lens[s]][];
            denseV[s] = new float[lens[s]][];
            for (int p = 0; p < lens[s]; p++) {
                denseK[s][p] = gaussian(width);
                denseV[s][p] = gaussian(width);
                int slot = tables[s][p / blockSize] * blockSize + p % blockSize;
                System.arraycopy(denseK[s][p], 0, kCache, slot * width, width);
                System.arraycopy(denseV[s][p], 0, vCache, slot * width, width);
            }
        }
        int[] queryStart = {0, 3, 7};
        int[] positions = {5, 6, 7, 0, 1, 2, 3};
        int[] seqOf = {0, 0, 0, 1, 1, 1, 1};
        float[] q = gaussian(7 * heads * headDim);
        float[] out = new float[q.length];
        CpuOps.pagedAttention(out, q, kCache, vCache, queryStart, positions, tables, blockSize, heads, kvHeads, headDim, POOL);
        for (int t = 0; t < 7; t++) {
            for (int h = 0; h < heads; h++) {
                int kvh = h / (heads / kvHeads);
                int n = positions[t] + 1;
                double[] w = new double[n];
                double total = 0;
                for (int p = 0; p < n; p++) {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) {
                        dot += q[(t * heads + h) * headDim + d] * denseK[seqOf[t]][p][kvh * headDim + d];
                    }
                    w[p] = Math.exp(dot / Math.sqrt(headDim));
                    total += w[p];
                }
                for (int d = 0; d < headDim; d++) {
                    double expected = 0;
                    for (int p = 0; p < n; p++) {
                        expected += w[p] / total * denseV[seqOf[t]][p][kvh * headDim + d];
                    }
                    assertEquals(expected, out[(t * heads + h) * headDim + d], 1e-5, "token " + t + " head " + h);
                }
            }
        }
        // the first token of a sequence sees only itself: its output is its own V
        for (int d = 0; d < headDim; d++) {
            assertEquals(denseV[1][0][d], out[(3 * heads) * headDim + d], 1e-6);
        }
    }

    private static void rotate(float[] head, int position, float[] invFreq) {
        float[] cos = new float[invFreq.length];
        float[] sin = new float[invFreq.length];
        CpuOps.ropeCosSin(cos, sin, new int[] {position}, invFreq);
        CpuOps.rope(head, cos, sin, 1, 1, head.length);
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
