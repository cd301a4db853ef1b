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
 * rows, BN / 2 gate and BN / 2 up ({@link #tileWidth}: the width whose blocks leave each SM the least work). Stateless
 * on the GPU (the descriptors live in host memory and in each launch's parameters); not thread-safe.
 */
final class SwigluGemm {
    static final String PROPERTY = "ember.cuda.fusedSwiglu";
    static final int MAX_ROWS = 256;
    static final int MIN_ENGINE_ROWS = 65;
    static final int MAX_ENGINE_ROWS = 192;
    /** Tile widths compiled (256 only where {@link TmaPipeline#holds} it). */
    static final int[] WIDTHS = {48, 64, 96, 128, 144, 192, 256};
    private static final int K_STEP = TensorMaps.BOX_COLS;

    private final KernelModule module;
    private final CudaStream stream;
    private final int multiprocessors;
    private final int hidden;
    private final int inter;
    private final long[] weights;
    private final TensorMaps.Cache maps = new TensorMaps.Cache();
    private final Set<String> prepared = new HashSet<>();

    /**
     * @param module  the sm_90a image
     * @param weights each layer's fused [gate | up] weight (2 inter x hidden, bf16, row-major)
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

    /** Whether gemm_swiglu_wgmma.cu has an entry point for this tile. */
    static boolean compiled(int blockRows, int width) {
        return TmaPipeline.holds(blockRows, width) && Arrays.stream(WIDTHS).anyMatch(w -> w == width);
    }

    /**
     * The tile width for a step: the least work per SM, ceil(blocks / SMs) x width, ties to the wider tile (fewer,
     * larger loads). Qwen2-1.5B's inter 8,960 on 132 SMs: 144 (125 blocks); Llama-3.2-1B's 8,192: 128; Qwen3-0.6B's
     * 3,072: 48.
     */
    static int tileWidth(int blockRows, int rows, int inter, int multiprocessors) {
        int best = 0;
        long bestCost = 0;
        for (int width : WIDTHS) {
            if (!compiled(blockRows, width)) {
                continue;
            }
            long blocks = (long) ceilDiv(inter, width / 2) * ceilDiv(rows, blockRows);
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
        return "gemm_swiglu_bm" + blockRows + "_bn" + width + "_bf16";
    }

    /**
     * Enqueues out (rows x inter) = silu(x Wg^T) * (x Wu^T) for layer {@code layer}, x (rows x hidden) at {@code x}.
     */
    void run(long out, long x, int layer, int rows) {
        if (!supports(rows)) {
            throw new IllegalArgumentException("gemm_swiglu runs 1 to " + MAX_ROWS + " rows; got " + rows);
        }
        int bm = TmaPipeline.blockRows(rows);
        run(out, x, layer, rows, bm, tileWidth(bm, rows, inter, multiprocessors));
    }

    /** As {@link #run(long, long, int, int)} with the tile given (tests run every compiled one). */
    void run(long out, long x, int layer, int rows, int bm, int bn) {
        if (rows < 1 || !compiled(bm, bn)) {
            throw new IllegalArgumentException("no gemm_swiglu tile of " + bm + " x " + bn + " (or " + rows + " rows)");
        }
        String name = kernel(bm, bn);
        int shared = sharedBytes(bm, bn);
        if (prepared.add(name)) {
            module.allowDynamicSharedMemory(name, shared);
        }
        module.launch(name, ceilDiv(inter, bn / 2), ceilDiv(rows, bm), 1, TmaPipeline.threads(bm), shared, stream,
                maps.bf16(x, rows, hidden, bm), maps.bf16(weights[layer], 2 * inter, hidden, bn / 2), out, rows, inter,
                hidden);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
