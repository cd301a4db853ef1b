package dev.ember.backend.cuda;

import dev.ember.CudaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;

/**
 * The sm_90a image: the kernels that use Hopper-only instructions (wgmma, TMA, setmaxnreg, clusters), which the
 * portable fatbin and the NVRTC build cannot hold. build.sh compiles {@value #UNIT} into {@value #FATBIN} (nvcc only);
 * the engine loads it as a second {@link KernelModule} on a compute capability 9 GPU where one of its users applies:
 * {@link WgmmaPrefill}'s attention, {@link SwigluGemm}, {@link ClusterGemm}. Stateless; thread-safe.
 */
final class Sm90aImage {
    private static final Logger LOG = LoggerFactory.getLogger(Sm90aImage.class);
    static final String FATBIN = "/dev/ember/backend/cuda/ember_kernels_sm90a.fatbin";
    /** The translation unit build.sh compiles into {@value #FATBIN}. */
    static final String UNIT = "ember_kernels_sm90a.cu";
    /** The sources of {@value #UNIT}: not part of ember_kernels.cu (NVRTC never compiles them). */
    static final Set<String> SOURCES = Set.of(UNIT, "attention_prefill_wgmma.cu", "gemm_swiglu_wgmma.cu",
            "gemm_cluster_wgmma.cu", "tma_gemm.cuh", "wgmma_ss.cuh");

    private Sm90aImage() {
    }

    /** Whether this build has the image (nvcc with sm_90a at build time). */
    static boolean present() {
        return Sm90aImage.class.getResource(FATBIN) != null;
    }

    /**
     * The module on a GPU of major 9 whose build has the image (its context current), else null; also null, with a
     * warning, where the driver rejects it (a major 9 GPU that is not sm_90, which an sm_90a cubin does not run on),
     * so its users fall back (attn_prefill_tc, cuBLAS + silu_mul, cuBLAS) rather than failing the engine. The caller
     * owns the module.
     */
    static KernelModule openOn(CudaDevice device) {
        if (device.computeMajor() != 9 || !present()) {
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

    /** The module, without the checks of {@link #openOn} (tests); fails where the image is missing or rejected. */
    static KernelModule open() {
        try (InputStream in = Sm90aImage.class.getResourceAsStream(FATBIN)) {
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
