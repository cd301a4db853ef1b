package dev.ember.backend.cpu;

import dev.ember.weights.DType;
import dev.ember.weights.TensorView;

import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * {@code y = x W^T (+ b)} over all input rows of a step at once, for one or several weights that share the input
 * (q/k/v, gate/up), in one fork-join round. Weights stay in the checkpoint's dtype: a task copies a tile of
 * {@link #TILE_ROWS} weight rows out of the (memory-mapped) tensor into its worker's {@link Scratch} (bf16 as
 * raw bits for the SIMD kernels, else converted to float), then runs a block of input rows against it in
 * inner blocks that stay in the L2 cache. A decode step reads each weight byte from memory once; a long prefill step
 * copies each tile once per row block of {@link #X_BLOCK_BYTES} (from L3 after the first), which costs far less than
 * streaming all its input rows from L3 for every tile.
 *
 * <p>Work is cut into tiles of output features times row blocks, ordered row block by row block; rows are cut
 * finer when there are too few feature tiles to feed the workers (small projections over a long prefill). Tasks
 * are sized by FMAs or, at few rows, by the weight bytes they stream.
 */
final class Matmul {
    /** Weight rows per tile: a multiple of {@link Kernels#WEIGHT_ROWS}. */
    static final int TILE_ROWS = 16;
    /** Input rows per tile at least when rows are split too. */
    private static final int MIN_ROWS_PER_TILE = 8;
    /** Work one task should have at least (about 20 microseconds of vector FMAs). */
    private static final long MIN_FLOPS_PER_TASK = 2_000_000;
    /** Weight bytes one task should stream at least (about 25 microseconds at one core's ~11 GB/s). */
    private static final long MIN_BYTES_PER_TASK = 256 << 10;
    /**
     * Bytes of input rows one row tile may take (a quarter of this machine's 2 MiB L2, half of many others'):
     * measured 16-19 % less CPU than streaming all 1,024 rows of a prefill step per tile (docs/BENCHMARKS.md).
     */
    private static final int X_BLOCK_BYTES = 512 << 10;
    /** Bytes of input rows one inner block may take, so they stay in L2 next to the weight tile. */
    private static final int ROW_BLOCK_BYTES = 192 << 10;

    /** One weight of a {@link #runAll} call: {@code out} (rows, outFeatures) receives {@code x W^T + bias}. */
    record Job(float[] out, TensorView weight, TensorView bias) {
    }

    private Matmul() {
    }

    static void run(float[] out, float[] x, TensorView weight, TensorView bias, int rows, ForkJoinPool pool) {
        runAll(Simd.KERNELS, x, rows, pool, new Job(out, weight, bias));
    }

    /**
     * Checks jobs that share the input {@code x} (rows, in): 2-D weights of one input width, {@code x} and every
     * output long enough, biases of the weights' output width. Both matmul paths ({@link #runAll},
     * {@link OneDnnGemm#runAll}) start here.
     *
     * @return the shared input width
     */
    static int checkJobs(float[] x, int rows, Job... jobs) {
        int inFeatures = -1;
        for (Job job : jobs) {
            TensorView weight = job.weight;
            long[] shape = weight.shape();
            if (shape.length != 2) {
                throw new IllegalArgumentException("matmul weight '" + weight.name() + "' must be 2-D (out, in); shape has "
                        + shape.length + " dimensions");
            }
            int outF = Math.toIntExact(shape[0]);
            int in = Math.toIntExact(shape[1]);
            if (inFeatures >= 0 && in != inFeatures) {
                throw new IllegalArgumentException("matmul weights sharing one input must have the same input width; '"
                        + weight.name() + "' has " + in + ", '" + jobs[0].weight.name() + "' has " + inFeatures);
            }
            inFeatures = in;
            if ((long) rows * in > x.length || (long) rows * outF > job.out.length) {
                throw new IllegalArgumentException("matmul with '" + weight.name() + "' (" + outF + " x " + in
                        + ") over " + rows + " rows needs x of " + (long) rows * in + " and out of "
                        + (long) rows * outF + " floats; got " + x.length + " and " + job.out.length);
            }
            if (job.bias != null && job.bias.numElements() != outF) {
                throw new IllegalArgumentException("bias '" + job.bias.name() + "' has " + job.bias.numElements()
                        + " elements; expected " + outF + " to match '" + weight.name() + "'");
            }
        }
        return inFeatures;
    }

    /** Several weights over the same input {@code x} (rows, inFeatures); every weight has inFeatures columns. */
    static void runAll(Kernels kernels, float[] x, int rows, ForkJoinPool pool, Job... jobs) {
        int inFeatures = checkJobs(x, rows, jobs);
        Plan[] plans = new Plan[jobs.length];
        boolean anyPacked = false;
        for (int i = 0; i < jobs.length; i++) {
            plans[i] = new Plan(jobs[i], kernels);
            anyPacked |= plans[i].bf16Native;
        }
        if (rows == 0) {
            return;
        }
        float[] packed = anyPacked ? kernels.packBf16Input(x, rows, inFeatures) : null;
        int[] firstTile = new int[jobs.length + 1];
        for (int i = 0; i < jobs.length; i++) {
            firstTile[i + 1] = firstTile[i] + (plans[i].outF + TILE_ROWS - 1) / TILE_ROWS;
        }
        int featureTiles = firstTile[jobs.length];
        long weights = (long) inFeatures * featureTiles * TILE_ROWS;
        long flops = 2L * rows * weights;
        // no more tasks than the work pays for: waking a parked worker costs tens of microseconds, far more on a
        // loaded machine, which small models (the demo, the tests) would otherwise pay on every matmul. The work is
        // the FMAs, or at few rows the weight bytes streamed from memory (a decode of one sequence reads q/k/v's
        // 2 MB in about 200 microseconds on one core, with only 2 MFLOPs to do)
        long work = Math.max(flops / MIN_FLOPS_PER_TASK, weights * 2 / MIN_BYTES_PER_TASK);
        int tasks = (int) Math.max(1, Math.min(Parallel.workers(pool) * 4L, work));
        // input rows are cut for the workers when there are too few feature tiles, and into blocks that stay in L2
        // (X_BLOCK_BYTES): tiles go row block by row block, so a task meets its feature tiles with one block of
        // inputs in cache rather than streaming a long prefill's inputs from L3 again for every tile
        int cacheRows = Math.max(MIN_ROWS_PER_TILE, X_BLOCK_BYTES / (4 * inFeatures));
        int rowTiles = Math.max(Math.min((tasks + featureTiles - 1) / featureTiles, rows / MIN_ROWS_PER_TILE),
                (rows + cacheRows - 1) / cacheRows);
        int rowBlock = Math.max(4, Math.min(rows, ROW_BLOCK_BYTES / (4 * inFeatures)) & ~3);
        int numTiles = featureTiles * rowTiles;
        Parallel.forRange(pool, numTiles, (numTiles + tasks - 1) / tasks, (first, last) -> {
            Scratch scratch = Scratch.current();
            for (int tile = first; tile < last; tile++) {
                int r = tile / featureTiles;
                int f = tile % featureTiles;
                int job = 0;
                while (f >= firstTile[job + 1]) {
                    job++;
                }
                Plan p = plans[job];
                int o0 = (f - firstTile[job]) * TILE_ROWS;
                p.tile(kernels, scratch, p.bf16Native ? packed : x, (int) ((long) rows * r / rowTiles),
                        (int) ((long) rows * (r + 1) / rowTiles), o0, Math.min(o0 + TILE_ROWS, p.outF), rowBlock);
            }
        });
    }

    /** One checked weight's shape and how its tiles are read. */
    private static final class Plan {
        final float[] out;
        final int outF;
        final int in;
        final boolean bf16Native;
        final TensorRows rows;
        final boolean sixteenBit;
        final IntBuffer bits;
        final float[] bias;

        /** A job {@link #checkJobs} has passed. */
        Plan(Job job, Kernels kernels) {
            TensorView weight = job.weight;
            this.outF = Math.toIntExact(weight.shape()[0]);
            this.in = Math.toIntExact(weight.shape()[1]);
            this.out = job.out;
            // bf16 pairs are read as ints only when rows start on an int boundary (an even row length)
            // (and only for a tensor in one mapped chunk; a tensor over TensorView.CHUNK_BYTES goes through TensorRows)
            this.bf16Native = kernels.bf16Native() && weight.dtype() == DType.BF16 && in % 2 == 0 && weight.numChunks() == 1;
            this.bits = bf16Native ? weight.bytes().asIntBuffer() : null;
            this.rows = bf16Native ? null : new TensorRows(weight);
            this.sixteenBit = weight.dtype() != DType.F32;
            this.bias = job.bias == null ? null : TensorRows.toFloats(job.bias);
        }

        /** Output features {@code [o0, o1)} of input rows {@code [r0, r1)}. */
        void tile(Kernels kernels, Scratch scratch, float[] x, int r0, int r1, int o0, int o1, int rowBlock) {
            int n = o1 - o0;
            int padded = (n + Kernels.WEIGHT_ROWS - 1) / Kernels.WEIGHT_ROWS * Kernels.WEIGHT_ROWS;
            if (bf16Native) {
                int k2 = in / 2;
                int[] w = scratch.ints(padded * k2);
                bits.get(o0 * k2, w, 0, n * k2);
                Arrays.fill(w, n * k2, padded * k2, 0);
                for (int r = r0; r < r1; r += rowBlock) {
                    kernels.bf16Tile(out, outF, o0, x, in, r, Math.min(r + rowBlock, r1), w, n);
                }
            } else {
                float[] w = scratch.floats(padded * in);
                rows.read((long) o0 * in, n * in, w, 0, sixteenBit ? scratch.shorts(n * in) : null);
                Arrays.fill(w, n * in, padded * in, 0f);
                for (int r = r0; r < r1; r += rowBlock) {
                    kernels.floatTile(out, outF, o0, x, in, r, Math.min(r + rowBlock, r1), w, n);
                }
            }
            if (bias != null) {
                for (int r = r0; r < r1; r++) {
                    for (int j = 0; j < n; j++) {
                        out[r * outF + o0 + j] += bias[o0 + j];
                    }
                }
            }
        }
    }
}
