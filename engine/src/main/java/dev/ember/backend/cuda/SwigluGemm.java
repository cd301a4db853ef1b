package dev.ember.backend.cuda;

import dev.ember.weights.DType;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;


/**
 * The MLP's gate/up projection with SwiGLU in its epilogue on Hopper (gemm_swiglu_wgmma.cu, in the sm_90a image):
 * one kernel in place of cuBLAS's GEMM into (rows, 2 x inter) and silu_mul. The kernel runs 1 to {@value #MAX_ROWS}
 * rows ({@link #supports}); the engine routes the steps of {@value #MIN_ENGINE_ROWS} to {@value #MAX_ENGINE_ROWS}
 * rows through it ({@link #covers}), where it beat the engine's tuned cuBLAS GEMM + silu_mul in a decode graph
 * (StepProfile, H100, Qwen2-1.5B: 128 rows 3.335 -> 3.223 ms a step, 192 rows 4.022 -> 3.776 ms); at 32 rows (2.261 ->
 * 2.301 ms) and 256 (4.528 -> 4.610 ms) the tuned path was faster, and from 1,024 rows (prefill chunks) cuBLAS's GEMM
 * alone is (gemm_swiglu_bench). {@code -D}{@value #PROPERTY}{@code =false} turns it off.
 *
 * <p>The kernel reads its operands through TMA descriptors (CUtensorMap, 128 bytes, passed by value), each made once
 * ({@link TensorMaps.Cache}): one per layer's gate/up weight and tile width, one per activation buffer, rows and block
 * height. The tile: BM token rows ({@link TmaPipeline#blockRows}: the rows rounded up to 64, 128, 192 or 256) by BN weight
 * rows, BN / 2 gate and BN / 2 up ({@link #tileWidth}: the width whose blocks leave each SM the least work).
 *
 * <p>Multicast ({@code -D}{@value #MULTICAST_PROPERTY}{@code =2|4}, default {@value #DEFAULT_MULTICAST}): the blocks of
 * a row block all read the same x tile (BM x hidden) from L2, one copy per feature tile: at 256 rows that is 125 x
 * 786 KB = 98 MB for Qwen2-1.5B, more than the 55 MB weight the call is bound by. With MC > 1, clusters of MC
 * neighbouring feature tiles each load BM / MC rows of the x tile and multicast them (TMA) into every block of the
 * cluster, so x crosses from L2 MC times less often; a block frees a ring stage only when the consumers of all MC blocks
 * are done with it. Compiled for block heights 128-256 (MC 2) and 256 (MC 4); elsewhere the kernel runs without.
 * Stateless on the GPU (the descriptors live in host memory and in each launch's parameters); not thread-safe.
 */
final class SwigluGemm {
    static final String PROPERTY = "ember.cuda.fusedSwiglu";
    static final String MULTICAST_PROPERTY = "ember.cuda.swigluMulticast";
    /** Blocks a cluster sharing the x tile by multicast: 1 (none), 2 or 4. */
    static final int[] MULTICASTS = {1, 2, 4};
    static final int DEFAULT_MULTICAST = 1;
    static final int MAX_ROWS = 256;
    static final int MIN_ENGINE_ROWS = 65;
    static final int MAX_ENGINE_ROWS = 192;
    /** {@code -D}{@value}{@code =256}: route 193-256-row steps through the kernel too (an A/B switch; default 192). */
    static final String MAX_ROWS_PROPERTY = "ember.cuda.fusedSwigluMaxRows";
    /** Tile widths compiled (256 only where {@link TmaPipeline#holds} it). */
    static final int[] WIDTHS = {48, 64, 96, 128, 144, 192, 256};
    private static final int K_STEP = TensorMaps.BOX_COLS;

    private final KernelModule module;
    private final CudaStream stream;
    private final int multiprocessors;
    private final int hidden;
    private final int inter;
    private final long[] weights;
    private final int multicast;
    private final int maxEngineRows;
    private final TensorMaps.Cache maps = new TensorMaps.Cache();
    private final Set<String> prepared = new HashSet<>();

    /**
     * @param module  the sm_90a image
     * @param weights each layer's fused [gate | up] weight (2 inter x hidden, bf16, row-major)
     * @throws IllegalArgumentException for a shape the kernel cannot run, or a {@value #MULTICAST_PROPERTY} other than
     *                                  1, 2 or 4
     */
    SwigluGemm(KernelModule module, CudaStream stream, int multiprocessors, int hidden, int inter, long[] weights) {
        if (!shapeFits(hidden, inter)) {
            throw new IllegalArgumentException("gemm_swiglu needs hidden % 64 == 0 and inter % 8 == 0; got hidden "
                    + hidden + ", inter " + inter);
        }
        this.module = module;
        this.stream = stream;
        this.multiprocessors = multiprocessors;
        this.hidden = hidden;
        this.inter = inter;
        this.weights = weights.clone();
        this.multicast = multicast();
        this.maxEngineRows = Switches.read(MAX_ROWS_PROPERTY, MAX_ENGINE_ROWS, MAX_ENGINE_ROWS, MAX_ROWS);
    }

    /** {@value #MULTICAST_PROPERTY}: 1, 2 or 4 (default {@value #DEFAULT_MULTICAST}); another value fails naming it. */
    static int multicast() {
        return Switches.read(MULTICAST_PROPERTY, DEFAULT_MULTICAST, MULTICASTS);
    }

    /** Whether {@value #PROPERTY} allows the kernel (default true); a value other than true/false fails naming it. */
    static boolean enabled() {
        return Switches.read(PROPERTY, true);
    }

    /** Whether the kernel computes this model's MLP: bfloat16, K a whole number of 64-wide steps, features in 8s. */
    static boolean handles(DType dtype, int hidden, int inter) {
        return dtype == DType.BF16 && shapeFits(hidden, inter);
    }

    private static boolean shapeFits(int hidden, int inter) {
        return hidden > 0 && hidden % K_STEP == 0 && inter > 0 && inter % 8 == 0;
    }

    /** Whether the kernel runs {@code rows} token rows. */
    static boolean supports(int rows) {
        return rows >= 1 && rows <= MAX_ROWS;
    }

    /** Whether the engine sends a step of {@code rows} token rows through the fused kernel (block heights 128, 192). */
    static boolean covers(int rows) {
        return rows >= MIN_ENGINE_ROWS && rows <= MAX_ENGINE_ROWS;
    }

    /** {@link #covers(int)} up to {@value #MAX_ROWS_PROPERTY} rows (default {@value #MAX_ENGINE_ROWS}). */
    boolean routes(int rows) {
        return rows >= MIN_ENGINE_ROWS && rows <= maxEngineRows;
    }

    /** Whether gemm_swiglu_wgmma.cu has an entry point for this tile without multicast. */
    static boolean compiled(int blockRows, int width) {
        return compiled(blockRows, width, 1);
    }

    /**
     * Whether gemm_swiglu_wgmma.cu has an entry point for this tile with clusters of {@code mc} blocks (see
     * {@link #clusters}); never 256 wide with multicast.
     */
    static boolean compiled(int blockRows, int width, int mc) {
        return TmaPipeline.holds(blockRows, width) && Arrays.stream(WIDTHS).anyMatch(w -> w == width)
                && clusters(blockRows, mc) && (mc == 1 || width != 256);
    }

    /**
     * Whether blocks of this height are compiled in clusters of {@code mc}: 1 always; 2 from 128 rows (a block
     * multicasts 64 to 128 rows); 4 at 256 only (64 rows each).
     */
    static boolean clusters(int blockRows, int mc) {
        return switch (mc) {
            case 1 -> true;
            case 2 -> blockRows >= 128;
            case 4 -> blockRows == 256;
            default -> false;
        };
    }

    /** The cluster size a block height runs with: the configured one, else the largest smaller one compiled. */
    static int clusterFor(int blockRows, int configured) {
        int mc = configured;
        while (mc > 1 && !clusters(blockRows, mc)) {
            mc /= 2;
        }
        return mc;
    }

    /**
     * The tile width for a step: the least work per SM, ceil(blocks / SMs) x width, ties to the wider tile (fewer,
     * larger loads). Qwen2-1.5B's inter 8,960 on 132 SMs: 144 (125 blocks); Llama-3.2-1B's 8,192: 128; Qwen3-0.6B's
     * 3,072: 48.
     */
    static int tileWidth(int blockRows, int rows, int inter, int multiprocessors) {
        return tileWidth(blockRows, rows, inter, multiprocessors, 1);
    }

    /** As {@link #tileWidth(int, int, int, int)} with the feature tiles rounded up to whole clusters of {@code mc}. */
    static int tileWidth(int blockRows, int rows, int inter, int multiprocessors, int mc) {
        int best = 0;
        long bestCost = 0;
        for (int width : WIDTHS) {
            if (!compiled(blockRows, width, mc)) {
                continue;
            }
            long blocks = (long) gridColumns(inter, width, mc) * ceilDiv(rows, blockRows);
            long cost = ceilDiv(blocks, multiprocessors) * width;
            if (best == 0 || cost < bestCost || (cost == bestCost && width > best)) {
                best = width;
                bestCost = cost;
            }
        }
        return best;
    }

    /** gemm_swiglu_wgmma.cu's smem_bytes: 1 KiB of alignment and up to 8 stages of x and weight tiles + mbarriers. */
    static int sharedBytes(int blockRows, int width) {
        return 1024 + TmaPipeline.stages(blockRows, width) * (TmaPipeline.stageBytes(blockRows, width) + 16);
    }

    static String kernel(int blockRows, int width) {
        return kernel(blockRows, width, 1);
    }

    static String kernel(int blockRows, int width, int mc) {
        return "gemm_swiglu_bm" + blockRows + "_bn" + width + (mc == 1 ? "" : "_mc" + mc) + "_bf16";
    }

    /** Blocks along the features: one per tile of width / 2 features, rounded up to whole clusters. */
    static int gridColumns(int inter, int width, int mc) {
        return ceilDiv(ceilDiv(inter, width / 2), mc) * mc;
    }

    /**
     * Enqueues out (rows x inter) = silu(x Wg^T) * (x Wu^T) for layer {@code layer}, x (rows x hidden) at {@code x}.
     */
    void run(long out, long x, int layer, int rows) {
        if (!supports(rows)) {
            throw new IllegalArgumentException("gemm_swiglu runs 1 to " + MAX_ROWS + " rows; got " + rows);
        }
        int bm = TmaPipeline.blockRows(rows);
        int mc = clusterFor(bm, multicast);
        run(out, x, layer, rows, bm, tileWidth(bm, rows, inter, multiprocessors, mc), mc);
    }

    /** As {@link #run(long, long, int, int)} with the tile and cluster size given (tests run every compiled one). */
    void run(long out, long x, int layer, int rows, int bm, int bn, int mc) {
        if (rows < 1 || !compiled(bm, bn, mc)) {
            throw new IllegalArgumentException("no gemm_swiglu tile of " + bm + " x " + bn + " in clusters of " + mc
                    + " (or " + rows + " rows)");
        }
        String name = kernel(bm, bn, mc);
        int shared = sharedBytes(bm, bn);
        if (prepared.add(name)) {
            module.allowDynamicSharedMemory(name, shared);
        }
        module.launch(name, gridColumns(inter, bn, mc), ceilDiv(rows, bm), 1, TmaPipeline.threads(bm), shared, stream,
                maps.bf16(x, rows, hidden, bm / mc), maps.bf16(weights[layer], 2 * inter, hidden, bn / 2), out, rows,
                inter, hidden);
    }

    /** The cluster size this instance runs a block height with ({@value #MULTICAST_PROPERTY}, where compiled). */
    int clusterSize(int blockRows) {
        return clusterFor(blockRows, multicast);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
