package dev.ember.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@link Kernels} on Java's Vector API at the CPU's widest float vector ({@code L} lanes: 16 with AVX-512, 8 with
 * AVX2). Only loaded when the {@code jdk.incubator.vector} module is present (see {@link Simd}).
 *
 * <p>bf16 weights are widened in registers: an int lane holds two bf16 values, so {@code bits << 16} is the
 * even element as a float and {@code bits & 0xffff0000} the odd one. The input is reordered once per matmul to
 * match ({@link #packBf16Input}: per chunk of {@code 2L} elements, the {@code L} even ones then the {@code L} odd
 * ones), so a chunk costs one int load, two bit operations and two FMAs per weight row, with no shuffles. The
 * micro-kernel runs two input rows against four weight rows: eight accumulators, eight widened weight vectors
 * and two input vectors stay in registers (a four-by-four variant spilled and measured slower with JDK 17's C2).
 */
final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Shorts with as many lanes as {@link #I}: the bf16 halves of an int vector, narrowed. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final int HIGH_HALF = 0xffff0000;

    VectorKernels() {
        if (I.length() != L) {
            throw new IllegalStateException("float and int vectors differ in lanes: " + F + " vs " + I);
        }
    }

    @Override
    public String description() {
        return "Vector API kernels, " + L + " float lanes";
    }

    @Override
    public boolean bf16Native() {
        return true;
    }

    @Override
    public float[] packBf16Input(float[] x, int rows, int k) {
        float[] packed = new float[rows * k];
        int full = k / (2 * L) * (2 * L);
        for (int r = 0; r < rows; r++) {
            int base = r * k;
            for (int c = 0; c < full; c += 2 * L) {
                for (int i = 0; i < L; i++) {
                    packed[base + c + i] = x[base + c + 2 * i];
                    packed[base + c + L + i] = x[base + c + 2 * i + 1];
                }
            }
            System.arraycopy(x, base + full, packed, base + full, k - full);
        }
        return packed;
    }

    @Override
    public void bf16Tile(float[] out, int outStride, int outOffset, float[] xp, int k, int r0, int r1, int[] w, int n) {
        int k2 = k / 2;
        int vecInts = k2 / L * L;
        for (int j = 0; j < n; j += WEIGHT_ROWS) {
            int m = Math.min(WEIGHT_ROWS, n - j);
            int w0 = j * k2;
            int r = r0;
            for (; r + 2 <= r1; r += 2) {
                bf16Block2x4(out, r * outStride + outOffset + j, outStride, m, xp, r * k, k, w, w0, k2, vecInts);
            }
            for (; r < r1; r++) {
                bf16Block1x4(out, r * outStride + outOffset + j, m, xp, r * k, w, w0, k2, vecInts);
            }
        }
    }

    private static void bf16Block2x4(float[] out, int at, int outStride, int m, float[] xp, int x0, int k, int[] w,
                                     int w0, int k2, int vecInts) {
        int x1 = x0 + k;
        int w1 = w0 + k2;
        int w2 = w1 + k2;
        int w3 = w2 + k2;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int c = 0; c < vecInts; c += L) {
            IntVector b0 = IntVector.fromArray(I, w, w0 + c);
            IntVector b1 = IntVector.fromArray(I, w, w1 + c);
            IntVector b2 = IntVector.fromArray(I, w, w2 + c);
            IntVector b3 = IntVector.fromArray(I, w, w3 + c);
            FloatVector e0 = even(b0), o0 = odd(b0);
            FloatVector e1 = even(b1), o1 = odd(b1);
            FloatVector e2 = even(b2), o2 = odd(b2);
            FloatVector e3 = even(b3), o3 = odd(b3);
            int xc = 2 * c;
            FloatVector xe = FloatVector.fromArray(F, xp, x0 + xc);
            FloatVector xo = FloatVector.fromArray(F, xp, x0 + xc + L);
            a00 = o0.fma(xo, e0.fma(xe, a00));
            a01 = o1.fma(xo, e1.fma(xe, a01));
            a02 = o2.fma(xo, e2.fma(xe, a02));
            a03 = o3.fma(xo, e3.fma(xe, a03));
            xe = FloatVector.fromArray(F, xp, x1 + xc);
            xo = FloatVector.fromArray(F, xp, x1 + xc + L);
            a10 = o0.fma(xo, e0.fma(xe, a10));
            a11 = o1.fma(xo, e1.fma(xe, a11));
            a12 = o2.fma(xo, e2.fma(xe, a12));
            a13 = o3.fma(xo, e3.fma(xe, a13));
        }
        ScalarKernels.store(out, at, m, sum(a00, xp, x0, w, w0, vecInts, k2), sum(a01, xp, x0, w, w1, vecInts, k2),
                sum(a02, xp, x0, w, w2, vecInts, k2), sum(a03, xp, x0, w, w3, vecInts, k2));
        at += outStride;
        ScalarKernels.store(out, at, m, sum(a10, xp, x1, w, w0, vecInts, k2), sum(a11, xp, x1, w, w1, vecInts, k2),
                sum(a12, xp, x1, w, w2, vecInts, k2), sum(a13, xp, x1, w, w3, vecInts, k2));
    }

    /** One input row against four weight rows; even and odd halves in separate accumulators for more FMAs in flight. */
    private static void bf16Block1x4(float[] out, int at, int m, float[] xp, int x0, int[] w, int w0, int k2,
                                     int vecInts) {
        int w1 = w0 + k2;
        int w2 = w1 + k2;
        int w3 = w2 + k2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        for (int c = 0; c < vecInts; c += L) {
            FloatVector xe = FloatVector.fromArray(F, xp, x0 + 2 * c);
            FloatVector xo = FloatVector.fromArray(F, xp, x0 + 2 * c + L);
            IntVector b0 = IntVector.fromArray(I, w, w0 + c);
            IntVector b1 = IntVector.fromArray(I, w, w1 + c);
            IntVector b2 = IntVector.fromArray(I, w, w2 + c);
            IntVector b3 = IntVector.fromArray(I, w, w3 + c);
            a0 = even(b0).fma(xe, a0);
            c0 = odd(b0).fma(xo, c0);
            a1 = even(b1).fma(xe, a1);
            c1 = odd(b1).fma(xo, c1);
            a2 = even(b2).fma(xe, a2);
            c2 = odd(b2).fma(xo, c2);
            a3 = even(b3).fma(xe, a3);
            c3 = odd(b3).fma(xo, c3);
        }
        ScalarKernels.store(out, at, m, sum(a0.add(c0), xp, x0, w, w0, vecInts, k2),
                sum(a1.add(c1), xp, x0, w, w1, vecInts, k2), sum(a2.add(c2), xp, x0, w, w2, vecInts, k2),
                sum(a3.add(c3), xp, x0, w, w3, vecInts, k2));
    }

    private static FloatVector even(IntVector bits) {
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector odd(IntVector bits) {
        return bits.lanewise(VectorOperators.AND, HIGH_HALF).reinterpretAsFloats();
    }

    /** The accumulator's lanes plus the scalar tail: ints {@code [vecInts, k2)} against x in natural order. */
    private static float sum(FloatVector acc, float[] xp, int x0, int[] w, int wRow, int vecInts, int k2) {
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (int i = vecInts; i < k2; i++) {
            int bits = w[wRow + i];
            s += Float.intBitsToFloat(bits << 16) * xp[x0 + 2 * i] + Float.intBitsToFloat(bits & HIGH_HALF) * xp[x0 + 2 * i + 1];
        }
        return s;
    }

    @Override
    public void floatTile(float[] out, int outStride, int outOffset, float[] x, int k, int r0, int r1, float[] w, int n) {
        int vec = k / L * L;
        for (int j = 0; j < n; j += WEIGHT_ROWS) {
            int m = Math.min(WEIGHT_ROWS, n - j);
            int w0 = j * k;
            int w1 = w0 + k;
            int w2 = w1 + k;
            int w3 = w2 + k;
            int r = r0;
            for (; r + 2 <= r1; r += 2) {
                int x0 = r * k;
                int x1 = x0 + k;
                FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
                FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
                for (int i = 0; i < vec; i += L) {
                    FloatVector v0 = FloatVector.fromArray(F, w, w0 + i);
                    FloatVector v1 = FloatVector.fromArray(F, w, w1 + i);
                    FloatVector v2 = FloatVector.fromArray(F, w, w2 + i);
                    FloatVector v3 = FloatVector.fromArray(F, w, w3 + i);
                    FloatVector xa = FloatVector.fromArray(F, x, x0 + i);
                    FloatVector xb = FloatVector.fromArray(F, x, x1 + i);
                    a00 = v0.fma(xa, a00);
                    a01 = v1.fma(xa, a01);
                    a02 = v2.fma(xa, a02);
                    a03 = v3.fma(xa, a03);
                    a10 = v0.fma(xb, a10);
                    a11 = v1.fma(xb, a11);
                    a12 = v2.fma(xb, a12);
                    a13 = v3.fma(xb, a13);
                }
                int at = r * outStride + outOffset + j;
                ScalarKernels.store(out, at, m, fsum(a00, x, x0, w, w0, vec, k), fsum(a01, x, x0, w, w1, vec, k),
                        fsum(a02, x, x0, w, w2, vec, k), fsum(a03, x, x0, w, w3, vec, k));
                ScalarKernels.store(out, at + outStride, m, fsum(a10, x, x1, w, w0, vec, k),
                        fsum(a11, x, x1, w, w1, vec, k), fsum(a12, x, x1, w, w2, vec, k), fsum(a13, x, x1, w, w3, vec, k));
            }
            if (r < r1) {
                int x0 = r * k;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int i = 0; i < vec; i += L) {
                    FloatVector xa = FloatVector.fromArray(F, x, x0 + i);
                    a0 = FloatVector.fromArray(F, w, w0 + i).fma(xa, a0);
                    a1 = FloatVector.fromArray(F, w, w1 + i).fma(xa, a1);
                    a2 = FloatVector.fromArray(F, w, w2 + i).fma(xa, a2);
                    a3 = FloatVector.fromArray(F, w, w3 + i).fma(xa, a3);
                }
                ScalarKernels.store(out, r * outStride + outOffset + j, m, fsum(a0, x, x0, w, w0, vec, k),
                        fsum(a1, x, x0, w, w1, vec, k), fsum(a2, x, x0, w, w2, vec, k), fsum(a3, x, x0, w, w3, vec, k));
            }
        }
    }

    private static float fsum(FloatVector acc, float[] x, int x0, float[] w, int wRow, int vec, int k) {
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (int i = vec; i < k; i++) {
            s += x[x0 + i] * w[wRow + i];
        }
        return s;
    }

    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int vec = n / L * L;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < vec; i += L) {
            acc = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (int i = vec; i < n; i++) {
            s += a[aOffset + i] * b[bOffset + i];
        }
        return s;
    }

    @Override
    public void axpy(float[] y, int yOffset, float alpha, float[] x, int xOffset, int n) {
        int vec = n / L * L;
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (int i = 0; i < vec; i += L) {
            FloatVector.fromArray(F, x, xOffset + i).fma(a, FloatVector.fromArray(F, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (int i = vec; i < n; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    @Override
    public void siluMul(float[] out, float[] gate, float[] up, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector e = g.neg().lanewise(VectorOperators.EXP).add(1f);
            g.div(e).mul(FloatVector.fromArray(F, up, i)).intoArray(out, i);
        }
        for (; i < to; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    @Override
    public void splitBf16(float[] x, int xOffset, short[] parts, int hiAt, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            IntVector h = roundToBf16(v.reinterpretAsInts());
            FloatVector rest = v.sub(h.reinterpretAsFloats());
            IntVector m = roundToBf16(rest.reinterpretAsInts());
            IntVector l = roundToBf16(rest.sub(m.reinterpretAsFloats()).reinterpretAsInts());
            highHalves(h).intoArray(parts, hiAt + i);
            highHalves(m).intoArray(parts, hiAt + n + i);
            highHalves(l).intoArray(parts, hiAt + 2 * n + i);
        }
        ScalarKernels.splitBf16(x, xOffset + i, parts, hiAt + i, n - i, n);
    }

    private static IntVector roundToBf16(IntVector bits) {
        IntVector odd = bits.lanewise(VectorOperators.LSHR, 16).and(1);
        return bits.add(0x7fff).add(odd).and(HIGH_HALF);
    }

    private static ShortVector highHalves(IntVector bits) {
        return (ShortVector) bits.lanewise(VectorOperators.LSHR, 16).convertShape(VectorOperators.I2S, S, 0);
    }

    @Override
    public void sumParts(ByteBuffer products, int at, int n, float[] bias, float[] y, int yOffset) {
        ByteOrder order = products.order();
        int j = 0;
        for (; j + L <= n; j += L) {
            int b = at + 4 * j;
            FloatVector v = FloatVector.fromByteBuffer(F, products, b + 8 * n, order)
                    .add(FloatVector.fromByteBuffer(F, products, b + 4 * n, order))
                    .add(FloatVector.fromByteBuffer(F, products, b, order));
            if (bias != null) {
                v = v.add(FloatVector.fromArray(F, bias, j));
            }
            v.intoArray(y, yOffset + j);
        }
        ScalarKernels.sumParts(products, at, n, j, bias, y, yOffset);
    }
}
