package dev.ember.backend.cpu;

import java.nio.ByteBuffer;

/**
 * The plain-Java {@link Kernels}, used when the JVM runs without the Vector API module. The tile loop runs two
 * input rows against four weight rows (eight scalar accumulators the JIT keeps in registers).
 */
final class ScalarKernels implements Kernels {
    @Override
    public String description() {
        return "scalar kernels";
    }

    @Override
    public boolean bf16Native() {
        return false;
    }

    @Override
    public float[] packBf16Input(float[] x, int rows, int k) {
        throw new UnsupportedOperationException("the scalar kernels convert bf16 tiles to float");
    }

    @Override
    public void bf16Tile(float[] out, int outStride, int outOffset, float[] xPacked, int k, int r0, int r1, int[] w,
                         int n) {
        throw new UnsupportedOperationException("the scalar kernels convert bf16 tiles to float");
    }

    @Override
    public void floatTile(float[] out, int outStride, int outOffset, float[] x, int k, int r0, int r1, float[] w,
                          int n) {
        for (int j = 0; j < n; j += WEIGHT_ROWS) {
            int w0 = j * k;
            int w1 = w0 + k;
            int w2 = w1 + k;
            int w3 = w2 + k;
            int m = Math.min(WEIGHT_ROWS, n - j);
            int r = r0;
            for (; r + 1 < r1; r += 2) {
                int x0 = r * k;
                int x1 = x0 + k;
                float s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
                for (int i = 0; i < k; i++) {
                    float a = x[x0 + i];
                    float c = x[x1 + i];
                    float v0 = w[w0 + i];
                    float v1 = w[w1 + i];
                    float v2 = w[w2 + i];
                    float v3 = w[w3 + i];
                    s00 += a * v0;
                    s01 += a * v1;
                    s02 += a * v2;
                    s03 += a * v3;
                    s10 += c * v0;
                    s11 += c * v1;
                    s12 += c * v2;
                    s13 += c * v3;
                }
                store(out, r * outStride + outOffset + j, m, s00, s01, s02, s03);
                store(out, (r + 1) * outStride + outOffset + j, m, s10, s11, s12, s13);
            }
            if (r < r1) {
                int x0 = r * k;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int i = 0; i < k; i++) {
                    float a = x[x0 + i];
                    s0 += a * w[w0 + i];
                    s1 += a * w[w1 + i];
                    s2 += a * w[w2 + i];
                    s3 += a * w[w3 + i];
                }
                store(out, r * outStride + outOffset + j, m, s0, s1, s2, s3);
            }
        }
    }

    /** Writes the first {@code m} of four sums (the others belong to padding rows). */
    static void store(float[] out, int at, int m, float s0, float s1, float s2, float s3) {
        out[at] = s0;
        if (m > 1) {
            out[at + 1] = s1;
        }
        if (m > 2) {
            out[at + 2] = s2;
        }
        if (m > 3) {
            out[at + 3] = s3;
        }
    }

    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    @Override
    public void axpy(float[] y, int yOffset, float alpha, float[] x, int xOffset, int n) {
        for (int i = 0; i < n; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    @Override
    public void siluMul(float[] out, float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    @Override
    public void splitBf16(float[] x, int xOffset, short[] parts, int hiAt, int n) {
        splitBf16(x, xOffset, parts, hiAt, n, n);
    }

    /** {@link #splitBf16} of {@code count} elements whose parts lie {@code stride} apart (a row's tail). */
    static void splitBf16(float[] x, int xOffset, short[] parts, int hiAt, int count, int stride) {
        for (int i = 0; i < count; i++) {
            float v = x[xOffset + i];
            int h = roundToBf16(Float.floatToRawIntBits(v));
            float rest = v - Float.intBitsToFloat(h);
            int m = roundToBf16(Float.floatToRawIntBits(rest));
            int l = roundToBf16(Float.floatToRawIntBits(rest - Float.intBitsToFloat(m)));
            parts[hiAt + i] = (short) (h >>> 16);
            parts[hiAt + stride + i] = (short) (m >>> 16);
            parts[hiAt + 2 * stride + i] = (short) (l >>> 16);
        }
    }

    /**
     * Float bits rounded to bf16, ties to even, low half cleared (as {@link dev.ember.weights.DType#floatToBf16}
     * without its NaN test: a non-finite input makes non-finite products either way).
     */
    static int roundToBf16(int bits) {
        return (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
    }

    @Override
    public void sumParts(ByteBuffer products, int at, int n, float[] bias, float[] y, int yOffset) {
        sumParts(products, at, n, 0, bias, y, yOffset);
    }

    /** {@link #sumParts} of outputs {@code [from, n)} only (a row's tail). */
    static void sumParts(ByteBuffer products, int at, int n, int from, float[] bias, float[] y, int yOffset) {
        for (int j = from; j < n; j++) {
            int b = at + 4 * j;
            float v = (products.getFloat(b + 8 * n) + products.getFloat(b + 4 * n)) + products.getFloat(b);
            y[yOffset + j] = bias == null ? v : v + bias[j];
        }
    }
}
