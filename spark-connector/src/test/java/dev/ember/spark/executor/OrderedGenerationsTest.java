package dev.ember.spark.executor;

import dev.ember.engine.Engine;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.SparkTestSupport;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A wait for the oldest row can be stopped (a killed task), and close() then aborts what is in flight. */
class OrderedGenerationsTest {
    @TempDir
    Path cacheDir;

    @Test
    void stoppedWaitAndCloseAbortTheRowsInFlight() throws Exception {
        Map<String, String> options = SparkTestSupport.baseOptions(cacheDir);
        options.put("max_tokens", "2000");
        options.put("ignore_eos", "true");
        EmberSettings settings = EmberSettings.resolve(options);
        Path local = ModelCache.localize("demo", cacheDir, new Configuration());
        try (Engine engine = Engine.create(settings.engineConfig(local, null))) {
            List<RowInput> inputs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                inputs.add(RowInput.of(settings, i, "row-" + i, "a long story number " + i, null, null));
            }
            AtomicInteger checks = new AtomicInteger();
            OrderedGenerations g = new OrderedGenerations(engine, inputs.iterator(), 3, () -> {
                if (checks.incrementAndGet() == 2) {
                    throw new IllegalStateException("task killed");
                }
            });
            long start = System.nanoTime();
            IllegalStateException e = assertThrows(IllegalStateException.class, g::next);
            assertEquals("task killed", e.getMessage());
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "the wait stopped at the second check");
            g.close();
            // (the engine's running/waiting gauges are only refreshed by a step, so watch the finished count)
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
}
