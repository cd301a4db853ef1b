package dev.ember.backend.cuda;

import dev.ember.weights.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * Launcher of gemm_skinny.cu: tensor-core GEMMs for decode batches of at most {@value #MAX_ROWS} rows, row-major
 * {@code y (rows, out) = x (rows, in) · w (out, in)ᵀ} as {@link Cublas#linear}. A shape may run one of several
 * variants (output features per CTA, warps splitting {@code in}); none is always faster than cuBLAS, so
 * {@link GemmPlans} times them beside cuBLASLt's candidates at engine start and keeps whichever wins. Holds no
 * memory of its own. Not thread-safe.
 */
final class SkinnyGemm {
    static final int MAX_ROWS = 64;
    /** Static shared memory every GPU gives a block without opting in: bounds the warps' partial sums. */
    private static final int SHARED_LIMIT = 48 * 1024;

    /**
     * One compiled variant: {@code mTiles} x 16 output features a CTA, {@code nTiles} x 8 token rows, {@code warps}
     * warps splitting the inner dimension.
     */
    record Variant(int mTiles, int nTiles, int warps) {
        int sharedBytes() {
            return warps * mTiles * 16 * nTiles * 8 * Float.BYTES;
        }

        @Override
        public String toString() {
            return "skinny " + mTiles * 16 + "x" + nTiles * 8 + " " + warps + "w";
        }
    }

    private final KernelModule module;
    private final CudaStream stream;

    SkinnyGemm(KernelModule module, CudaStream stream) {
        this.module = module;
        this.stream = stream;
    }

    /** Whether some variant runs this shape: 16-bit types, at most {@value #MAX_ROWS} rows, aligned dimensions. */
    static boolean supports(int rows, int out, int in, DType dtype) {
        return dtype != DType.F32 && rows >= 1 && rows <= MAX_ROWS && in % 32 == 0 && out % 16 == 0;
    }

    /** The variants worth timing for this shape (empty when {@link #supports} is false). */
    static List<Variant> candidates(int rows, int out, int in, DType dtype) {
        List<Variant> out16 = new ArrayList<>();
        if (!supports(rows, out, in, dtype)) {
            return out16;
        }
        int nTiles = nTiles(rows);
        for (int mTiles : new int[] {1, 2}) {
            if (out % (16 * mTiles) != 0) {
                continue;
            }
            for (int warps : new int[] {4, 8, 16}) {
                Variant v = new Variant(mTiles, nTiles, warps);
                if (warps <= maxWarps(mTiles, nTiles) && v.sharedBytes() <= SHARED_LIMIT) {
                    out16.add(v);
                }
            }
        }
        return out16;
    }

    /** The most warps a variant's kernel was compiled for (gemm_skinny.cu's EMBER_SKINNY_THREADS). */
    static int maxWarps(int mTiles, int nTiles) {
        return mTiles * nTiles <= 4 ? 16 : 8;
    }

    /** Token tiles of 8 rows a variant needs for {@code rows}: 1, 2, 4 or 8. */
    static int nTiles(int rows) {
        int tiles = (rows + 7) / 8;
        return tiles <= 1 ? 1 : tiles <= 2 ? 2 : tiles <= 4 ? 4 : 8;
    }

    void run(Variant v, long y, long x, long w, int rows, int out, int in, DType dtype, boolean floatOut) {
        if (!supports(rows, out, in, dtype) || v.nTiles < nTiles(rows) || out % (16 * v.mTiles) != 0
                || v.warps > maxWarps(v.mTiles, v.nTiles)) {
            throw new IllegalArgumentException("gemm_skinny " + v + " cannot run " + rows + "x" + in + " · " + out + "x"
                    + in + "ᵀ (" + dtype + ")");
        }
        String name = "gemm_skinny_" + Kernels.suffix(dtype) + (floatOut ? "_f32out" : "") + "_m" + v.mTiles + "_n"
                + v.nTiles;
        module.launch(name, out / (16 * v.mTiles), 1, 1, 32 * v.warps, v.sharedBytes(), stream, y, x, w, rows, out, in);
    }
}
