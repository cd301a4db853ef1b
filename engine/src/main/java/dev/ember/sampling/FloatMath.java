package dev.ember.sampling;

/**
 * The float32 {@code exp} and {@code log} of the samplers, and the fixed-point sums they use, written with IEEE
 * float adds, multiplies and divides only (each correctly rounded, never fused), so the CPU {@link Sampler} and
 * the CUDA sampling kernel ({@code ember_exp} / {@code ember_log} in sampling.cu, the same steps in the same order)
 * get the same bits for every input — which the libraries' exp and log do not promise. Float32 keeps the
 * per-vocabulary loops off double-precision units (1/64 rate on consumer GPUs such as the RTX 3090). Both are
 * accurate to about 1 ulp: exp by Cody-Waite reduction to |r| <= ln2/2 and a degree-7 Taylor polynomial, log by
 * reduction to [sqrt(1/2), sqrt(2)) and the atanh series of s = f / (2 + f) to s^9.
 *
 * <p>Sums of probabilities are taken in fixed point ({@link #MASS_ONE} units of 2^-40): integer sums are exact
 * and do not depend on the order the terms are added, so a sum over a block of GPU threads equals the CPU's loop.
 */
public final class FloatMath {
    /** Fixed-point unit of probability masses and softmax sums: a value v in [0, 1] is {@code (long) (v * 2^40)}. */
    public static final float MASS_ONE = 0x1p40f;
    /**
     * {@code mass(exp(x)) == 0} for every {@code x} below this: {@code e^-28 = 6.9e-13} is under one unit, 2^-40 =
     * 9.1e-13, so a sum of masses may skip those terms and stay bit for bit the same.
     */
    public static final float MASSLESS_BELOW = -28f;

    private static final float LOG2E = 1.44269502f;
    private static final float LN2_HI = 0.693359375f;  // few mantissa bits: n * LN2_HI is exact for |n| < 2^10
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float LN2 = 0.693147182f;
    private static final float SQRT2 = 1.41421354f;

    private FloatMath() {
    }

    /** e^x in float32; 0 below the smallest normal result (x < -87.33), +inf above 88.72; NaN stays NaN. */
    public static float exp(float x) {
        if (x != x) {
            return x;
        }
        if (x < -87.33f) {
            return 0f;
        }
        if (x > 88.72f) {
            return Float.POSITIVE_INFINITY;
        }
        float n = (float) Math.floor(x * LOG2E + 0.5f);
        float r = (x - n * LN2_HI) - n * LN2_LO;
        float p = 1f + r * (1f + r * (0.5f + r * (1.66666672e-1f + r * (4.16666679e-2f + r * (8.33333377e-3f
                + r * (1.38888892e-3f + r * 1.98412701e-4f))))));
        int e = (int) n;
        if (e > 127) {  // x above 88.03: 2^128 is not a float, so carry one factor 2 in p (exact)
            p = p * 2f;
            e = 127;
        }
        // 2^n is a normal float for n in [-126, 127]; x >= -87.33 keeps n >= -126
        return p * Float.intBitsToFloat((e + 127) << 23);
    }

    /** Natural log in float32: -inf at 0, NaN below 0 or at NaN, +inf at +inf. */
    public static float log(float x) {
        if (!(x > 0f)) {
            return x == 0f ? Float.NEGATIVE_INFINITY : Float.NaN;
        }
        if (x == Float.POSITIVE_INFINITY) {
            return x;
        }
        int bits = Float.floatToRawIntBits(x);
        int e = 0;
        if (bits < 0x00800000) {  // subnormal: scale into the normal range first (exact)
            x = x * 0x1p23f;
            bits = Float.floatToRawIntBits(x);
            e = -23;
        }
        e += (bits >>> 23) - 127;
        float m = Float.intBitsToFloat((bits & 0x007fffff) | 0x3f800000);
        if (m > SQRT2) {
            m = m * 0.5f;
            e++;
        }
        float f = m - 1f;  // exact (Sterbenz)
        float s = f / (2f + f);
        float s2 = s * s;
        float series = s2 * (6.66666687e-1f + s2 * (4.00000006e-1f + s2 * (2.85714298e-1f + s2 * 2.22222224e-1f)));
        // log(1 + f) = 2 atanh(s) = 2s + s * series = f - f^2/2 + ..., taken as f - s * (f - series)
        float logm = f - s * (f - series);
        return e * LN2 + logm;
    }

    /** {@code v} in [0, 1] (a probability or a softmax term) as a fixed-point mass: truncated to 2^-40 units. */
    public static long mass(float v) {
        return (long) (v * MASS_ONE);
    }
}
