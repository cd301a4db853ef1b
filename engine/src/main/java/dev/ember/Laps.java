package dev.ember;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The parts of one engine start, as consecutive named intervals: {@link #lap} closes the interval since the last
 * lap (or since construction) under a name. The ready log line states them, so a slow start says where its time
 * went (issue 8 asks for the start "stated with its parts"). Not thread-safe: one starting thread.
 */
public final class Laps {
    private final LongSupplier clock;
    private final List<String> names = new ArrayList<>();
    private final List<Long> nanos = new ArrayList<>();
    private final long start;
    private long last;

    public Laps() {
        this(System::nanoTime);
    }

    /** @param clock nanoseconds, monotonic (tests pass their own) */
    Laps(LongSupplier clock) {
        this.clock = clock;
        this.start = clock.getAsLong();
        this.last = start;
    }

    /** Nanoseconds since construction: the named intervals and whatever runs after the last one. */
    public long elapsedNanos() {
        return clock.getAsLong() - start;
    }

    /** Ends the current interval and names it. */
    public void lap(String name) {
        long now = clock.getAsLong();
        names.add(name);
        nanos.add(now - last);
        last = now;
    }

    /** The named intervals so far, in order: "device 312 ms, weights 640 ms" ("" when there are none). */
    public String describe() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            if (i > 0) {
                s.append(", ");
            }
            s.append(names.get(i)).append(' ').append(String.format(Locale.ROOT, "%,d", nanos.get(i) / 1_000_000))
                    .append(" ms");
        }
        return s.toString();
    }
}
