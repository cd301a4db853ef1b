package dev.ember;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LapsTest {
    @Test
    void eachLapIsTheTimeSinceTheLastInOrder() {
        AtomicLong now = new AtomicLong(5_000_000_000L);
        Laps laps = new Laps(now::get);
        assertEquals("", laps.describe());
        now.addAndGet(312_400_000L);
        laps.lap("device");
        now.addAndGet(1_640_900_000L);
        laps.lap("weights");
        laps.lap("nothing");
        assertEquals("device 312 ms, weights 1,640 ms, nothing 0 ms", laps.describe());
        now.addAndGet(7_000_000L);
        assertEquals(312_400_000L + 1_640_900_000L + 7_000_000L, laps.elapsedNanos(), "since construction, not since a lap");
    }
}
