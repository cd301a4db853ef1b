package dev.ember.spark.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Time intervals of one engine (one executor), measured as the length of their union: tasks that share an engine
 * generate at the same time, and the engine is busy once for all of them. Not thread-safe.
 */
final class BusyIntervals {
    private final List<long[]> intervals = new ArrayList<>();

    /** Adds [startMs, endMs); an empty or inverted interval is ignored. */
    void add(long startMs, long endMs) {
        if (endMs > startMs) {
            intervals.add(new long[]{startMs, endMs});
        }
    }

    /** Milliseconds covered by at least one interval. */
    long unionMs() {
        List<long[]> sorted = new ArrayList<>(intervals);
        sorted.sort(Comparator.comparingLong(a -> a[0]));
        long total = 0;
        long start = Long.MIN_VALUE;
        long end = Long.MIN_VALUE;
        for (long[] iv : sorted) {
            if (iv[0] > end) {
                total += end - start;
                start = iv[0];
                end = iv[1];
            } else {
                end = Math.max(end, iv[1]);
            }
        }
        return total + (end - start);
    }
}
