package dev.ember.engine;

import dev.ember.LlmException;
import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.backend.Backend;
import dev.ember.backend.ForwardingBackend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An engine whose step never returns (a hung device) fails its waiters with a timeout naming stall_timeout_s. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StallTest {
    /** The real CPU backend, except that once {@code hang} is set its next step blocks until {@code release}. */
    private static final class HangingBackend extends ForwardingBackend {
        final AtomicBoolean hang = new AtomicBoolean();
        final CountDownLatch release = new CountDownLatch(1);

        HangingBackend(Backend real) {
            super(real);
        }

        @Override
        public StepOutput step(ForwardBatch batch) {
            if (hang.get()) {
                boolean released = false;
                while (!released) {
                    try {
                        released = release.await(1, TimeUnit.MINUTES); // a hung kernel ignores interrupts too
                    } catch (InterruptedException ignored) {
                        // keep hanging
                    }
                }
            }
            return delegate.step(batch);
        }
    }

    @Test
    void aHungStepFailsItsRequestsWithATimeoutNamingTheSetting(@TempDir Path dir) throws Exception {
        DemoModel.write(dir);
        HangingBackend[] backend = new HangingBackend[1];
        EngineConfig config = EngineConfig.builder(dir).numThreads(1).cpuKvCacheBytes(8L << 20).stallTimeoutSeconds(0.3)
                .maxInFlight(2).build();
        Engine engine = Engine.create(config, real -> backend[0] = new HangingBackend(real));
        try {
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(3).build();
            Thread.sleep(600); // idle longer than the timeout: no step runs, so no stall
            assertTrue(engine.generate(List.of(Request.ofText("ok", "hello", p))).get(0).ok());

            backend[0].hang.set(true);
            long start = System.nanoTime();
            CompletableFuture<Result> a = engine.submit(Request.ofText("a", "hello", p));
            CompletableFuture<Result> b = engine.submit(Request.ofText("b", "world", p));
            ExecutionException e = assertThrows(ExecutionException.class, () -> a.get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("made no progress") && e.getCause().getMessage()
                    .contains("stall_timeout_s=0.3"), e.getCause().getMessage());
            assertThrows(ExecutionException.class, () -> b.get(5, TimeUnit.SECONDS));
            assertTrue((System.nanoTime() - start) / 1e9 < 10, "failed within seconds, not hung");
            assertTrue(engine.failure() instanceof LlmException);
            // both in-flight permits came back (max_in_flight=2): a new submit is refused at once, naming the cause
            LlmException refused = assertThrows(LlmException.class, () -> engine.submit(Request.ofText("c", "x", p)));
            assertTrue(refused.getMessage().contains("stall_timeout_s"), refused.getMessage());
        } finally {
            backend[0].release.countDown();
            engine.close();
        }
        assertEquals(3, engine.metrics().requestsFinished(), "the first request and the two failed ones");
    }
}
