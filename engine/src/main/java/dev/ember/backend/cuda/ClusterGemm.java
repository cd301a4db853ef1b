package dev.ember.backend.cuda;

import dev.ember.weights.DType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Launcher of gemm_cluster_wgmma.cu (the sm_90a image): decode-shaped GEMMs, row-major {@code y (rows, out) = x (rows,
 * in) · w (out, in)ᵀ} in bf16 as {@link Cublas#linear}, with K split over the blocks of a thread-block cluster and the
 * partial sums added in shared memory. Meant for the narrow projections (QKV, o_proj, down_proj) at up to
 * {@value #MAX_ROWS} rows, where one block a tile leaves most SMs idle. Like {@link SkinnyGemm} it is a candidate of
 * {@link GemmPlans}' race at engine start, kept for a shape only where it times faster than cuBLASLt's choice.
 * On an H100 it wins only down_proj (K 8,960) at up to 64 rows, by 4-6 %; from 128 rows cuBLAS is faster on every
 * shape (the split's partials and the short K slices cost more than the idle SMs did: docs/BENCHMARKS.md, eighteenth
 * round). {@code -D}{@value #PROPERTY}{@code =false} leaves it out of the race.
 *
 * <p>A variant: BM token rows a block ({@link TmaPipeline#blockRows}: the rows rounded up to 64, 128, 192 or 256), BN
 * output features a tile, S blocks a cluster splitting K. The TMA descriptors are made once and kept
 * ({@link TensorMaps.Cache}).
 * Stateless on the GPU; not thread-safe.
 */
final class ClusterGemm {
    static final String PROPERTY = "ember.cuda.clusterGemm";
    static final int MAX_ROWS = 256;
    /** Tile widths compiled (256 only where {@link TmaPipeline#holds} it). */
    static final int[] WIDTHS = {96, 128, 192, 256};
    /** Blocks a cluster (portable cluster sizes: at most 8). */
    static final int[] SPLITS = {4, 8};
    /** Variants a shape offers the race, the least bytes a block first (engine start pays for each). */
    static final int MAX_CANDIDATES = 4;
    private static final int K_STEP = TensorMaps.BOX_COLS;

    /** One compiled kernel: BM rows x BN features a block, S blocks a cluster. */
    record Variant(int blockRows, int width, int split) {
        @Override
        public String toString() {
            return "cluster " + blockRows + "x" + width + " s" + split;
        }
    }

    private final KernelModule module;
    private final CudaStream stream;
    private final int multiprocessors;
    private final TensorMaps.Cache maps = new TensorMaps.Cache();
    private final Set<String> prepared = new HashSet<>();

    /** @param module the sm_90a image */
    ClusterGemm(KernelModule module, CudaStream stream, int multiprocessors) {
        this.module = module;
        this.stream = stream;
        this.multiprocessors = multiprocessors;
    }

    /**
     * Whether {@value #PROPERTY} enters the kernels in the race (default true); a value other
     * than true/false fails naming it.
     */
    static boolean enabled() {
        return Switches.read(PROPERTY, true);
    }

    /** Whether some variant computes this shape: bf16, 1 to {@value #MAX_ROWS} rows, K in 64s, outputs in 8s. */
    static boolean supports(int rows, int out, int in, DType dtype) {
        return dtype == DType.BF16 && rows >= 1 && rows <= MAX_ROWS && in > 0 && in % K_STEP == 0 && out > 0
                && out % 8 == 0;
    }

    /** Whether gemm_cluster_wgmma.cu has an entry point for this variant. */
    static boolean compiled(Variant v) {
        return TmaPipeline.holds(v.blockRows, v.width) && Arrays.stream(WIDTHS).anyMatch(w -> w == v.width)
                && Arrays.stream(SPLITS).anyMatch(s -> s == v.split);
    }

    /**
     * The variants worth timing for a shape: the rows' block height, every width and split whose blocks fit the SMs
     * in one wave (a cluster waits for all of its blocks, so a second wave doubles the call) and give each block at
     * least two K steps; the {@value #MAX_CANDIDATES} whose blocks stream the fewest bytes (their x and weight
     * slices), since the slowest block ends the call. Empty when {@link #supports} is false.
     */
    static List<Variant> candidates(int rows, int out, int in, DType dtype, int multiprocessors) {
        List<Variant> out16 = new ArrayList<>();
        if (!supports(rows, out, in, dtype)) {
            return out16;
        }
        int bm = TmaPipeline.blockRows(rows);
        for (int width : WIDTHS) {
            for (int split : SPLITS) {
                Variant v = new Variant(bm, width, split);
                if (compiled(v) && blocks(v, rows, out) <= multiprocessors && in / K_STEP >= 2 * split) {
                    out16.add(v);
                }
            }
        }
        out16.sort(Comparator.comparingLong(v -> blockBytes(v, in)));
        return List.copyOf(out16.subList(0, Math.min(MAX_CANDIDATES, out16.size())));
    }

    /** Blocks a call launches: feature tiles x split x row blocks. */
    static long blocks(Variant v, int rows, int out) {
        return (long) ceilDiv(out, v.width) * v.split * ceilDiv(rows, v.blockRows);
    }

    /** Bytes one block streams: its x and weight tiles over its share of K. */
    static long blockBytes(Variant v, int in) {
        return 2L * (v.blockRows + v.width) * ceilDiv(in, v.split);
    }

    /** gemm_cluster_wgmma.cu's smem_bytes: 1 KiB of alignment, the ring or the partials (the larger), mbarriers. */
    static int sharedBytes(Variant v) {
        int stages = TmaPipeline.stages(v.blockRows, v.width);
        int partials = v.blockRows * (v.width + 8) * Float.BYTES;
        return 1024 + Math.max(stages * TmaPipeline.stageBytes(v.blockRows, v.width), partials) + 16 * stages;
    }

    static String kernel(Variant v) {
        return "gemm_cluster_bm" + v.blockRows + "_bn" + v.width + "_s" + v.split + "_bf16";
    }

    /** Enqueues y (rows x out) = x (rows x in) · w (out x in)ᵀ, all bf16, with variant {@code v}. */
    void run(Variant v, long y, long x, long w, int rows, int out, int in) {
        if (!supports(rows, out, in, DType.BF16) || !compiled(v)) {
            throw new IllegalArgumentException("gemm_cluster " + v + " cannot run " + rows + "x" + in + " · " + out + "x"
                    + in + "ᵀ");
        }
        if (((y | x | w) & 15) != 0) {  // TMA needs x and w aligned; the kernel's 8-byte stores need y at least that
            throw new IllegalArgumentException("gemm_cluster needs 16-byte aligned operands; got y 0x" + Long.toHexString(y)
                    + ", x 0x" + Long.toHexString(x) + ", w 0x" + Long.toHexString(w));
        }
        String name = kernel(v);
        int shared = sharedBytes(v);
        if (prepared.add(name)) {
            module.allowDynamicSharedMemory(name, shared);
        }
        module.launch(name, ceilDiv(out, v.width) * v.split, ceilDiv(rows, v.blockRows), 1,
                TmaPipeline.threads(v.blockRows), shared, stream, maps.bf16(x, rows, in, v.blockRows),
                maps.bf16(w, out, in, v.width), y, rows, out, in);
    }

    int multiprocessors() {
        return multiprocessors;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
