package dev.ember.scheduler;

import dev.ember.backend.ForwardBatch;
import dev.ember.kv.BlockManager;
import dev.ember.kv.BlockTable;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Drives a {@link Scheduler} over a {@link FakeBackend} the way the engine does (schedule, step, postprocess),
 * adding each request at its arrival step, and checks the invariants after every step: the step stays within its
 * budgets, no sequence runs twice in a step, new tokens go only into blocks their sequence holds alone, every
 * block's ref count equals the number of running block tables holding it, and every sequence finishes exactly once.
 * At the end every block is free.
 */
final class Simulation {
    final BlockManager blockManager;
    final Scheduler scheduler;
    final FakeBackend backend = new FakeBackend();
    final int maxNumSeqs;
    final int maxNumBatchedTokens;
    final Map<Long, Workload.Outcome> outcomes = new LinkedHashMap<>();
    private final List<Sequence> live = new ArrayList<>();

    Simulation(BlockManager blockManager, int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen) {
        this.blockManager = blockManager;
        this.maxNumSeqs = maxNumSeqs;
        this.maxNumBatchedTokens = maxNumBatchedTokens;
        this.scheduler = new Scheduler(blockManager, maxNumSeqs, maxNumBatchedTokens, maxModelLen, Workload.EOS);
        assertEquals(blockManager.numBlocks(), backend.allocateKvCache(blockManager.blockSize(), blockManager.numBlocks()));
    }

    Simulation(int numBlocks, int blockSize, boolean prefixCaching, int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen) {
        this(new BlockManager(numBlocks, blockSize, prefixCaching), maxNumSeqs, maxNumBatchedTokens, maxModelLen);
    }

    /** Runs every request to its end; returns the outcomes by request id. */
    Map<Long, Workload.Outcome> run(List<Workload.Req> reqs) {
        int lastArrival = reqs.stream().mapToInt(Workload.Req::arrivalStep).max().orElse(0);
        for (int step = 0; ; step++) {
            for (Workload.Req r : reqs) {
                if (r.arrivalStep() == step) {
                    Sequence seq = r.newSequence();
                    scheduler.add(seq);
                    live.add(seq);
                }
            }
            ScheduledBatch batch = scheduler.schedule();
            if (batch == null) {
                assertFalse(scheduler.hasUnfinished());
                if (step >= lastArrival) {
                    break;
                }
                continue;
            }
            assertTrue(step < 1_000_000, "no progress");
            checkBatch(batch);
            List<Sequence> sampled = scheduler.postprocess(batch, backend.step(batch.forwardBatch()));
            for (Sequence seq : sampled) {
                assertTrue(batch.sequences().contains(seq));
                if (seq.isFinished()) {
                    record(seq);
                }
            }
            checkBlocks();
        }
        assertEquals(reqs.size(), outcomes.size(), "every request finishes");
        assertEquals(0, scheduler.numRunning());
        assertEquals(0, scheduler.numWaiting());
        assertEquals(blockManager.numBlocks(), blockManager.numFreeBlocks(), "all blocks free at the end");
        for (int b = 0; b < blockManager.numBlocks(); b++) {
            if (blockManager.refCount(b) != 0) {
                fail("block " + b + " still has ref count " + blockManager.refCount(b));
            }
        }
        return outcomes;
    }

    void record(Sequence seq) {
        assertNotNull(seq.finishReason());
        assertNull(outcomes.put(seq.seqId(), new Workload.Outcome(seq.outputTokens(), seq.finishReason())),
                "sequence " + seq.seqId() + " finished twice");
        live.remove(seq);
    }

    private void checkBatch(ScheduledBatch batch) {
        ForwardBatch fb = batch.forwardBatch();
        assertTrue(fb.numTokens() <= maxNumBatchedTokens, "step of " + fb.numTokens() + " tokens");
        assertTrue(fb.numSeqs <= maxNumSeqs);
        assertEquals(fb.numSeqs, new HashSet<>(batch.sequences()).size(), "a sequence twice in one step");
        for (int s = 0; s < fb.numSeqs; s++) {
            Sequence seq = batch.sequences().get(s);
            assertEquals(SequenceStatus.RUNNING, seq.status());
            assertEquals(seq.numCachedTokens() + fb.queryLen(s), fb.contextLens[s]);
            for (int t = fb.queryStart[s]; t < fb.queryStart[s + 1]; t++) {
                int block = fb.slotMapping[t] / blockManager.blockSize();
                assertEquals(1, blockManager.refCount(block), () -> "a new token written into a shared block " + block);
            }
        }
    }

    private void checkBlocks() {
        int[] holders = new int[blockManager.numBlocks()];
        for (Sequence seq : live) {
            assertFalse(seq.isFinished());
            BlockTable table = seq.blockTable();
            if (seq.status() == SequenceStatus.WAITING) {
                assertEquals(0, table.numBlocks(), "a waiting sequence holds blocks");
                assertEquals(0, seq.numCachedTokens());
            }
            Set<Integer> own = new HashSet<>();
            for (int i = 0; i < table.numBlocks(); i++) {
                assertTrue(own.add(table.blockId(i)), "block twice in one table");
                holders[table.blockId(i)]++;
            }
        }
        int used = 0;
        for (int b = 0; b < holders.length; b++) {
            if (holders[b] != blockManager.refCount(b)) {
                fail("block " + b + " has ref count " + blockManager.refCount(b) + " but " + holders[b] + " tables hold it");
            }
            used += holders[b] > 0 ? 1 : 0;
        }
        assertEquals(blockManager.numBlocks() - used, blockManager.numFreeBlocks());
    }
}
