package dev.ember.backend.cuda;

import dev.ember.weights.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.Arrays;
import java.util.Random;

import static dev.ember.backend.cuda.GpuTestSupport.assertElementsClose;
import static dev.ember.backend.cuda.GpuTestSupport.random;
import static dev.ember.backend.cuda.GpuTestSupport.round;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * gemm_cluster (the sm_90a image) against a float64 reference on the host: every compiled variant at a shape whose
 * outputs leave a partial feature tile and whose 13 K steps split unevenly over the blocks of a cluster (some blocks
 * take one step), at rows that leave partial row slices and (up to 256 rows) a second row block; rows past M must
 * stay unwritten.
 * Then the engine's shapes through GemmPlans' race with the cluster kernels in it, against cuBLAS's default. An
 * element may differ from the reference by one bf16 step (float32 sums in another order move a rounding), no more.
 * Runs on a compute capability 9 GPU with the sm_90a image; skipped by assumption elsewhere.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterGemmGpuTest {
    private GpuTestSupport gpu;
    private ClusterGemm gemm;

    @BeforeAll
    void open() {
        gpu = new GpuTestSupport();
        assumeTrue(gpu.device.computeMajor() == 9, "gemm_cluster needs sm_90; this GPU is sm " + gpu.device.computeCapability());
        assertTrue(Sm90aImage.present(), Sm90aImage.FATBIN + " is missing: build the engine with nvcc 12+ on the PATH");
        gemm = new ClusterGemm(gpu.track(Sm90aImage.open()), gpu.stream, gpu.device.multiprocessors());
    }

    @AfterAll
    void close() throws Exception {
        if (gpu != null) {
            gpu.close();
        }
    }

    private static float[] reference(float[] x, float[] w, int rows, int out, int in) {
        float[] y = new float[rows * out];
        for (int t = 0; t < rows; t++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int k = 0; k < in; k++) {
                    s += (double) x[t * in + k] * w[o * in + k];
                }
                y[t * out + o] = DType.bf16ToFloat(DType.floatToBf16((float) s));
            }
        }
        return y;
    }

    /** Random bf16 inputs x (maxRows x in) and w (out x in), on the host and the GPU, with the float64 reference. */
    private final class Inputs {
        final int out;
        final int in;
        final DeviceBuffer dx;
        final DeviceBuffer dw;
        final float[] want;

        Inputs(int out, int in, int maxRows, long seed) {
            this.out = out;
            this.in = in;
            Random r = new Random(seed);
            float[] x = round(random(r, maxRows * in, 1f), DType.BF16);
            float[] w = round(random(r, out * in, 0.08f), DType.BF16);
            dx = gpu.upload(x, DType.BF16);
            dw = gpu.upload(w, DType.BF16);
            want = reference(x, w, maxRows, out, in);
        }

        /** Runs v on the first {@code rows} rows and checks them; the row after them must stay unwritten. */
        void check(ClusterGemm.Variant v, int rows, String what) {
            DeviceBuffer y = gpu.poisoned((long) (rows + 1) * out, DType.BF16);
            gemm.run(v, y.address(), dx.address(), dw.address(), rows, out, in);
            float[] got = gpu.download(y, (rows + 1) * out, DType.BF16);
            assertElementsClose(Arrays.copyOf(want, rows * out), Arrays.copyOf(got, rows * out), 1.0 / 128, v + ", " + what);
            for (int i = rows * out; i < got.length; i++) {
                assertTrue(Float.isNaN(got[i]), v + ", " + what + ": row " + rows + " was written");
            }
        }
    }

    @Test
    void everyCompiledVariantMatchesTheReference() {
        // out 200: no width (96 to 256) divides it; in 832 = 13 K steps: 3/3/3/4 over 4 blocks, 1-2 over 8
        Inputs c = new Inputs(200, 832, 320, 5);
        for (ClusterGemm.Variant v : ClusterGemmTest.compiledVariants()) {
            int bm = v.blockRows();
            // one row past a 64-row slice; the whole block; a second row block of 5 rows (none past MAX_ROWS)
            for (int rows : new int[] {bm - 63, bm, bm + 5}) {
                if (rows <= ClusterGemm.MAX_ROWS) {
                    c.check(v, rows, rows + " rows");
                }
            }
        }
    }

    @Test
    void blocksWithoutKStepsAddZeros() {
        // in 192 = 3 K steps over clusters of 4 and 8: some blocks get none and must contribute zero partials
        Inputs c = new Inputs(96, 192, 70, 3);
        for (int s : ClusterGemm.SPLITS) {
            c.check(new ClusterGemm.Variant(128, 96, s), 70, "3 K steps");
        }
    }

    @Test
    void theRaceKeepsWhatMatchesCublasOnTheEngineShapes() throws Exception {
        // Qwen2-1.5B's QKV, o_proj and down_proj, two layers each, at decode batch buckets
        int[][] shapes = {{2048, 1536}, {1536, 1536}, {1536, 8960}};
        Random r = new Random(9);
        try (Cublas blas = new Cublas(gpu.stream, null, gemm)) {
            for (int[] s : shapes) {
                int out = s[0];
                int in = s[1];
                long[] layers = new long[2];
                for (int l = 0; l < 2; l++) {
                    layers[l] = gpu.upload(round(random(r, out * in, 0.05f), DType.BF16), DType.BF16).address();
                }
                for (int rows : new int[] {8, 96, 200, 256}) {
                    DeviceBuffer dx = gpu.upload(round(random(r, rows * in, 1f), DType.BF16), DType.BF16);
                    DeviceBuffer y = gpu.poisoned((long) rows * out, DType.BF16);
                    DeviceBuffer ref = gpu.poisoned((long) rows * out, DType.BF16);
                    GemmPlans.Tuning t = blas.tune(y.address(), dx.address(), layers, rows, out, in, DType.BF16, false, 2);
                    assertFalse(t.chosen().isEmpty());
                    y = gpu.poisoned((long) rows * out, DType.BF16);
                    blas.linear(y.address(), dx.address(), layers[1], rows, out, in, DType.BF16, false);
                    blas.defaultLinear(ref.address(), dx.address(), layers[1], rows, out, in, DType.BF16, false);
                    // two bf16 roundings of float32 sums in different orders: two steps apart at most
                    assertElementsClose(gpu.download(ref, rows * out, DType.BF16), gpu.download(y, rows * out, DType.BF16),
                            2.0 / 128, out + " x " + in + " at " + rows + " rows (" + t.chosen() + ")");
                }
            }
        }
    }

    @Test
    void eachEngineShapeRunsEveryCandidateLikeCublas() {
        // the race keeps one candidate a shape; this runs all of them, so a variant that only sometimes wins is tested
        Random r = new Random(13);
        try (Cublas blas = new Cublas(gpu.stream, null, null)) {
            for (int[] s : new int[][] {{2048, 1536}, {1536, 8960}}) {
                int out = s[0];
                int in = s[1];
                DeviceBuffer dw = gpu.upload(round(random(r, out * in, 0.05f), DType.BF16), DType.BF16);
                for (int rows : new int[] {1, 64, 130, 256}) {
                    DeviceBuffer dx = gpu.upload(round(random(r, rows * in, 1f), DType.BF16), DType.BF16);
                    DeviceBuffer ref = gpu.poisoned((long) rows * out, DType.BF16);
                    blas.defaultLinear(ref.address(), dx.address(), dw.address(), rows, out, in, DType.BF16, false);
                    float[] want = gpu.download(ref, rows * out, DType.BF16);
                    for (ClusterGemm.Variant v : ClusterGemm.candidates(rows, out, in, DType.BF16,
                            gpu.device.multiprocessors())) {
                        DeviceBuffer y = gpu.poisoned((long) rows * out, DType.BF16);
                        gemm.run(v, y.address(), dx.address(), dw.address(), rows, out, in);
                        assertElementsClose(want, gpu.download(y, rows * out, DType.BF16), 2.0 / 128,
                                out + " x " + in + " at " + rows + " rows, " + v);
                    }
                }
            }
        }
    }
}
