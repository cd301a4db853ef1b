package dev.ember.backend.cpu;

import java.util.List;

/** Both kernel implementations, so every CPU test checks the scalar fallback as well as the SIMD path. */
final class TestKernels {
    private TestKernels() {
    }

    /** The scalar kernels and the ones this JVM chose (the Vector API ones under surefire's --add-modules). */
    static List<Kernels> all() {
        return List.of(new ScalarKernels(), Simd.KERNELS);
    }
}
