package dev.ember.sampling;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FloatMathTest {
    /** Distance in units in the last place between a float and the exact (double) value rounded to float. */
    private static long ulps(float got, double exact) {
        float want = (float) exact;
        return Math.abs((long) Float.floatToRawIntBits(got) - Float.floatToRawIntBits(want));
    }

    @Test
    void expIsWithinTwoUlpsOverItsWholeRange() {
        SplittableRandom r = new SplittableRandom(7);
        long worst = 0;
        for (int k = 0; k < 2_000_000; k++) {
            float x = (float) (r.nextDouble() * (88.7 + 87.3) - 87.3);
            worst = Math.max(worst, ulps(FloatMath.exp(x), Math.exp(x)));
        }
        // the softmax's range: x - max in [-30, 0]
        for (float x = -30f; x <= 0f; x += 1e-4f) {
            worst = Math.max(worst, ulps(FloatMath.exp(x), Math.exp(x)));
        }
        assertTrue(worst <= 2, "exp is off by " + worst + " ulps");
    }

    @Test
    void logIsWithinTwoUlpsFromSubnormalsToTheLargestFloat() {
        SplittableRandom r = new SplittableRandom(11);
        long worst = 0;
        for (int k = 0; k < 2_000_000; k++) {
            float x = Float.intBitsToFloat(1 + r.nextInt(0x7f7fffff));  // every positive finite float, log-uniform
            double exact = Math.log(x);
            // near x = 1 the result is tiny: compare in ulps of the result
            worst = Math.max(worst, ulps(FloatMath.log(x), exact));
        }
        // the Gumbel draw's inputs: u in (0, 1) on Philox's 2^-23 grid, and e = -log(u) in (0, 16.7]
        for (int k = 0; k < (1 << 23); k += 7) {
            float u = (k + 0.5f) * 0x1p-23f;
            worst = Math.max(worst, ulps(FloatMath.log(u), Math.log(u)));
            float e = -FloatMath.log(u);
            worst = Math.max(worst, ulps(FloatMath.log(e), Math.log(e)));
        }
        assertTrue(worst <= 2, "log is off by " + worst + " ulps");
    }

    /** Every float from MASSLESS_BELOW down to where exp gives 0: its mass is 0, so sums may skip it. */
    @Test
    void expBelowTheMasslessBoundHasNoMass() {
        for (int bits = Float.floatToRawIntBits(Math.nextDown(FloatMath.MASSLESS_BELOW));
             bits <= Float.floatToRawIntBits(-88f); bits++) {
            float x = Float.intBitsToFloat(bits);
            assertEquals(0L, FloatMath.mass(FloatMath.exp(x)), "x = " + x);
        }
        assertTrue(FloatMath.mass(FloatMath.exp(FloatMath.MASSLESS_BELOW + 1f)) > 0, "the bound is not loose by 1");
    }

    @Test
    void specialValues() {
        assertEquals(1f, FloatMath.exp(0f));
        assertEquals(0f, FloatMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, FloatMath.exp(-100f));
        assertEquals(Float.POSITIVE_INFINITY, FloatMath.exp(89f));
        assertTrue(Float.isNaN(FloatMath.exp(Float.NaN)));
        assertEquals(0f, FloatMath.log(1f));
        assertEquals(Float.NEGATIVE_INFINITY, FloatMath.log(0f));
        assertEquals(Float.POSITIVE_INFINITY, FloatMath.log(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(FloatMath.log(-1f)));
        assertTrue(Float.isNaN(FloatMath.log(Float.NaN)));
    }

    @Test
    void massesAreTruncatedFixedPointWhoseSumsDoNotDependOnOrder() {
        assertEquals(1L << 40, FloatMath.mass(1f));
        assertEquals(1L << 39, FloatMath.mass(0.5f));
        assertEquals(0L, FloatMath.mass(0x1p-41f));
        SplittableRandom r = new SplittableRandom(3);
        float[] v = new float[100_000];
        for (int i = 0; i < v.length; i++) {
            v[i] = FloatMath.exp((float) (-30 * r.nextDouble()));
        }
        long forward = 0;
        long backward = 0;
        double exact = 0;
        for (int i = 0; i < v.length; i++) {
            forward += FloatMath.mass(v[i]);
            backward += FloatMath.mass(v[v.length - 1 - i]);
            exact += v[i];
        }
        assertEquals(forward, backward);
        // truncation loses less than one unit a term
        assertEquals(exact, forward / (double) FloatMath.MASS_ONE, v.length / (double) FloatMath.MASS_ONE);
    }
}
