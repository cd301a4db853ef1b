package dev.ember.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** The small vector primitives of both kernel implementations against double-precision loops. */
class KernelsTest {
    private final Random random = new Random(5);

    @Test
    void theBuildRunsTestsOnTheVectorApiKernels() {
        // surefire's argLine passes --add-modules jdk.incubator.vector (pom.xml ember.vectorModule); without it every
        // SIMD test here would silently test the scalar path twice
        assertInstanceOf(VectorKernels.class, Simd.KERNELS, "Simd chose " + Simd.describe());
    }

    @Test
    void dotAndAxpyMatchDoublePrecisionAtEveryLengthAndOffset() {
        for (Kernels kernels : TestKernels.all()) {
            for (int n = 0; n <= 70; n++) {
                float[] a = gaussian(n + 3);
                float[] b = gaussian(n + 5);
                double expected = 0;
                for (int i = 0; i < n; i++) {
                    expected += (double) a[3 + i] * b[5 + i];
                }
                assertEquals(expected, kernels.dot(a, 3, b, 5, n), 1e-5 * Math.max(1, Math.abs(expected)),
                        kernels.description() + " dot n=" + n);
                float[] y = gaussian(n + 2);
                float[] before = y.clone();
                kernels.axpy(y, 2, 0.75f, b, 5, n);
                assertEquals(before[0], y[0]);
                assertEquals(before[1], y[1]);
                for (int i = 0; i < n; i++) {
                    assertEquals(before[2 + i] + 0.75 * b[5 + i], y[2 + i], 1e-6, kernels.description() + " axpy " + i);
                }
            }
        }
    }

    @Test
    void siluMulMatchesItsDefinitionOverARange() {
        for (Kernels kernels : TestKernels.all()) {
            float[] gate = gaussian(53);
            gate[7] = 30;
            gate[8] = -30;
            float[] up = gaussian(53);
            float[] out = new float[53];
            kernels.siluMul(out, gate, up, 2, 50);
            for (int i = 0; i < 53; i++) {
                double expected = i < 2 || i >= 50 ? 0 : gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                assertEquals(expected, out[i], 1e-6 * Math.max(1, Math.abs(expected)), kernels.description() + " " + i);
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
