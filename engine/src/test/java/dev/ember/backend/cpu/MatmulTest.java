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
        int in = 2048; // 64 rows of float32 inputs per 512 KiB block: 150 rows make three row blocks
        TensorView a = TinyModels.tensor("a", DType.BF16, new long[] {21, in}, gaussian(21 * in));
        TensorView b = TinyModels.tensor("b", DType.F32, new long[] {5, in}, gaussian(5 * in));
        TensorView bias = TinyModels.tensor("bias", DType.F32, new long[] {5}, gaussian(5));
        for (int rows : new int[] {1, 3, 40, 150}) {
            float[] x = gaussian(rows * in);
            double[][] wantA = reference(x, a, null, rows, in);
            double[][] wantB = reference(x, b, bias, rows, in);
            for (Kernels kernels : TestKernels.all()) {
                for (ForkJoinPool pool : new ForkJoinPool[] {POOL, null}) {
                    float[] outA = new float[rows * 21];
                    float[] outB = new float[rows * 5];
                    Matmul.runAll(kernels, x, rows, pool, new Matmul.Job(outA, a, null), new Matmul.Job(outB, b, bias));
                    String what = kernels.description() + ", " + rows + " rows, " + (pool == null ? "caller" : "pool");
                    check(outA, wantA, what + ": a");
                    check(outB, wantB, what + ": b");
                }
            }
        }
    }

    /** (2, rows * outFeatures): the double-precision result, and the sum of its terms' magnitudes. */
    private static double[][] reference(float[] x, TensorView w, TensorView bias, int rows, int in) {
        int outF = (int) w.shape()[0];
        float[] weights = w.toFloats();
        double[][] want = new double[2][rows * outF];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outF; o++) {
                double sum = bias == null ? 0 : bias.get(o);
                double magnitude = Math.abs(sum);
                for (int i = 0; i < in; i++) {
                    double term = (double) x[r * in + i] * weights[o * in + i];
                    sum += term;
                    magnitude += Math.abs(term);
                }
                want[0][r * outF + o] = sum;
                want[1][r * outF + o] = magnitude;
            }
        }
        return want;
    }

    private static void check(float[] out, double[][] want, String what) {
        for (int i = 0; i < out.length; i++) {
            // float32 sums of 2,048 terms in any order stay within a few ulps of the terms' magnitudes; a wrong
            // tile, row or bias would be off by whole terms
            assertEquals(want[0][i], out[i], 1e-6 * want[1][i], what + ", output " + i);
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
