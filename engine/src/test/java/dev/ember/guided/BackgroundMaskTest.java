package dev.ember.guided;

import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.kv.BlockManager;
import dev.ember.sampling.SamplingParams;
import dev.ember.scheduler.ScheduledBatch;
import dev.ember.scheduler.Scheduler;
import dev.ember.scheduler.Sequence;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masks built off the scheduling thread, step by step: the builds run only when the test runs them, on a thread of
 * its own, so every interleaving is fixed.
 */
class BackgroundMaskTest {
    private static final int EOS = 3;
    private static final SamplingParams PARAMS = SamplingParams.builder().maxTokens(8).build();

    /** Runs nothing until asked; then runs the queued builds on a thread named "mask-builder". */
    private static final class ManualExecutor implements Executor {
        final List<Runnable> queued = new ArrayList<>();
        final List<String> ranOn = new ArrayList<>();

        @Override
        public void execute(Runnable r) {
            queued.add(r);
        }

        void runAll() throws InterruptedException {
            List<Runnable> now = new ArrayList<>(queued);
            queued.clear();
            Thread t = new Thread(() -> {
                for (Runnable r : now) {
                    r.run();
                    ranOn.add(Thread.currentThread().getName());
                }
            }, "mask-builder");
            t.start();
            t.join();
        }
    }

    private static TokenIndex index(Executor builders) {
        // 0 "a", 1 "b", 2 "ab", 3 EOS
        byte[][] bytes = {bytes("a"), bytes("b"), bytes("ab"), null};
        return new TokenIndex(Constraint.choice(List.of("ab", "b")), new TokenTrie(new TokenVocabulary(bytes)),
                Set.of(EOS), 4, builders);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static StepOutput tokens(ForwardBatch fb, int... perSeq) {
        return new StepOutput(perSeq, new float[fb.numSeqs], new int[fb.numSeqs][], new float[fb.numSeqs][]);
    }

    @Test
    void aGuidedSequenceSitsOutUntilItsMaskIsBuiltOffThreadWhileOthersRun() throws Exception {
        ManualExecutor builders = new ManualExecutor();
        TokenIndex index = index(builders);
        Scheduler sched = new Scheduler(new BlockManager(16, 4, false), 4, 64, 64, Set.of(EOS));
        Sequence guided = new Sequence(1, new int[]{5, 6, 7}, PARAMS, 1, index.newGuide());
        Sequence plain = new Sequence(2, new int[]{8, 9, 10}, PARAMS, 2);
        sched.add(guided);
        sched.add(plain);

        // step 1: the guided prompt computes all but its last token (its sampling waits for the start mask); the
        // plain one runs whole and samples
        ScheduledBatch s1 = sched.schedule();
        ForwardBatch fb = s1.forwardBatch();
        assertEquals(List.of(guided, plain), s1.sequences());
        assertArrayEquals(new int[]{0, 2, 5}, fb.queryStart);
        assertFalse(fb.sample[0]);
        assertTrue(fb.sample[1]);
        assertTrue(sched.waitsForMasks());
        assertFalse(sched.maskWait().isDone());
        assertEquals(1, builders.queued.size(), "the start state's build is queued, not run");
        sched.postprocess(s1, tokens(fb, -1, 11));

        // step 2: still not built: the plain decode runs alone; the guided sequence keeps its last prompt token
        ScheduledBatch s2 = sched.schedule();
        assertEquals(List.of(plain), s2.sequences());
        assertEquals(1, builders.queued.size(), "asked again, built once");
        sched.postprocess(s2, tokens(s2.forwardBatch(), 12));

        builders.runAll();
        assertEquals(List.of("mask-builder"), builders.ranOn);
        assertEquals(1, index.masksBuiltInBackground());
        assertEquals(0, index.masksBuiltInline());

        // step 3: built: the guided sequence samples under the start mask (a, b, ab; not EOS)
        ScheduledBatch s3 = sched.schedule();
        assertEquals(List.of(guided, plain), s3.sequences());
        ForwardBatch fb3 = s3.forwardBatch();
        assertTrue(fb3.sample[0]);
        assertNotNull(fb3.tokenMasks[0]);
        assertArrayEquals(new long[]{0b0111}, fb3.tokenMasks[0].bits());
        assertFalse(sched.waitsForMasks());
        sched.postprocess(s3, tokens(fb3, 0, 13)); // "a"

        // step 4: after "a" a new state: its mask is queued, the guided decode sits out
        ScheduledBatch s4 = sched.schedule();
        assertEquals(List.of(plain), s4.sequences());
        sched.postprocess(s4, tokens(s4.forwardBatch(), 14));
        sched.finish(plain, dev.ember.api.FinishReason.STOP);

        // with only the waiting guided sequence left, there is no step: the loop waits on maskWait
        assertNull(sched.schedule());
        assertTrue(sched.waitsForMasks());
        assertFalse(sched.maskWait().isDone());
        builders.runAll();
        assertTrue(sched.maskWait().isDone());
        ScheduledBatch s5 = sched.schedule();
        assertEquals(List.of(guided), s5.sequences());
        assertArrayEquals(new long[]{0b0010}, s5.forwardBatch().tokenMasks[0].bits(), "after \"a\": only \"b\"");
        assertEquals(2, index.masksBuiltInBackground());
        assertEquals(0, index.masksBuiltInline());
        assertEquals(List.of("mask-builder", "mask-builder"), builders.ranOn);
    }

    @Test
    void withoutAPoolTheAskingThreadBuildsAndNothingWaits() {
        TokenIndex index = index(null);
        Scheduler sched = new Scheduler(new BlockManager(16, 4, false), 4, 64, 64, Set.of(EOS));
        Sequence guided = new Sequence(1, new int[]{5, 6, 7}, PARAMS, 1, index.newGuide());
        sched.add(guided);
        ScheduledBatch s1 = sched.schedule();
        assertTrue(s1.forwardBatch().sample[0]);
        assertFalse(sched.waitsForMasks());
        assertEquals(1, index.masksBuiltInline());
        assertEquals(0, index.masksBuiltInBackground());
    }

    @Test
    void aClosedCacheStillAnswersEveryMask() {
        byte[][] bytes = {bytes("a"), bytes("b"), bytes("ab"), null};
        ConstraintCache cache = new ConstraintCache(new TokenVocabulary(bytes), Set.of(EOS), 4, 2);
        TokenIndex index = cache.get(Constraint.choice(List.of("ab", "b")));
        cache.close();
        assertArrayEquals(new long[]{0b0111}, index.requestMask(index.start()).join().bits());
    }
}
