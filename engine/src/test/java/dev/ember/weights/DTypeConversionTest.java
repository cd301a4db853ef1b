package dev.ember.weights;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks float to bf16/f16 rounding against a nearest-value search done in double precision. */
class DTypeConversionTest {
    /** All finite non-negative half values in increasing order (bit patterns 0x0000..0x7bff), plus +inf. */
    private static final double[] HALVES = new double[0x7c01];

    static {
        for (int h = 0; h <= 0x7c00; h++) {
            HALVES[h] = DType.f16ToFloat((short) h);
        }
    }

    /** Nearest representable value; ties to the even bit pattern; beyond max+half-ulp to infinity (IEEE). */
    private static short referenceF16(float f) {
        double v = Math.abs((double) f);
        int sign = (Float.floatToRawIntBits(f) >>> 16) & 0x8000;
        // the overflow threshold is max + half an ulp (65504 + 16): a tie there rounds to infinity (even)
        if (v >= 65520.0) {
            return (short) (sign | 0x7c00);
        }
        int idx = Arrays.binarySearch(HALVES, 0, 0x7c00, v);
        if (idx >= 0) {
            return (short) (sign | idx);
        }
        int upper = -idx - 1;
        int lower = upper - 1;
        double dl = v - HALVES[lower];
        double du = HALVES[upper] - v;
        int pick = dl < du ? lower : du < dl ? upper : (lower % 2 == 0 ? lower : upper);
        return (short) (sign | pick);
    }

    /** The bf16 neighbours of f are its truncation and the next value up in magnitude. */
    private static short referenceBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int lowerBits = bits & 0xffff0000;
        int upperBits = lowerBits + 0x10000;
        double v = f;
        double dl = Math.abs(v - Float.intBitsToFloat(lowerBits));
        double du = Math.abs(Float.intBitsToFloat(upperBits) - v);
        int pick = dl < du ? lowerBits : du < dl ? upperBits : ((lowerBits >>> 16) % 2 == 0 ? lowerBits : upperBits);
        return (short) (pick >>> 16);
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals(Float.floatToRawIntBits(1.0f) >>> 16, DType.floatToBf16(1.00390625f) & 0xffff); // 1 + 2^-8: tie, even is down
        assertEquals(DType.floatToBf16(1.015625f), DType.floatToBf16(1.01171875f)); // 1 + 3*2^-8: tie, even is up
        assertEquals(1.0078125f, DType.bf16ToFloat(DType.floatToBf16(1.0078125f))); // exactly representable
        assertEquals(1.0078125f, DType.bf16ToFloat(DType.floatToBf16(1.005f))); // above the tie: up
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt() & 0x7f7fffff | (r.nextBoolean() ? 0x80000000 : 0));
            if (Math.abs(f) > 3.3e38f) {
                continue; // the upper neighbour would be infinity; covered by the reference's own limits
            }
            assertEquals(referenceBf16(f), DType.floatToBf16(f), "value " + f);
        }
        // ties constructed exactly: low 16 bits = 0x8000
        for (int i = 0; i < 10_000; i++) {
            int bits = (r.nextInt() & 0x7effffff & 0xffff0000) | 0x8000;
            float f = Float.intBitsToFloat(bits);
            assertEquals(referenceBf16(f), DType.floatToBf16(f), "tie " + f);
        }
        assertTrue(Float.isNaN(DType.bf16ToFloat(DType.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, DType.bf16ToFloat(DType.floatToBf16(Float.POSITIVE_INFINITY)));
    }

    @Test
    void f16RoundTripsEveryHalfValue() {
        for (int h = 0; h < 0x10000; h++) {
            float f = DType.f16ToFloat((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(DType.f16ToFloat(DType.floatToF16(f))), "NaN " + h);
            } else {
                assertEquals(h, DType.floatToF16(f) & 0xffff, "half bits " + Integer.toHexString(h));
            }
        }
    }

    @Test
    void f16RoundsToNearestEvenIncludingSubnormalsAndOverflow() {
        assertEquals(0x3c00, DType.floatToF16(1.0f + 0x1p-11f) & 0xffff); // tie below 1+2^-10: even is 1.0
        assertEquals(0x3c02, DType.floatToF16(1.0f + 3 * 0x1p-11f) & 0xffff); // tie: even is up
        assertEquals(0x0001, DType.floatToF16(0x1p-24f) & 0xffff); // smallest subnormal
        assertEquals(0x0000, DType.floatToF16(0x1p-25f) & 0xffff); // tie with zero: even is zero
        assertEquals(0x0001, DType.floatToF16(0x1.8p-25f) & 0xffff); // above the tie
        assertEquals(0x0400, DType.floatToF16(0x1.ffcp-15f) & 0xffff); // rounds up into the smallest normal
        assertEquals(0x7bff, DType.floatToF16(65504f) & 0xffff);
        assertEquals(0x7bff, DType.floatToF16(65519.99f) & 0xffff);
        assertEquals(0x7c00, DType.floatToF16(65520f) & 0xffff); // tie at the top rounds to infinity
        assertEquals(0xfc00, DType.floatToF16(-1e10f) & 0xffff);
        assertEquals(0x8000, DType.floatToF16(-0.0f) & 0xffff);
        assertEquals(0x8000, DType.floatToF16(-1e-30f) & 0xffff);
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 200_000; i++) {
            // exponents around the half range, where all the cases live
            float f = (float) ((r.nextBoolean() ? 1 : -1) * r.nextDouble(1, 2) * Math.pow(2, r.nextInt(-28, 17)));
            assertEquals(referenceF16(f), DType.floatToF16(f), "value " + f);
        }
    }
}
