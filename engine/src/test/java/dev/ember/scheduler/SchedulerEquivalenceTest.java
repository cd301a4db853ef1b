package dev.ember.scheduler;

import dev.ember.backend.ForwardBatch;
import dev.ember.api.FinishReason;
import dev.ember.kv.BlockManager;
import dev.ember.kv.TestBlockManagers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every sequence must produce exactly the tokens {@link FakeModel} gives it when run alone and densely, however it
 * was batched: with room for everything, under a KV cache so small that sequences are preempted and recomputed,
 * under a token budget so small that prompts are chunked, with prefix-cache hits, with bad hashes, and in any
 * admission order. {@link FakeBackend} reads each context back through the paged cache, so a wrong slot, block
 * table, cached-token count or position would change tokens.
 */
class SchedulerEquivalenceTest {
    private static final int MAX_MODEL_LEN = 96;
    private static final List<Workload.Req> REQS = Workload.mixed(20261128L, 48, 60, 40);
    private static final Map<Long, Workload.Outcome> EXPECTED = new LinkedHashMap<>();
    /** Blocks of 4 for all 48 sequences at their longest (48 * 96 = 4608 tokens) at once: never preempts. */
    private static final int ROOMY = 1152;

    static {
        for (Workload.Req r : REQS) {
            EXPECTED.put(r.id(), Workload.expected(r, MAX_MODEL_LEN));
        }
    }

    private static void assertSameOutcomes(Map<Long, Workload.Outcome> actual) {
        assertEquals(EXPECTED.size(), actual.size());
        for (Map.Entry<Long, Workload.Outcome> e : EXPECTED.entrySet()) {
            assertEquals(e.getValue(), actual.get(e.getKey()), "sequence " + e.getKey());
        }
    }

    @Test
    void workloadExercisesEveryEnding() {
        long stops = EXPECTED.values().stream().filter(o -> o.reason() == FinishReason.STOP).count();
        long modelLen = REQS.stream().filter(r -> r.prompt().length + EXPECTED.get(r.id()).tokens().length == MAX_MODEL_LEN).count();
        assertTrue(stops > 0, "some sequences stop on EOS or a stop id");
        assertTrue(modelLen > 0, "some sequences reach max_model_len");
        assertTrue(EXPECTED.size() - stops - modelLen > 0, "some reach max_tokens");
    }

    @Test
    void unconstrainedRunMatchesTheDenseReference() {
        Simulation sim = new Simulation(ROOMY, 4, false, 256, 1 << 20, MAX_MODEL_LEN);
        assertSameOutcomes(sim.run(REQS));
        assertEquals(0, sim.scheduler.numPreemptions());
        assertEquals(0, sim.backend.numPartialPrefills);
    }

    @Test
    void tinyKvCachePreemptsAndStillMatches() {
        // 26 blocks of 4 = 104 tokens: just over one longest sequence (96).
        Simulation sim = new Simulation(26, 4, false, 16, 1 << 20, MAX_MODEL_LEN);
        assertSameOutcomes(sim.run(REQS));
        assertTrue(sim.scheduler.numPreemptions() > 0, "preempted");
    }

    @Test
    void tinyTokenBudgetChunksPrefillsAndMixesThemWithDecodes() {
        Simulation sim = new Simulation(ROOMY, 4, false, 8, 7, MAX_MODEL_LEN);
        assertSameOutcomes(sim.run(REQS));
        assertTrue(sim.backend.maxTokensInStep <= 7);
        assertTrue(sim.backend.numPartialPrefills > 0, "a prompt was split across steps");
        assertTrue(sim.backend.numMixedSteps > 0, "a prefill chunk shared a step with decodes");
    }

    @Test
    void prefixCacheHitsMatch() {
        // At most 8 running: later admissions find the blocks earlier ones computed.
        Simulation sim = new Simulation(ROOMY, 4, true, 8, 1 << 20, MAX_MODEL_LEN);
        assertSameOutcomes(sim.run(REQS));
        assertTrue(sim.scheduler.numCachedPromptTokens() > 0);
        assertTrue(sim.blockManager.hitBlocks() > 0);
    }

    @Test
    void prefixCacheHitsMatchWithOneSequenceAtATime() {
        // Sequential: every repeated prompt or shared prefix finds the earlier one's blocks, including its outputs.
        Simulation sim = new Simulation(ROOMY, 4, true, 1, 1 << 20, MAX_MODEL_LEN);
        assertSameOutcomes(sim.run(REQS));
        Simulation batched = new Simulation(ROOMY, 4, true, 256, 1 << 20, MAX_MODEL_LEN);
        batched.run(REQS);
        assertTrue(sim.scheduler.numCachedPromptTokens() > batched.scheduler.numCachedPromptTokens(),
                "sequential admission finds more cached prefixes than admitting all before any is computed");
    }

    @Test
    void everythingTightAtOnceMatches() {
        Simulation sim = new Simulation(27, 4, true, 6, 9, MAX_MODEL_LEN);
        assertSameOutcomes(sim.run(REQS));
        assertTrue(sim.scheduler.numPreemptions() > 0);
        assertTrue(sim.scheduler.numCachedPromptTokens() > 0);
        assertTrue(sim.backend.numPartialPrefills > 0);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 16})
    void otherBlockSizesMatch(int blockSize) {
        int numBlocks = (MAX_MODEL_LEN + blockSize - 1) / blockSize + 2;
        Simulation sim = new Simulation(numBlocks, blockSize, true, 8, 11, MAX_MODEL_LEN);
        assertSameOutcomes(sim.run(REQS));
        assertTrue(sim.scheduler.numPreemptions() > 0);
    }

    @Test
    void collidingHashesNeverChangeTokens() {
        for (BlockManager bm : List.of(TestBlockManagers.withWeakHash(50, 2), TestBlockManagers.withPrefixBlindHash(30, 4),
                TestBlockManagers.withWeakHash(2 * ROOMY, 2))) {
            Simulation sim = new Simulation(bm, 8, 13, MAX_MODEL_LEN);
            assertSameOutcomes(sim.run(REQS));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void admissionOrderAndArrivalTimesDoNotMatter(long seed) {
        Random rnd = new Random(seed);
        List<Workload.Req> shuffled = new ArrayList<>(REQS);
        Collections.shuffle(shuffled, rnd);
        List<Workload.Req> staggered = new ArrayList<>();
        for (Workload.Req r : shuffled) {
            staggered.add(r.arrivingAt(rnd.nextInt(60)));
        }
        assertSameOutcomes(new Simulation(ROOMY, 4, true, 256, 1 << 20, MAX_MODEL_LEN).run(shuffled));
        Simulation tight = new Simulation(28, 4, true, 5, 10, MAX_MODEL_LEN);
        assertSameOutcomes(tight.run(staggered));
        assertTrue(tight.scheduler.numPreemptions() > 0);
    }
    @Test
    void randomConfigurationsMatch() {
        Random rnd = new Random(7);
        List<Workload.Req> reqs = Workload.mixed(99, 16, 40, 24);
        int maxModelLen = 56;
        for (int trial = 0; trial < 60; trial++) {
            int blockSize = 1 + rnd.nextInt(8);
            int numBlocks = (maxModelLen + blockSize - 1) / blockSize + rnd.nextInt(3 * maxModelLen / blockSize + 1);
            int maxNumSeqs = 1 + rnd.nextInt(10);
            int budget = 1 + rnd.nextInt(rnd.nextBoolean() ? 4 : 64);
            boolean prefixCaching = rnd.nextBoolean();
            List<Workload.Req> arriving = new ArrayList<>();
            for (Workload.Req r : reqs) {
                arriving.add(r.arrivingAt(rnd.nextInt(30)));
            }
            Simulation sim = new Simulation(numBlocks, blockSize, prefixCaching, maxNumSeqs, budget, maxModelLen);
            Map<Long, Workload.Outcome> actual = sim.run(arriving);
            String config = "trial " + trial + ": " + numBlocks + " blocks of " + blockSize + ", " + maxNumSeqs
                    + " seqs, budget " + budget + ", prefix caching " + prefixCaching;
            for (Workload.Req r : reqs) {
                assertEquals(Workload.expected(r, maxModelLen), actual.get(r.id()), config + ", sequence " + r.id());
            }
        }
    }

    @Test
    void theFakeBackendNoticesAWrongSlot() {
        // Guards the guard: a batch whose slot mapping disagrees with its block table must not pass unnoticed.
        Simulation sim = new Simulation(8, 2, false, 4, 64, MAX_MODEL_LEN);
        sim.scheduler.add(new Sequence(1, new int[] {5, 6, 7}, REQS.get(0).params(), 1));
        ForwardBatch fb = sim.scheduler.schedule().forwardBatch();
        int[] wrong = fb.slotMapping.clone();
        wrong[2] += 1;
        ForwardBatch bad = new ForwardBatch(fb.numSeqs, fb.tokenIds, fb.positions, wrong,
                fb.queryStart, fb.contextLens, fb.blockTables, fb.blockSize, fb.sample, fb.params, fb.seeds,
                fb.outputIndex, fb.tokenHistory, fb.numPromptTokens);
        FakeBackend fresh = new FakeBackend();
        fresh.allocateKvCache(2, 8);
        assertThrows(AssertionError.class, () -> fresh.step(bad));
    }
}
