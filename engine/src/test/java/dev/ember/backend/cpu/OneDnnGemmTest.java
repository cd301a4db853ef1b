package dev.ember.backend.cpu;

import dev.ember.weights.DType;
import dev.ember.weights.TensorView;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** oneDNN's bf16 matmuls with float32-exact inputs against a double-precision dense reference. */
class OneDnnGemmTest {
    private static boolean runsHere() {
        int threads = Runtime.getRuntime().availableProcessors();
        return OneDnnGemm.unavailable(threads, System.getenv("OMP_NUM_THREADS"), threads) == null;
    }

    @Test
    void matchesADoubleReferenceForSeveralWeightsBiasesAndRowChunks() {
        assumeTrue(runsHere(), "oneDNN does not run on this CPU / thread setting");
        for (Kernels kernels : TestKernels.all()) {
            matchesADoubleReference(kernels);
        }
    }

    private static void matchesADoubleReference(Kernels kernels) {
        Random random = new Random(3);
        int in = 200;
        int rows = 37;
        float[] x = gaussian(random, rows * in, 3f);
        TensorView a = bf16("a", 131, in, random);
        TensorView b = bf16("b", 24, in, random);
        TensorView bias = TinyModels.tensor("a.bias", DType.BF16, new long[] {131}, gaussian(random, 131, 1f));
        float[] outA = new float[rows * 131];
        float[] outB = new float[rows * 24];
        // 5 rows' products per native call: calls start at input rows 0, 5, 10, ... (the offsets into the inputs)
        try (OneDnnGemm gemm = new OneDnnGemm(kernels, 3L * 131 * Float.BYTES * 5)) {
            Matmul.Job[] jobs = {new Matmul.Job(outA, a, bias), new Matmul.Job(outB, b, null)};
            assertTrue(OneDnnGemm.accepts(jobs));
            gemm.runAll(x, rows, null, jobs);
            assertClose(reference(x, rows, a, bias), outA, "a");
            assertClose(reference(x, rows, b, null), outB, "b");
            // a second call with fewer rows reuses the compiled primitive and the wrapped weights
            float[] again = new float[3 * 131];
            gemm.runAll(x, 3, null, new Matmul.Job(again, a, bias));
            float[] firstRows = new float[3 * 131];
            System.arraycopy(outA, 0, firstRows, 0, firstRows.length);
            assertClose(toDouble(firstRows), again, "a, 3 rows");
        }
    }

    /**
     * A real model's down projection (896 x 4,864, Qwen2.5-0.5B) over a long prefill's 1,144 rows, and short row
     * counts that are not multiples of the padding quantum, and every decode batch of 1 to 16 rows. oneDNN's run-time
     * row count got this shape wrong: the last 64 of 3,432 part rows, and most part-row counts from 12 to 45 (errors up
     * to ~10); the rows checked include the last 80.
     */
    @Test
    void aRealShapeOverRowCountsThatAreNotMultiplesOfTheQuantum() {
        assumeTrue(runsHere(), "oneDNN does not run on this CPU / thread setting");
        Random random = new Random(11);
        int in = 4864;
        int out = 896;
        TensorView w = bf16("down", out, in, random);
        float[] wf = TensorRows.toFloats(w);
        try (OneDnnGemm gemm = new OneDnnGemm(Simd.KERNELS, 64L << 20)) {
            int[] rowCounts = new int[19];
            rowCounts[0] = 1144;
            rowCounts[1] = 17;
            rowCounts[2] = 33;
            for (int i = 3; i < rowCounts.length; i++) {
                rowCounts[i] = i - 2; // 1 .. 16
            }
            for (int rows : rowCounts) {
                float[] x = gaussian(random, rows * in, 1f);
                float[] y = new float[rows * out];
                gemm.runAll(x, rows, null, new Matmul.Job(y, w, null));
                for (int r = 0; r < rows; r += r < rows - 80 ? 37 : 1) {
                    for (int o = 0; o < out; o += 7) {
                        double ref = 0;
                        for (int k = 0; k < in; k++) {
                            ref += (double) x[r * in + k] * wf[o * in + k];
                        }
                        assertEquals(ref, y[r * out + o], 1e-5 * Math.max(1, Math.abs(ref)),
                                rows + " rows: row " + r + " output " + o);
                    }
                }
            }
        }
    }

    @Test
    void theThreeBf16PartsOfAFloatSumToItExactly() {
        Random random = new Random(5);
        int n = 1_003; // not a multiple of any vector width: the tail runs too
        float[] x = new float[n + 5];
        short[] parts = new short[3 * n + 7];
        for (Kernels kernels : TestKernels.all()) {
            for (int round = 0; round < 100; round++) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(9) - 4));
                }
                kernels.splitBf16(x, 5, parts, 7, n);
                for (int i = 0; i < n; i++) {
                    float v = x[5 + i];
                    float hi = DType.bf16ToFloat(parts[7 + i]);
                    float mid = DType.bf16ToFloat(parts[7 + n + i]);
                    float lo = DType.bf16ToFloat(parts[7 + 2 * n + i]);
                    assertEquals(DType.floatToBf16(v), parts[7 + i], kernels.description() + " hi of " + v);
                    assertEquals(v, hi + (mid + lo), 0f, kernels.description() + " parts of " + v);
                }
            }
        }
    }

    @Test
    void sumsPartsSmallestFirstWithTheBias() {
        int n = 37;
        int at = 12; // bytes before the row, as rows after the first start inside oneDNN's buffer
        java.nio.ByteBuffer products = java.nio.ByteBuffer.allocateDirect(at + 3 * n * Float.BYTES)
                .order(java.nio.ByteOrder.nativeOrder());
        float[] bias = new float[n];
        for (int j = 0; j < n; j++) {
            products.putFloat(at + 4 * j, 1f);              // hi
            products.putFloat(at + 4 * (n + j), 3e-8f);     // mid: lost if added to hi first
            products.putFloat(at + 4 * (2 * n + j), 3e-8f); // lo
            bias[j] = j;
        }
        for (Kernels kernels : TestKernels.all()) {
            float[] y = new float[n + 2];
            kernels.sumParts(products, at, n, null, y, 2);
            assertEquals((3e-8f + 3e-8f) + 1f, y[2 + n - 1], 0f, kernels.description());
            assertTrue((3e-8f + 3e-8f) + 1f != 1f, "the test's order matters");
            kernels.sumParts(products, at, n, bias, y, 2);
            for (int j = 0; j < n; j++) {
                assertEquals((3e-8f + 3e-8f) + 1f + j, y[2 + j], 0f, kernels.description() + " " + j);
            }
        }
    }

    @Test
    void refusesWeightsItCannotRead() {
        Random random = new Random(7);
        TensorView heap = TensorView.ofFloats("f32", new long[] {4, 8}, gaussian(random, 32, 1f));
        assertTrue(!OneDnnGemm.accepts(new Matmul.Job(new float[4], heap, null)));
        assertTrue(OneDnnGemm.accepts(new Matmul.Job(new float[4], bf16("w", 4, 8, random), null)));
    }

    @Test
    void runsOnlyWithAsManyOpenMpThreadsAsTheBackend() {
        String more = OneDnnGemm.threadMismatch(2, null, 8);
        assertNotNull(more);
        assertTrue(more.contains("8 OpenMP threads (one per processor)") && more.contains("OMP_NUM_THREADS=2"), more);
        assertTrue(OneDnnGemm.threadMismatch(2, "x", 2).contains("OMP_NUM_THREADS=x"));
        assertTrue(OneDnnGemm.threadMismatch(2, "4", 2).contains("4 OpenMP threads (OMP_NUM_THREADS)"));
        assertNull(OneDnnGemm.threadMismatch(2, null, 2));
        assertNull(OneDnnGemm.threadMismatch(3, "3,1", 2));
    }

    @Test
    void anUnknownChoiceNamesThePropertyAndTheAllowedValues() {
        String old = System.getProperty(OneDnnGemm.PROPERTY);
        System.setProperty(OneDnnGemm.PROPERTY, "fast");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnGemm.open(2, Simd.KERNELS));
            assertTrue(e.getMessage().contains("ember.cpu.gemm=fast") && e.getMessage().contains("auto, java or onednn"),
                    e.getMessage());
            System.setProperty(OneDnnGemm.PROPERTY, "java");
            assertNull(OneDnnGemm.open(2, Simd.KERNELS));
        } finally {
            if (old == null) {
                System.clearProperty(OneDnnGemm.PROPERTY);
            } else {
                System.setProperty(OneDnnGemm.PROPERTY, old);
            }
        }
    }

    private static TensorView bf16(String name, int out, int in, Random random) {
        return TinyModels.tensor(name, DType.BF16, new long[] {out, in}, gaussian(random, out * in, 0.05f));
    }

    private static float[] gaussian(Random random, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * scale;
        }
        return v;
    }

    private static double[] reference(float[] x, int rows, TensorView w, TensorView bias) {
        int out = (int) w.shape()[0];
        int in = (int) w.shape()[1];
        float[] wf = TensorRows.toFloats(w);
        float[] bf = bias == null ? null : TensorRows.toFloats(bias);
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = bf == null ? 0 : bf[o];
                for (int k = 0; k < in; k++) {
                    s += (double) x[r * in + k] * wf[o * in + k];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, Math.abs(expected[i])), what + " element " + i);
        }
    }
}
