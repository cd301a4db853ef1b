package dev.ember.spark.executor;

import dev.ember.engine.Engine;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.SparkTestSupport;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A wait for the oldest row can be stopped (a killed task), and close() then aborts what is in flight. */
class TaskSessionAbortTest {
    @TempDir
    Path cacheDir;

    @AfterEach
    void closeEngines() {
        EngineRegistry.closeAll();
    }

    @Test
    void stoppedWaitAndCloseAbortTheRowsInFlight() throws Exception {
        Map<String, String> options = SparkTestSupport.baseOptions(cacheDir);
        options.put("max_tokens", "2000");
        options.put("ignore_eos", "true");
        options.put("max_in_flight_per_task", "3");
        EmberSettings settings = EmberSettings.resolve(options);
        Engine engine;
        try (EngineLease lease = EngineRegistry.acquire(settings, null, new Configuration())) {
            engine = lease.engine();
        }
        Iterator<Integer> rows = new Iterator<>() {
            int i;
            public boolean hasNext() { return i < 1000; }
            public Integer next() { return i++; }
        };
        TaskSession.RowInputs<Integer> inputs = new TaskSession.RowInputs<>() {
            @Override
            public RowInput input(Integer row, long index, String requestId) {
                return RowInput.of(settings, index, requestId, "a long story number " + row, null, null);
            }

            @Override
            public String where(Integer row, long index) {
                return "the test";
            }
        };
        AtomicInteger checks = new AtomicInteger();
        TaskSessionTest.Counted metrics = new TaskSessionTest.Counted();
        TaskSession<Integer> session = new TaskSession<>(settings,
                () -> EngineRegistry.acquire(settings, null, new Configuration()), rows, inputs, metrics, () -> {
                    if (checks.incrementAndGet() == 2) {
                        throw new IllegalStateException("task killed");
                    }
                }, "abort-");
        long start = System.nanoTime();
        IllegalStateException e = assertThrows(IllegalStateException.class, session::next);
        assertEquals("task killed", e.getMessage());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "the wait stopped at the second check");
        session.close();
        assertEquals(1, metrics.finishedCalls, "a closed session still reports");
        // watch the finished count: it moves only when the aborts are processed
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (engine.metrics().requestsFinished() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(3, engine.metrics().requestsFinished(), "close() aborted the window: only it was submitted");
        long tokens = engine.metrics().generatedTokens();
        assertTrue(tokens < 3 * 2000, "aborted before the rows finished: " + tokens + " tokens");
        Thread.sleep(300);
        assertEquals(tokens, engine.metrics().generatedTokens(), "the engine is idle after the aborts");
    }
}
