package dev.ember.backend.cpu;

import dev.ember.weights.DType;
import dev.ember.weights.TensorView;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Matmul} against double-precision dot products at the shapes where its work is cut several ways: partial
 * feature tiles, several weights in one round, bias, and input rows split into row blocks that fit L2 (a wide input
 * over many rows, as a long prefill of a real model), on two workers and on the caller.
 */
class MatmulTest {
    private static final ForkJoinPool POOL = new ForkJoinPool(2, p -> {
        Scratch.Worker w = new Scratch.Worker(p);
        w.setDaemon(true);
        return w;
    }, null, false);
    private final Random random = new Random(17);

    @AfterAll
    static void stopPool() {
        POOL.shutdownNow();
    }

    @Test
    void everyCutOfTheWorkGivesTheDotProducts() {
        int in = 2048; // 64 rows of float32 inputs per 512 KiB block: 200 rows make four row blocks
        for (Kernels kernels : TestKernels.all()) {
            for (int rows : new int[] {1, 3, 40, 200}) {
                for (ForkJoinPool pool : new ForkJoinPool[] {POOL, null}) {
                    float[] x = gaussian(rows * in);
                    TensorView a = TinyModels.tensor("a", DType.BF16, new long[] {70, in}, gaussian(70 * in));
                    TensorView b = TinyModels.tensor("b", DType.F32, new long[] {37, in}, gaussian(37 * in));
                    TensorView bias = TinyModels.tensor("bias", DType.F32, new long[] {37}, gaussian(37));
                    float[] outA = new float[rows * 70];
                    float[] outB = new float[rows * 37];
                    Matmul.runAll(kernels, x, rows, pool, new Matmul.Job(outA, a, null), new Matmul.Job(outB, b, bias));
                    String what = kernels.description() + ", " + rows + " rows, " + (pool == null ? "caller" : "pool");
                    check(outA, x, a, null, rows, in, what);
                    check(outB, x, b, bias, rows, in, what);
                }
            }
        }
    }

    private static void check(float[] out, float[] x, TensorView w, TensorView bias, int rows, int in, String what) {
        int outF = (int) w.shape()[0];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outF; o++) {
                double expected = bias == null ? 0 : bias.get(o);
                double magnitude = Math.abs(expected);
                for (int i = 0; i < in; i++) {
                    double term = (double) x[r * in + i] * w.get((long) o * in + i);
                    expected += term;
                    magnitude += Math.abs(term);
                }
                // float32 sums of 2,048 terms in any order stay within a few ulps of the terms' magnitudes; a wrong
                // tile, row or bias would be off by whole terms
                assertEquals(expected, out[r * outF + o], 1e-6 * magnitude,
                        what + ": " + w.name() + " row " + r + " feature " + o);
            }
        }
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
