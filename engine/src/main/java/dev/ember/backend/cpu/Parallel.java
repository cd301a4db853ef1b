package dev.ember.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/** Splits an index range over a fork-join pool; a null pool (or a range too small to share) runs on the caller. */
final class Parallel {
    /** Work on indexes {@code [start, end)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    private Parallel() {
    }

    /** Workers of {@code pool}; 1 for null (the caller). */
    static int workers(ForkJoinPool pool) {
        return pool == null ? 1 : pool.getParallelism();
    }

    /**
     * Runs {@code body} over {@code [0, n)} in contiguous chunks of at least {@code minChunk} indexes, a few per
     * worker so uneven chunks balance; returns when all are done and rethrows the first failure.
     */
    static void forRange(ForkJoinPool pool, int n, int minChunk, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int workers = pool == null ? 1 : pool.getParallelism();
        int chunks = Math.min((n + minChunk - 1) / Math.max(1, minChunk), workers * 4);
        if (workers == 1 || chunks <= 1) {
            body.run(0, n);
            return;
        }
        List<RecursiveAction> tasks = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            tasks.add(new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(start, end);
                }
            });
        }
        if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == pool) {
            ForkJoinTask.invokeAll(tasks);
        } else {
            pool.invoke(new RecursiveAction() {
                @Override
                protected void compute() {
                    invokeAll(tasks);
                }
            });
        }
    }
}
