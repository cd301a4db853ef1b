package dev.ember.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Per-thread work buffers of the CPU kernels (a weight tile converted from the checkpoint, attention scores),
 * grown on demand and reused across calls so a step does not allocate a tile's worth of garbage per task.
 * The workers of a {@link CpuBackend}'s pool each carry one ({@link Worker}); any other thread gets a fresh one
 * per call. Not thread-safe: only its own thread uses it.
 */
final class Scratch {
    private int[] ints = new int[0];
    private float[] floats = new float[0];
    private short[] shorts = new short[0];
    private float[] scores = new float[0];

    /** The calling thread's scratch: its own when it is a CPU backend worker, else a new one. */
    static Scratch current() {
        return Thread.currentThread() instanceof Worker w ? w.scratch : new Scratch();
    }

    int[] ints(int n) {
        if (ints.length < n) {
            ints = new int[n];
        }
        return ints;
    }

    float[] floats(int n) {
        if (floats.length < n) {
            floats = new float[n];
        }
        return floats;
    }

    short[] shorts(int n) {
        if (shorts.length < n) {
            shorts = new short[n];
        }
        return shorts;
    }

    float[] scores(int n) {
        if (scores.length < n) {
            scores = new float[n];
        }
        return scores;
    }

    /** A fork-join worker that owns a scratch; made by {@link CpuBackend}'s pool. */
    static final class Worker extends ForkJoinWorkerThread {
        final Scratch scratch = new Scratch();

        Worker(ForkJoinPool pool) {
            super(pool);
        }
    }
}
