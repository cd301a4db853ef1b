package dev.ember.backend.cpu;

import java.util.concurrent.ForkJoinPool;

/**
 * Runs a step's weight matmuls: through {@link OneDnnGemm} when the backend has one and the weights suit it (bf16,
 * one mapped buffer), else as {@link Matmul}'s Java tiles on the backend's pool. Both accumulate in float32.
 */
final class Projections {
    /**
     * Input rows from which oneDNN runs: one row (a single sequence's decode) streams the weights once at either
     * path's memory rate; the Java tiles measured faster there on oneDNN's run-time-row primitives and equal within
     * noise on its fixed-row ones (one request: 11.9–13.3 against 12.2–14.7 tok/s, docs/BENCHMARKS.md), so one row
     * stays on the path with no native call. {@code -Dember.cpu.gemmMinRows=N} sets it for such measurements.
     */
    static final int MIN_NATIVE_ROWS = Integer.getInteger("ember.cpu.gemmMinRows", 2);
    private final Kernels kernels;
    private final ForkJoinPool pool;
    /** Null: Java tiles only. */
    private final OneDnnGemm gemm;

    Projections(Kernels kernels, ForkJoinPool pool, OneDnnGemm gemm) {
        this.kernels = kernels;
        this.pool = pool;
        this.gemm = gemm;
    }

    /** Each job's {@code out = x W^T (+ bias)} over the same {@code rows} input rows. */
    void run(float[] x, int rows, Matmul.Job... jobs) {
        if (gemm != null && rows >= MIN_NATIVE_ROWS && OneDnnGemm.accepts(jobs)) {
            gemm.runAll(x, rows, pool, jobs);
        } else {
            Matmul.runAll(kernels, x, rows, pool, jobs);
        }
    }

    /** For the backend's description. */
    String describe() {
        return gemm == null ? "Java matmul tiles" : "oneDNN bf16 matmuls (float32-exact inputs)";
    }
}
