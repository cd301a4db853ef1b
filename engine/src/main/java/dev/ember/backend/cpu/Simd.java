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
    /** The kernels every CPU operation uses; immutable and stateless. */
    static final Kernels KERNELS = choose();

    private Simd() {
    }

    private static Kernels choose() {
        // the incubator module is only resolved when asked for on the command line
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                Kernels kernels = new VectorKernels();
                kernels.warmUp(); // once per JVM, when the first CPU operation needs the kernels
                return kernels;
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

    /** For logs: which kernels run and their vector width. */
    static String describe() {
        return KERNELS.description();
    }
}
