package dev.ember.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The KV budget rule, without a GPU: gpu_memory_utilization bounds this engine's own memory, free memory caps it. */
class KvBudgetTest {
    private static final long GIB = 1L << 30;
    private static final long R = CudaBackend.RESERVE_BYTES;

    @Test
    void aLoneEngineTakesItsFractionMinusWhatItHolds() {
        // 100 GiB GPU, 1 GiB context before open, engine holds 3 GiB (weights + activations)
        long[] plan = CudaBackend.kvBudget(100 * GIB, 96 * GIB, 99 * GIB, 0.9);
        assertEquals(3 * GIB, plan[1]);
        assertEquals((long) (100 * GIB * 0.9) - 3 * GIB - R, plan[0]);
    }

    @Test
    void aSecondEngineGetsWhatTheFirstLeavesInsteadOfNothing() {
        // the first engine holds 90 GiB; the second opens with 9 GiB free and holds 2 GiB after weights and activations
        long[] plan = CudaBackend.kvBudget(100 * GIB, 7 * GIB, 9 * GIB, 0.9);
        assertEquals(7 * GIB - R, plan[0], "capped by free memory, not zero");
        assertTrue(plan[0] > 0);
    }

    @Test
    void aSmallUtilizationStillBoundsTheEngine() {
        long[] plan = CudaBackend.kvBudget(100 * GIB, 50 * GIB, 60 * GIB, 0.2);
        assertEquals((long) (100 * GIB * 0.2) - 10 * GIB - R, plan[0]);
    }
}
