package dev.ember.weights;

import dev.ember.ModelFormatException;

/** Element types Ember reads from checkpoints, by their safetensors names. */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int sizeBytes;

    DType(int sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    public int sizeBytes() {
        return sizeBytes;
    }

    public static DType fromSafetensors(String name, String tensor, String file) {
        return switch (name) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            default -> throw new ModelFormatException("tensor '" + tensor + "' in " + file + " has dtype " + name
                    + "; supported: F32, F16, BF16");
        };
    }

    /** bfloat16 bits to float: the high half of an IEEE float. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float to bfloat16 bits, rounding to nearest even (as torch does). */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /**
     * float to IEEE half bits, rounding to nearest even; overflow gives infinity, tiny values go through the
     * half subnormals to zero (Float.floatToFloat16 exists only from Java 20).
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            // keep NaN a NaN even when its payload lives only in the low mantissa bits
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int halfExp = exp - 127 + 15;
        if (halfExp >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (halfExp <= 0) {
            // half subnormal: value = m * 2^-24 with m = significand >> (126 - exp)
            int shift = 126 - exp;
            if (shift > 24) {
                return (short) sign;
            }
            int significand = mant | 0x800000;
            int m = significand >>> shift;
            int rest = significand & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (m & 1) == 1)) {
                m++; // may carry into the smallest normal, which is the right answer
            }
            return (short) (sign | m);
        }
        int h = (halfExp << 10) | (mant >>> 13);
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1)) {
            h++; // a carry out of the mantissa bumps the exponent, up to infinity
        }
        return (short) (sign | h);
    }

    /** IEEE half bits to float (Float.float16ToFloat exists only from Java 20). */
    public static float f16ToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 5.9604645e-8f; // subnormal: mant * 2^-24
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
