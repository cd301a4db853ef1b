package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.backend.Backend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.ForwardingBackend;
import dev.ember.backend.StepOutput;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's lifecycle under faults and races, each interleaving forced with latches (no sleeps): every future
 * completes and close() returns, whatever point a fault or a close() hits.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LifecycleTest {
    @TempDir
    static Path modelDir;

    @BeforeAll
    static void writeModel() throws Exception {
        DemoModel.write(modelDir);
    }

    /**
     * Waits (at most a minute) until {@code t}, running Engine.close(), waits for the step thread: its only waits are
     * those joins, after it stopped the loop.
     */
    static void awaitJoining(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < deadline, "close() never reached its join; state " + t.getState());
            Thread.sleep(1);
        }
    }

    /**
     * Runs ahead like the CUDA backend; the first step launched ahead waits until the engine is closing, so close()
     * finds it still pending, and collecting it throws an Error (a device fault surfacing as an Error).
     */
    static final class FailingAheadBackend extends ForwardingBackend {
        final CountDownLatch aheadLaunched = new CountDownLatch(1);
        final CountDownLatch closing = new CountDownLatch(1);
        final OutOfMemoryError fault = new OutOfMemoryError("Direct buffer memory (injected)");
        private int outstanding;

        FailingAheadBackend(Backend inner) {
            super(new RunAheadTest.PlaceholderBackend(inner));
        }

        @Override
        public boolean runsAhead() {
            return true;
        }

        @Override
        public Pending launch(ForwardBatch b) {
            Pending inner = delegate.launch(b);
            boolean ahead = outstanding > 0;
            outstanding++;
            if (ahead && aheadLaunched.getCount() > 0) {
                aheadLaunched.countDown();
                awaitQuietly(closing);
                return () -> {
                    throw fault;
                };
            }
            return () -> {
                outstanding--;
                return inner.collect();
            };
        }
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            assertTrue(latch.await(1, TimeUnit.MINUTES), "latch never opened");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anErrorCollectingTheStepLaunchedAheadAtCloseStillCompletesEveryFuture() throws Exception {
        EngineConfig config = EngineConfig.builder(modelDir).numThreads(1).cpuKvCacheBytes(8L << 20)
                .asyncScheduling(true).build();
        FailingAheadBackend[] backend = new FailingAheadBackend[1];
        Engine engine = Engine.create(config, real -> backend[0] = new FailingAheadBackend(real));
        SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(64).ignoreEos(true).build();
        CompletableFuture<Result> a = engine.submit(Request.ofText("a", "hello", p));
        awaitQuietly(backend[0].aheadLaunched);
        Thread closer = new Thread(engine::close, "test-closer");
        closer.start();
        awaitJoining(closer); // stop() was called: the loop ends after this step, the launched-ahead step pending
        backend[0].closing.countDown();

        ExecutionException e = assertThrows(ExecutionException.class, () -> a.get(60, TimeUnit.SECONDS),
                "the request's future completes (it was left pending forever)");
        assertSame(backend[0].fault, e.getCause());
        closer.join(TimeUnit.MINUTES.toMillis(1));
        assertFalse(closer.isAlive(), "close() returned");
        assertSame(backend[0].fault, engine.failure());
    }

    /** The real CPU backend, except that its steps hang (ignoring interrupts, as a hung kernel does) once armed. */
    static final class HangingBackend extends ForwardingBackend {
        volatile boolean hang;
        final CountDownLatch hanging = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        HangingBackend(Backend real) {
            super(real);
        }

        @Override
        public StepOutput step(ForwardBatch batch) {
            if (hang) {
                hanging.countDown();
                boolean released = false;
                while (!released) {
                    try {
                        released = release.await(2, TimeUnit.MINUTES);
                    } catch (InterruptedException ignored) {
                        // a hung kernel does not return for an interrupt
                    }
                }
            }
            return delegate.step(batch);
        }
    }

    /**
     * close() called while a step hangs, before the stall watchdog gives up on it, must still return once the
     * watchdog has (a bounded wait, as when close() comes after the watchdog): an executor's shutdown closes its
     * engines and would otherwise hang with the device.
     */
    @Test
    void closeDuringAHungStepReturnsOnceTheWatchdogFires() throws Exception {
        EngineConfig config = EngineConfig.builder(modelDir).numThreads(1).cpuKvCacheBytes(8L << 20)
                .stallTimeoutSeconds(3).build();
        HangingBackend[] backend = new HangingBackend[1];
        Engine engine = Engine.create(config, real -> backend[0] = new HangingBackend(real));
        Thread closer = new Thread(engine::close, "test-closer");
        try {
            backend[0].hang = true;
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(4).build();
            CompletableFuture<Result> a = engine.submit(Request.ofText("a", "hello", p));
            awaitQuietly(backend[0].hanging);
            closer.start();
            ExecutionException e = assertThrows(ExecutionException.class, () -> a.get(60, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("stall_timeout_s"), e.getCause().getMessage());
            closer.join(TimeUnit.MINUTES.toMillis(1));
            assertFalse(closer.isAlive(), "close() returned though the step thread stays stuck");
        } finally {
            backend[0].release.countDown();
            closer.join(TimeUnit.MINUTES.toMillis(1));
        }
    }

    /**
     * A request that fails after submit() took its in-flight permit, with an exception other than the LlmException
     * submit() expects (here: a tokenizer.json changed under the engine, which guided decoding reads lazily, and that
     * the vocabulary reader trips over), gives the permit back: at max_in_flight=1 the next submit() would otherwise
     * wait forever.
     */
    @Test
    void aRequestThatFailsInSubmitGivesItsInFlightPermitBack(@TempDir Path dir) throws Exception {
        DemoModel.write(dir);
        EngineConfig config = EngineConfig.builder(dir).numThreads(1).cpuKvCacheBytes(8L << 20).maxInFlight(1).build();
        try (Engine engine = Engine.create(config)) {
            java.nio.file.Files.writeString(dir.resolve("tokenizer.json"),
                    "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}}}");
            SamplingParams guided = SamplingParams.builder().maxTokens(2)
                    .guided(dev.ember.guided.Constraint.choice(java.util.List.of("yes", "no"))).build();
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> engine.submit(Request.ofText("g", "hello", guided)));
            assertFalse(e instanceof dev.ember.LlmException, "the case submit() did not expect: " + e);

            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(2).build();
            Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
                    () -> engine.submit(Request.ofText("next", "hello", p)).get(60, TimeUnit.SECONDS),
                    "the next submit() waited for a permit the failed request never gave back");
            assertTrue(r.ok(), r.toString());
        }
    }

    /** The real CPU backend, whose steps wait until {@code go} opens. */
    static final class GatedBackend extends ForwardingBackend {
        final CountDownLatch go = new CountDownLatch(1);

        GatedBackend(Backend real) {
            super(real);
        }

        @Override
        public StepOutput step(ForwardBatch batch) {
            awaitQuietly(go);
            return delegate.step(batch);
        }
    }

    /**
     * A caller woken by its request's future (a callback, or generate() returning) sees that request counted in
     * requestsFinished: the count moves before the future completes, not in a callback racing the caller's.
     */
    @Test
    void aCompletedRequestIsCountedBeforeItsCallerWakes() throws Exception {
        EngineConfig config = EngineConfig.builder(modelDir).numThreads(1).cpuKvCacheBytes(8L << 20).build();
        GatedBackend[] backend = new GatedBackend[1];
        try (Engine engine = Engine.create(config, real -> backend[0] = new GatedBackend(real))) {
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(1).build();
            CompletableFuture<Result> a = engine.submit(Request.ofText("a", "hello", p));
            // registered while the step waits: it runs when the future completes
            CompletableFuture<Long> seen = a.thenApply(r -> engine.metrics().requestsFinished());
            backend[0].go.countDown();
            assertTrue(a.get(60, TimeUnit.SECONDS).ok());
            org.junit.jupiter.api.Assertions.assertEquals(1L, seen.get(60, TimeUnit.SECONDS),
                    "requestsFinished as the request's own callback reads it");
        }
    }
}
