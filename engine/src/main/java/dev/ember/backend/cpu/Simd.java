package dev.ember.backend.cpu;

import java.util.logging.Logger;

/**
 * Chooses the CPU kernels once per JVM: the Vector API ones ({@link VectorKernels}) when the JVM was started
 * with {@code --add-modules jdk.incubator.vector}, else the plain scalar ones ({@link ScalarKernels}), with one
 * log line saying how to turn the fast path on. Both give results within float32 rounding of each other.
 */
final class Simd {
    static final String ENABLE_FLAG = "--add-modules jdk.incubator.vector";
    private static final Logger LOG = Logger.getLogger(Simd.class.getName());
    /** Hidden sizes from which the SIMD kernels pay for their JIT warm-up (real models start at 896). */
    static final int MIN_SIMD_HIDDEN = 256;
    private static final Kernels SCALAR = new ScalarKernels();
    /** The kernels every CPU operation uses; immutable and stateless. */
    static final Kernels KERNELS = choose();

    private Simd() {
    }

    private static Kernels choose() {
        // the incubator module is only resolved when asked for on the command line
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                return new VectorKernels();
            } catch (LinkageError | RuntimeException e) {
                LOG.warning("the Vector API is present but failed to start (" + e + "); the CPU backend runs its "
                        + "scalar kernels, several times slower");
                return new ScalarKernels();
            }
        }
        LOG.warning("the CPU backend runs its scalar kernels, several times slower: start the JVM with " + ENABLE_FLAG
                + " (java " + ENABLE_FLAG + " ..., or MAVEN_OPTS / .mvn/jvm.config for mvn exec:java) to use "
                + "the SIMD ones (Java's Vector API)");
        return new ScalarKernels();
    }

    /**
     * The kernels for a model of this hidden size: the scalar ones below {@link #MIN_SIMD_HIDDEN}. Until C2 has
     * compiled them, Vector API calls run as allocating Java fallbacks about a hundred times slower than the
     * compiled loops; a toy model's whole job (the Quickstart's demo model: a few seconds of engine time) is shorter
     * than that warm-up, and measured slower on them than on the scalar loops.
     */
    static Kernels forHiddenSize(int hiddenSize) {
        return hiddenSize < MIN_SIMD_HIDDEN ? SCALAR : KERNELS;
    }

    /** For logs: which kernels run and their vector width. */
    static String describe() {
        return KERNELS.description();
    }
}
