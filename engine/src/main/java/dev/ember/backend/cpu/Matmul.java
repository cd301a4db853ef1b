package dev.ember.backend.cpu;

import dev.ember.weights.TensorView;

import java.util.concurrent.ForkJoinPool;

/**
 * {@code y = x W^T (+ b)} with W read through its {@link TensorView}. Work is cut into tiles of output
 * features (and, when there are too few feature tiles to feed the workers, also of input rows). A tile converts
 * four weight rows at a time into a small float scratch and runs them against its input rows two at a time
 * (eight scalar accumulators the JIT keeps in registers; this measured about twice as fast here as a
 * vectorized axpy formulation whose accumulators live in memory).
 */
final class Matmul {
    private static final int WEIGHT_ROWS = 4;
    /** Output features per tile at least, so small matrices are not split into slivers. */
    private static final int MIN_FEATURES_PER_TILE = 64;
    /** Input rows per tile at least when rows are split too. */
    private static final int MIN_ROWS_PER_TILE = 8;

    private Matmul() {
    }

    static void run(float[] out, float[] x, TensorView weight, TensorView bias, int rows, ForkJoinPool pool) {
        long[] shape = weight.shape();
        if (shape.length != 2) {
            throw new IllegalArgumentException("matmul weight '" + weight.name() + "' must be 2-D (out, in); shape has "
                    + shape.length + " dimensions");
        }
        int outFeatures = Math.toIntExact(shape[0]);
        int inFeatures = Math.toIntExact(shape[1]);
        if ((long) rows * inFeatures > x.length || (long) rows * outFeatures > out.length) {
            throw new IllegalArgumentException("matmul with '" + weight.name() + "' (" + outFeatures + " x " + inFeatures
                    + ") over " + rows + " rows needs x of " + (long) rows * inFeatures + " and out of "
                    + (long) rows * outFeatures + " floats; got " + x.length + " and " + out.length);
        }
        if (bias != null && bias.numElements() != outFeatures) {
            throw new IllegalArgumentException("bias '" + bias.name() + "' has " + bias.numElements()
                    + " elements; expected " + outFeatures + " to match '" + weight.name() + "'");
        }
        if (rows == 0) {
            return;
        }
        TensorRows w = new TensorRows(weight);
        float[] b = bias == null ? null : TensorRows.toFloats(bias);
        int workers = pool == null ? 1 : pool.getParallelism();
        int featureTiles = Math.max(1, Math.min(outFeatures / MIN_FEATURES_PER_TILE, workers * 4));
        int rowTiles = Math.max(1, Math.min(workers * 4 / featureTiles, rows / MIN_ROWS_PER_TILE));
        Parallel.forRange(pool, featureTiles * rowTiles, 1, (first, last) -> {
            for (int tile = first; tile < last; tile++) {
                int f = tile / rowTiles;
                int r = tile % rowTiles;
                tile(out, x, w, b, inFeatures, outFeatures,
                        (int) ((long) rows * r / rowTiles), (int) ((long) rows * (r + 1) / rowTiles),
                        (int) ((long) outFeatures * f / featureTiles), (int) ((long) outFeatures * (f + 1) / featureTiles));
            }
        });
    }

    /** Output features {@code [start, end)} of rows {@code [rowStart, rowEnd)}. */
    private static void tile(float[] out, float[] x, TensorRows w, float[] b, int in, int outF,
                             int rowStart, int rowEnd, int start, int end) {
        float[] wBlock = new float[WEIGHT_ROWS * in];
        short[] scratch = new short[WEIGHT_ROWS * in];
        for (int o = start; o < end; o += WEIGHT_ROWS) {
            int n = Math.min(WEIGHT_ROWS, end - o);
            w.read((long) o * in, n * in, wBlock, 0, scratch);
            if (n < WEIGHT_ROWS) {
                java.util.Arrays.fill(wBlock, n * in, wBlock.length, 0f);
            }
            int r = rowStart;
            for (; r + 1 < rowEnd; r += 2) {
                int r1 = r + 1;
                int x0 = r * in;
                int x1 = r1 * in;
                float s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
                for (int i = 0; i < in; i++) {
                    float a = x[x0 + i];
                    float c = x[x1 + i];
                    float w0 = wBlock[i];
                    float w1 = wBlock[in + i];
                    float w2 = wBlock[2 * in + i];
                    float w3 = wBlock[3 * in + i];
                    s00 += a * w0;
                    s01 += a * w1;
                    s02 += a * w2;
                    s03 += a * w3;
                    s10 += c * w0;
                    s11 += c * w1;
                    s12 += c * w2;
                    s13 += c * w3;
                }
                store(out, b, r * outF, o, n, s00, s01, s02, s03);
                store(out, b, r1 * outF, o, n, s10, s11, s12, s13);
            }
            if (r < rowEnd) {
                lastRow(out, x, wBlock, b, r, in, outF, o, n);
            }
        }
    }

    /** The odd row left over (every row of a single-token decode) against the current weight block. */
    private static void lastRow(float[] out, float[] x, float[] wBlock, float[] b, int r, int in, int outF, int o, int n) {
        int x0 = r * in;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int i = 0; i < in; i++) {
            float a = x[x0 + i];
            s0 += a * wBlock[i];
            s1 += a * wBlock[in + i];
            s2 += a * wBlock[2 * in + i];
            s3 += a * wBlock[3 * in + i];
        }
        store(out, b, r * outF, o, n, s0, s1, s2, s3);
    }

    private static void store(float[] out, float[] b, int rowBase, int o, int n, float s0, float s1, float s2, float s3) {
        float[] s = {s0, s1, s2, s3};
        for (int j = 0; j < n; j++) {
            out[rowBase + o + j] = b == null ? s[j] : s[j] + b[o + j];
        }
    }
}
