package dev.ember.backend.cuda;

import dev.ember.CudaException;
import dev.ember.weights.DType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;

/**
 * The Hopper prefill attention kernel (attention_prefill_wgmma.cu: wgmma, sm_90a only), whether this engine uses it,
 * and the sm_90a image that holds it with {@link SwigluGemm}'s kernels. build.sh compiles {@value #UNIT} into its own
 * image ({@value #FATBIN}), since the portable fatbin and the NVRTC build target GPUs without wgmma; the engine loads
 * that image as a second {@link KernelModule} only on a compute capability 9 GPU, where the jar has it and one of its
 * users applies (for this kernel: {@code -Dember.cuda.wgmmaPrefill=false} does not turn it off). Kernels then launches it
 * for bfloat16 prefill attention at head dim 128 in place of attn_prefill_tc, with the same arguments, on tiles of
 * {@value #ROWS} rows (attn_prefill_tc takes 128, and runs these smaller tiles too).
 * Stateless; thread-safe.
 */
final class WgmmaPrefill {
    private static final Logger LOG = LoggerFactory.getLogger(WgmmaPrefill.class);
    static final String FATBIN = "/dev/ember/backend/cuda/ember_kernels_sm90a.fatbin";
    /** The translation unit build.sh compiles into {@value #FATBIN}. */
    static final String UNIT = "ember_kernels_sm90a.cu";
    /** The sources of {@value #UNIT}: not part of ember_kernels.cu (NVRTC never compiles them). */
    static final java.util.Set<String> SOURCES = java.util.Set.of(UNIT, "attention_prefill_wgmma.cu",
            "gemm_swiglu_wgmma.cu", "gemm_cluster_wgmma.cu", "tma_gemm.cuh", "wgmma_ss.cuh");
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
        NO_IMAGE("this build has no " + FATBIN + " (no nvcc, or one without sm_90a, at build time)");

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
        return decide(System.getProperty(PROPERTY), device.computeMajor(), hasImage());
    }

    static boolean hasImage() {
        return WgmmaPrefill.class.getResource(FATBIN) != null;
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

    /**
     * The sm_90a module on a GPU of major 9 whose build has the image (its context current), else null; also null, with
     * a warning, where the driver rejects it (a major 9 GPU that is not sm_90, which an sm_90a cubin does not run on),
     * so its users fall back (attn_prefill_tc, cuBLAS + silu_mul) rather than failing the engine. The caller owns the
     * module.
     */
    static KernelModule openImage(CudaDevice device) {
        if (device.computeMajor() != 9 || !hasImage()) {
            return null;
        }
        try {
            return open();
        } catch (CudaException e) {
            LOG.warn("Ember keeps its portable kernels on {} (sm {}): the sm_90a image {} did not load: {}", device.name(),
                    device.computeCapability(), FATBIN, e.getMessage());
            return null;
        }
    }

    /** The sm_90a module, without the checks of {@link #decide} (tests); fails where the image is missing or rejected. */
    static KernelModule open() {
        try (InputStream in = WgmmaPrefill.class.getResourceAsStream(FATBIN)) {
            if (in == null) {
                throw new CudaException(FATBIN + " is missing from this build (nvcc with sm_90a, CUDA 12 or later,"
                        + " builds it)");
            }
            return new KernelModule(new KernelImage.Loaded(in.readAllBytes(), "fatbin " + FATBIN));
        } catch (IOException e) {
            throw new CudaException("cannot read " + FATBIN + ": " + e.getMessage(), e);
        }
    }
}
