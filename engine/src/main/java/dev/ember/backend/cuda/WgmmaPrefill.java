package dev.ember.backend.cuda;

import dev.ember.weights.DType;

/**
 * The Hopper prefill attention kernel (attention_prefill_wgmma.cu: wgmma, sm_90a only) and whether this engine uses
 * it: on a compute capability 9 GPU whose build has the {@link Sm90aImage} (unless
 * {@code -Dember.cuda.wgmmaPrefill=false}), Kernels launches it for bfloat16 prefill attention at head dim 128 in place
 * of attn_prefill_tc, with the same arguments, on tiles of {@value #ROWS} rows (attn_prefill_tc takes 128, and runs
 * these smaller tiles too).
 * Stateless; thread-safe.
 */
final class WgmmaPrefill {
    static final String PROPERTY = "ember.cuda.wgmmaPrefill";
    static final String KERNEL = "attn_prefill_wgmma64_hd128_bf16";
    static final int HEAD_DIM = 128;
    /** Query rows ((token, head) pairs of one KV head's group) a tile: one warpgroup's m64 accumulator. */
    static final int ROWS = 64;
    /** Keys a K/V tile. */
    static final int KEYS = 64;
    /** One warpgroup a block; two blocks share a SM. */
    static final int THREADS = 128;
    /**
     * wgq::SMEM: 1 KiB to align the swizzle atoms, Q (64 x 128) and 3 stages of K and V (64 keys x 128), bf16. With
     * the 1 KiB the driver reserves a block, two blocks take the SM's whole 228 KiB (the launch asks for the largest
     * shared-memory carveout).
     */
    static final int SHARED_BYTES = 1024 + ROWS * HEAD_DIM * 2 + 3 * 2 * KEYS * HEAD_DIM * 2;

    /** Whether to load the sm_90a image, and if not, why (for the start log). */
    enum Decision {
        LOAD("loaded"),
        OFF("off by -D" + PROPERTY + "=false"),
        NOT_SM90("not a compute capability 9 GPU"),
        NO_IMAGE("this build has no " + Sm90aImage.FATBIN + " (no nvcc, or one without sm_90a, at build time)");

        final String reason;

        Decision(String reason) {
            this.reason = reason;
        }
    }

    private WgmmaPrefill() {
    }

    /**
     * The choice for a GPU of compute capability major {@code computeMajor}; {@code property} is the value of
     * {@value #PROPERTY} (null when unset), read as the other {@code ember.cuda.*} switches ({@link Switches}): "false"
     * turns the kernel off, and a value that is neither true nor false fails naming the property rather than
     * measuring the default by mistake.
     */
    static Decision decide(String property, int computeMajor, boolean hasImage) {
        if (!Switches.parse(PROPERTY, property, true)) {
            return Decision.OFF;
        }
        if (computeMajor != 9) {
            return Decision.NOT_SM90;
        }
        return hasImage ? Decision.LOAD : Decision.NO_IMAGE;
    }

    static Decision decide(CudaDevice device) {
        return decide(System.getProperty(PROPERTY), device.computeMajor(), Sm90aImage.present());
    }

    /** Whether the kernel exists for this dtype and head dim (else attn_prefill_tc or the float32 kernel). */
    static boolean handles(DType dtype, int headDim) {
        return dtype == DType.BF16 && headDim == HEAD_DIM;
    }

    /**
     * Whether the kernel covers a model of this dtype, head dim and group (query heads a KV head): a tile must hold at
     * least one token's group. CudaBackend loads the module only for such a model.
     */
    static boolean handles(DType dtype, int headDim, int group) {
        return handles(dtype, headDim) && group >= 1 && group <= ROWS;
    }
}
