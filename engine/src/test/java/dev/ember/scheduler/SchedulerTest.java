package dev.ember.scheduler;

import dev.ember.LlmException;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.api.FinishReason;
import dev.ember.kv.BlockManager;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerTest {
    private static final SamplingParams TEN = SamplingParams.builder().maxTokens(10).ignoreEos(true).build();

    private static int[] range(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }

    /** Backend output giving {@code token} to every sequence asked to sample. */
    private static StepOutput sampleAll(ForwardBatch fb, int token) {
        int[] tokens = new int[fb.numSeqs];
        for (int s = 0; s < fb.numSeqs; s++) {
            tokens[s] = fb.sample[s] ? token : -1;
        }
        return new StepOutput(tokens, new float[fb.numSeqs], new int[fb.numSeqs][], new float[fb.numSeqs][]);
    }

    @Test
    void fillsEveryForwardBatchField() {
        BlockManager bm = new BlockManager(8, 4, false);
        Scheduler sched = new Scheduler(bm, 4, 7, 64, Set.of(0));
        Sequence a = new Sequence(1, range(10, 6), TEN, 111);
        Sequence b = new Sequence(2, range(20, 3), TEN, 222);
        sched.add(a);
        sched.add(b);

        // Step 1: a's whole prompt (6) and the first token of b's (budget 7). Fresh blocks come in id order.
        ScheduledBatch s1 = sched.schedule();
        assertEquals(List.of(a, b), s1.sequences());
        ForwardBatch fb = s1.forwardBatch();
        assertEquals(2, fb.numSeqs);
        assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15, 20}, fb.tokenIds);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 0}, fb.positions);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 8}, fb.slotMapping);
        assertArrayEquals(new int[] {0, 6, 7}, fb.queryStart);
        assertArrayEquals(new int[] {6, 1}, fb.contextLens);
        assertArrayEquals(new int[] {0, 1}, fb.blockTables[0]);
        assertArrayEquals(new int[] {2}, fb.blockTables[1]);
        assertEquals(4, fb.blockSize);
        assertArrayEquals(new boolean[] {true, false}, fb.sample);
        assertSame(TEN, fb.params[0]);
        assertNull(fb.params[1]);
        assertArrayEquals(new long[] {111, 222}, fb.seeds);
        assertArrayEquals(new int[] {0, 0}, fb.outputIndex);
        assertArrayEquals(new int[] {6, 3}, fb.numPromptTokens);
        assertEquals(10, fb.tokenHistory[0][0]);
        assertEquals(7, s1.numPrefillTokens());
        assertEquals(0, s1.numDecodeTokens());
        List<Sequence> got = sched.postprocess(s1, sampleAll(fb, 50));
        assertEquals(List.of(a), got);
        assertEquals(6, a.numCachedTokens());
        assertEquals(1, b.numCachedTokens());
        assertArrayEquals(new int[] {50}, a.outputTokens());

        // Step 2: a decodes its sampled token at position 6; b finishes its prompt (positions 1, 2) and samples.
        ScheduledBatch s2 = sched.schedule();
        fb = s2.forwardBatch();
        assertEquals(List.of(a, b), s2.sequences());
        assertArrayEquals(new int[] {50, 21, 22}, fb.tokenIds);
        assertArrayEquals(new int[] {6, 1, 2}, fb.positions);
        assertArrayEquals(new int[] {6, 9, 10}, fb.slotMapping);
        assertArrayEquals(new int[] {0, 1, 3}, fb.queryStart);
        assertArrayEquals(new int[] {7, 3}, fb.contextLens);
        assertArrayEquals(new boolean[] {true, true}, fb.sample);
        assertArrayEquals(new int[] {1, 0}, fb.outputIndex);
        assertEquals(50, fb.tokenHistory[0][6]);
        assertEquals(1, s2.numDecodeTokens());
        assertEquals(2, s2.numPrefillTokens());
        sched.postprocess(s2, sampleAll(fb, 51));

        // Step 3: both decode; a's token at position 7 still fits block 1, b's at position 3 fits block 2.
        fb = sched.schedule().forwardBatch();
        assertArrayEquals(new int[] {7, 3}, fb.positions);
        assertArrayEquals(new int[] {7, 11}, fb.slotMapping);
        assertTrue(fb.isDecodeOnly());
    }

    @Test
    void preemptsTheNewestRunningSequenceAndResumesItByRecompute() {
        // 4 blocks of 2: a (prompt 3) and b (prompt 3) take 2 blocks each; when a needs a third, b is preempted.
        BlockManager bm = new BlockManager(4, 2, false);
        Scheduler sched = new Scheduler(bm, 4, 64, 64, Set.of());
        Sequence a = new Sequence(1, range(1, 3), TEN, 1);
        Sequence b = new Sequence(2, range(4, 3), TEN, 2);
        sched.add(a);
        sched.add(b);
        ScheduledBatch s1 = sched.schedule();
        sched.postprocess(s1, sampleAll(s1.forwardBatch(), 9)); // both have 4 tokens, 3 cached
        ScheduledBatch s2 = sched.schedule(); // both decode position 3: still in their second block
        assertEquals(List.of(a, b), s2.sequences());
        sched.postprocess(s2, sampleAll(s2.forwardBatch(), 8)); // 5 tokens, 4 cached: position 4 needs a third block
        assertEquals(0, bm.numFreeBlocks());

        ScheduledBatch s3 = sched.schedule();
        assertEquals(List.of(a), s3.sequences(), "b, admitted last, gave its blocks to a");
        assertEquals(1, sched.numPreemptions());
        assertEquals(SequenceStatus.WAITING, b.status());
        assertEquals(0, b.numCachedTokens());
        assertArrayEquals(new int[] {9, 8}, b.outputTokens(), "output kept");
        assertEquals(1, sched.numWaiting());
        sched.postprocess(s3, sampleAll(s3.forwardBatch(), 7));

        // a finishes (stop string matched by the engine): b is readmitted and recomputes prompt + output.
        sched.finish(a, FinishReason.STOP);
        assertEquals(FinishReason.STOP, a.finishReason());
        ScheduledBatch s4 = sched.schedule();
        ForwardBatch fb = s4.forwardBatch();
        assertEquals(List.of(b), s4.sequences());
        assertArrayEquals(new int[] {4, 5, 6, 9, 8}, fb.tokenIds);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, fb.positions);
        assertTrue(fb.sample[0]);
        assertEquals(2, fb.outputIndex[0], "sampling continues at the same output index");
        sched.postprocess(s4, sampleAll(fb, 6));
        assertArrayEquals(new int[] {9, 8, 6}, b.outputTokens());
        assertTrue(sched.abort(2));
        assertFalse(sched.hasUnfinished());
        assertEquals(4, bm.numFreeBlocks());
    }

    @Test
    void aReadmittedSequenceReusesItsOwnCachedBlocksWithoutCountingThemAsPromptHits() {
        BlockManager bm = new BlockManager(4, 2, true);
        Scheduler sched = new Scheduler(bm, 4, 64, 64, Set.of());
        Sequence a = new Sequence(1, range(1, 3), TEN, 1);
        Sequence b = new Sequence(2, range(4, 3), TEN, 2);
        sched.add(a);
        sched.add(b);
        for (int step = 0; step < 3; step++) { // the third step preempts b, whose blocks [4, 5] [6, 9] are cached
            ScheduledBatch s = sched.schedule();
            sched.postprocess(s, sampleAll(s.forwardBatch(), 9));
        }
        assertEquals(1, sched.numPreemptions());
        assertEquals(0, bm.hitBlocks());
        sched.finish(a, FinishReason.STOP);
        ScheduledBatch s4 = sched.schedule();
        assertEquals(List.of(b), s4.sequences());
        // a's growth reused b's last-freed block [6, 9]; [4, 5] is still cached and b takes it back.
        assertEquals(1, bm.hitBlocks());
        assertEquals(2, b.numCachedTokens());
        assertArrayEquals(new int[] {6, 9, 9}, s4.forwardBatch().tokenIds);
        assertEquals(0, sched.numCachedPromptTokens(), "its own blocks are no prompt-cache hit");
    }

    @Test
    void preemptedSequencesGoBackToTheFrontInAdmissionOrder() {
        BlockManager bm = new BlockManager(3, 2, false);
        Scheduler sched = new Scheduler(bm, 4, 64, 64, Set.of());
        Sequence a = new Sequence(1, range(1, 2), TEN, 1);
        Sequence b = new Sequence(2, range(3, 2), TEN, 2);
        Sequence c = new Sequence(3, range(5, 2), TEN, 3);
        Sequence d = new Sequence(4, range(7, 2), TEN, 4);
        for (Sequence s : List.of(a, b, c, d)) {
            sched.add(s);
        }
        ScheduledBatch s1 = sched.schedule();
        assertEquals(List.of(a, b, c), s1.sequences(), "d waits for a block");
        sched.postprocess(s1, sampleAll(s1.forwardBatch(), 9));
        // Each needs a second block and none is free: c, the newest, is preempted so a can grow; then b needs
        // one, and b is now the newest, so b is preempted too. b goes in front of c, c in front of d.
        ScheduledBatch s2 = sched.schedule();
        assertEquals(List.of(a), s2.sequences());
        assertEquals(2, sched.numPreemptions());
        assertEquals(3, sched.numWaiting());
        sched.postprocess(s2, sampleAll(s2.forwardBatch(), 9));
        assertEquals(List.of(a), sched.schedule().sequences(), "b needs 2 blocks, 1 is free: nobody is admitted");
        sched.abort(1);
        ScheduledBatch s4 = sched.schedule();
        assertEquals(List.of(b), s4.sequences(), "b first; c (2 more blocks) does not fit beside it");
        assertArrayEquals(new int[] {3, 4, 9}, s4.forwardBatch().tokenIds);
        assertEquals(1, s4.forwardBatch().outputIndex[0]);
        sched.abort(2);
        ScheduledBatch s5 = sched.schedule();
        assertEquals(List.of(c), s5.sequences().subList(0, 1), "then c, then d");
    }

    @Test
    void stopsOnEosStopIdsMaxTokensAndMaxModelLen() {
        BlockManager bm = new BlockManager(64, 4, false);
        Scheduler sched = new Scheduler(bm, 8, 256, 12, Set.of(0, 1));
        Sequence eos = new Sequence(1, range(5, 4), SamplingParams.builder().maxTokens(5).build(), 0);
        Sequence ignore = new Sequence(2, range(5, 4), SamplingParams.builder().maxTokens(2).ignoreEos(true).build(), 0);
        Sequence stopId = new Sequence(3, range(5, 4), SamplingParams.builder().maxTokens(5).ignoreEos(true).stopTokenIds(Set.of(1)).build(), 0);
        Sequence minTokens = new Sequence(4, range(5, 4), SamplingParams.builder().maxTokens(5).minTokens(1).build(), 0);
        Sequence modelLen = new Sequence(5, range(5, 10), SamplingParams.builder().maxTokens(50).ignoreEos(true).build(), 0);
        for (Sequence s : List.of(eos, ignore, stopId, minTokens, modelLen)) {
            sched.add(s);
        }
        ScheduledBatch s1 = sched.schedule();
        List<Sequence> got = sched.postprocess(s1, sampleAll(s1.forwardBatch(), 1));
        assertEquals(5, got.size());
        assertEquals(FinishReason.STOP, eos.finishReason(), "EOS id");
        assertFalse(ignore.isFinished(), "EOS ignored");
        assertEquals(FinishReason.STOP, stopId.finishReason(), "a stop id ends it even when EOS is ignored");
        assertFalse(minTokens.isFinished(), "EOS before min_tokens does not stop");
        assertFalse(modelLen.isFinished());
        ScheduledBatch s2 = sched.schedule();
        sched.postprocess(s2, sampleAll(s2.forwardBatch(), 1));
        assertEquals(FinishReason.LENGTH, ignore.finishReason(), "max_tokens");
        assertEquals(FinishReason.STOP, minTokens.finishReason());
        assertEquals(FinishReason.LENGTH, modelLen.finishReason(), "12 tokens = max_model_len");
        assertEquals(12, modelLen.numTokens());
        assertFalse(sched.hasUnfinished());
        assertEquals(64, bm.numFreeBlocks());
    }

    /**
     * Stop strings are decided where the token stops are: asked only for tokens no token stop ended, told when the
     * token is the last by length, and a match wins over that length limit.
     */
    @Test
    void stopStringsAreDecidedWithTheTokenStops() {
        BlockManager bm = new BlockManager(64, 4, false);
        Scheduler sched = new Scheduler(bm, 8, 256, 64, Set.of(0));
        Sequence byString = new Sequence(1, range(5, 4), SamplingParams.builder().maxTokens(10).build(), 0);
        Sequence stringAtLength = new Sequence(2, range(5, 4), SamplingParams.builder().maxTokens(1).build(), 0);
        Sequence byEos = new Sequence(3, range(5, 4), SamplingParams.builder().maxTokens(10).build(), 0);
        Sequence byLength = new Sequence(4, range(5, 4), SamplingParams.builder().maxTokens(1).build(), 0);
        List<String> asked = new ArrayList<>();
        sched.setTextStop((seq, last) -> {
            asked.add(seq.seqId() + (last ? " last" : ""));
            return seq == byString || seq == stringAtLength;
        });
        for (Sequence s : List.of(byString, stringAtLength, byEos, byLength)) {
            sched.add(s);
        }
        ScheduledBatch s1 = sched.schedule();
        StepOutput out = sampleAll(s1.forwardBatch(), 7);
        out.tokens()[2] = 0; // EOS for byEos
        sched.postprocess(s1, out);
        assertEquals(List.of("1", "2 last", "4 last"), asked, "EOS is never matched against the text");
        assertEquals(FinishReason.STOP, byString.finishReason());
        assertEquals(FinishReason.STOP, stringAtLength.finishReason(), "a stop string wins over max_tokens");
        assertEquals(FinishReason.STOP, byEos.finishReason());
        assertEquals(FinishReason.LENGTH, byLength.finishReason());
    }

    @Test
    void aSequenceLongerThanTheWholeCacheEndsWithLengthInsteadOfDeadlocking() {
        // 3 blocks of 4 = 12 tokens of context. The prompt (10) fits; the 13th token could never be computed.
        BlockManager bm = new BlockManager(3, 4, true);
        Simulation sim = new Simulation(bm, 4, 5, 1000);
        Workload.Req req = new Workload.Req(7, range(1, 10), SamplingParams.builder().maxTokens(20).ignoreEos(true).build(), 3, 0);
        Workload.Outcome outcome = sim.run(List.of(req)).get(7L);
        assertEquals(FinishReason.LENGTH, outcome.reason());
        assertEquals(3, outcome.tokens().length, "tokens 11, 12 and 13 were sampled; the 13th needs a 13th slot to continue");
        int[] dense = Workload.expected(req, 1000).tokens();
        assertArrayEquals(Arrays.copyOf(dense, 3), outcome.tokens());
    }

    @Test
    void rejectsPromptsThatCanNeverRun() {
        Scheduler sched = new Scheduler(new BlockManager(2, 4, false), 4, 16, 10, Set.of());
        LlmException tooLong = assertThrows(LlmException.class, () -> sched.add(new Sequence(1, range(0, 10), TEN, 0)));
        assertTrue(tooLong.getMessage().contains("max_model_len is 10"), tooLong.getMessage());
        LlmException tooBig = assertThrows(LlmException.class, () -> sched.add(new Sequence(2, range(0, 9), TEN, 0)));
        assertTrue(tooBig.getMessage().contains("KV cache holds only 8"), tooBig.getMessage());
        sched.add(new Sequence(3, range(0, 8), TEN, 0));
        assertThrows(IllegalArgumentException.class, () -> sched.add(new Sequence(3, range(0, 2), TEN, 0)), "duplicate id");
        assertThrows(IllegalArgumentException.class, () -> new Sequence(4, new int[0], TEN, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sequence(4, new int[] {3, -1}, TEN, 0));
        assertThrows(IllegalArgumentException.class, () -> new Scheduler(new BlockManager(2, 4, false), 0, 16, 10, Set.of()));
    }

    @Test
    void abortAndFinishFreeEverythingWherever() {
        BlockManager bm = new BlockManager(16, 2, true);
        Scheduler sched = new Scheduler(bm, 2, 64, 64, Set.of());
        Sequence a = new Sequence(1, range(1, 5), TEN, 0);
        Sequence b = new Sequence(2, range(1, 5), TEN, 0);
        Sequence c = new Sequence(3, range(1, 5), TEN, 0);
        sched.add(a);
        sched.add(b);
        sched.add(c);
        ScheduledBatch s1 = sched.schedule(); // a and b run, c waits (max 2 sequences)
        assertEquals(2, sched.numRunning());
        assertTrue(sched.abort(3));
        assertEquals(FinishReason.ABORT, c.finishReason());
        assertEquals(0, sched.numWaiting());
        // Aborted between schedule and postprocess: skipped, gets no token, frees its blocks.
        assertTrue(sched.abort(2));
        List<Sequence> got = sched.postprocess(s1, sampleAll(s1.forwardBatch(), 4));
        assertEquals(List.of(a), got);
        assertEquals(0, b.numOutputTokens());
        assertFalse(sched.abort(2), "already finished");
        assertFalse(sched.abort(99), "unknown");
        sched.finish(a, FinishReason.STOP);
        sched.finish(a, FinishReason.LENGTH); // no-op: finishes once
        assertEquals(FinishReason.STOP, a.finishReason());
        assertFalse(sched.hasUnfinished());
        assertNull(sched.schedule());
        assertEquals(16, bm.numFreeBlocks());
        for (int i = 0; i < 16; i++) {
            assertEquals(0, bm.refCount(i));
        }
        assertEquals(2, bm.numCachedBlocks(), "a's computed full blocks stay cached");
    }

    @Test
    void aFailedStepCanBeAbandonedByFinishingItsSequences() {
        Scheduler sched = new Scheduler(new BlockManager(16, 2, false), 4, 64, 64, Set.of());
        Sequence a = new Sequence(1, range(1, 5), TEN, 0);
        Sequence b = new Sequence(2, range(1, 3), TEN, 0);
        sched.add(a);
        ScheduledBatch s1 = sched.schedule();
        sched.add(b);
        assertThrows(IllegalStateException.class, sched::schedule, "previous batch not postprocessed");
        sched.finish(a, FinishReason.ERROR);
        ScheduledBatch s2 = sched.schedule();
        assertEquals(List.of(b), s2.sequences());
        assertThrows(IllegalStateException.class, () -> sched.postprocess(s1, sampleAll(s1.forwardBatch(), 1)), "stale batch");
        sched.postprocess(s2, sampleAll(s2.forwardBatch(), 1));
        assertThrows(IllegalStateException.class, () -> sched.postprocess(s2, sampleAll(s2.forwardBatch(), 1)), "twice");
    }

    @Test
    void aFullyCachedPromptRecomputesItsLastBlock() {
        BlockManager bm = new BlockManager(16, 4, true);
        Scheduler sched = new Scheduler(bm, 4, 64, 64, Set.of());
        int[] prompt = range(1, 8); // exactly two blocks
        Sequence a = new Sequence(1, prompt, TEN, 0);
        sched.add(a);
        ScheduledBatch s1 = sched.schedule();
        sched.postprocess(s1, sampleAll(s1.forwardBatch(), 3));
        Sequence b = new Sequence(2, prompt, TEN, 0);
        sched.add(b);
        ScheduledBatch s2 = sched.schedule();
        ForwardBatch fb = s2.forwardBatch();
        assertEquals(List.of(a, b), s2.sequences());
        assertEquals(4, b.numCachedTokens() , "first block shared");
        assertEquals(4, sched.numCachedPromptTokens());
        assertEquals(4, fb.queryLen(1), "the second block is recomputed into a fresh block, not written into a's");
        assertEquals(a.blockTable().blockId(0), fb.blockTables[1][0]);
        assertTrue(fb.blockTables[1][1] != a.blockTable().blockId(1));
        assertArrayEquals(new int[] {4, 5, 6, 7}, Arrays.copyOfRange(fb.positions, 1, 5));
        assertTrue(fb.sample[1]);
    }

    @Test
    void decodesAreNeverStarvedByAPrefill() {
        Scheduler sched = new Scheduler(new BlockManager(64, 4, false), 4, 8, 200, Set.of());
        Sequence a = new Sequence(1, range(1, 3), TEN, 0);
        sched.add(a);
        ScheduledBatch s1 = sched.schedule();
        sched.postprocess(s1, sampleAll(s1.forwardBatch(), 2));
        Sequence big = new Sequence(2, range(1, 30), TEN, 0);
        sched.add(big);
        for (int step = 0; step < 4; step++) {
            ScheduledBatch s = sched.schedule();
            assertEquals(List.of(a, big), s.sequences());
            assertEquals(1, s.forwardBatch().queryLen(0));
            assertEquals(7, s.forwardBatch().queryLen(1), "the prompt takes what the decode leaves");
            assertFalse(s.forwardBatch().sample[1]);
            sched.postprocess(s, sampleAll(s.forwardBatch(), 2));
        }
        ScheduledBatch last = sched.schedule();
        assertEquals(2, last.forwardBatch().queryLen(1));
        assertTrue(last.forwardBatch().sample[1]);
    }
}
