package dev.ember.spark.executor;

import dev.ember.api.Request;
import dev.ember.backend.Backend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.ForwardingBackend;
import dev.ember.backend.StepOutput;
import dev.ember.engine.Engine;
import dev.ember.sampling.SamplingParams;
import dev.ember.spark.EmberSettings;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineRegistryTest {
    private final Configuration hadoop = new Configuration(false);

    @AfterEach
    void closeEngines() {
        EngineRegistry.closeAll();
    }

    private static EmberSettings settings(Path cache, Map<String, String> extra) {
        Map<String, String> o = new java.util.HashMap<>(extra);
        o.put("model", "demo");
        o.put("cache_dir", cache.toString());
        return EmberSettings.resolve(o);
    }

    @Test
    void concurrentTasksShareOneEngineAndLeasesAreCounted(@TempDir Path cache) throws Exception {
        EmberSettings s = settings(cache, Map.of("max_num_seqs", "8"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<EngineLease> leases = new ArrayList<>();
        try {
            List<Future<EngineLease>> futures = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                futures.add(pool.submit(() -> EngineRegistry.acquire(s, null, hadoop)));
            }
            Set<Engine> engines = new HashSet<>();
            for (Future<EngineLease> f : futures) {
                leases.add(f.get());
                engines.add(leases.get(leases.size() - 1).engine());
            }
            assertEquals(1, engines.size());
            assertEquals(1, EngineRegistry.engines().size());
            EngineKey key = leases.get(0).key();
            assertEquals(6, EngineRegistry.leases(key));
            leases.get(0).close();
            leases.get(0).close(); // idempotent
            assertEquals(5, EngineRegistry.leases(key));
            for (EngineLease l : leases) {
                l.close();
            }
            assertEquals(0, EngineRegistry.leases(key));
            try (EngineLease again = EngineRegistry.acquire(s, null, hadoop)) {
                assertSame(engines.iterator().next(), again.engine(), "an idle engine stays loaded for the next task");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void differentEngineSettingsGetDifferentEnginesButSamplingDoesNot(@TempDir Path cache) {
        try (EngineLease a = EngineRegistry.acquire(settings(cache, Map.of("max_num_seqs", "8")), null, hadoop);
             EngineLease b = EngineRegistry.acquire(settings(cache, Map.of("max_num_seqs", "4")), null, hadoop);
             EngineLease c = EngineRegistry.acquire(settings(cache, Map.of("max_num_seqs", "8", "temperature", "0")), null, hadoop)) {
            assertNotSame(a.engine(), b.engine());
            assertSame(a.engine(), c.engine());
            assertEquals(2, EngineRegistry.engines().size());
        }
    }

    @Test
    void closeAllClosesTheEnginesAndAFailedLoadIsNotCached(@TempDir Path cache) {
        Engine e;
        try (EngineLease a = EngineRegistry.acquire(settings(cache, Map.of()), null, hadoop)) {
            e = a.engine();
        }
        EngineRegistry.closeAll();
        assertTrue(EngineRegistry.engines().isEmpty());
        assertThrows(RuntimeException.class, () -> e.submit(Request.ofText("x", "hi",
                SamplingParams.builder().build())));

        EmberSettings missing = EmberSettings.resolve(Map.of("model", cache.resolve("absent").toString()));
        RuntimeException first = assertThrows(RuntimeException.class, () -> EngineRegistry.acquire(missing, null, hadoop));
        assertTrue(first.getMessage().contains("does not exist"), first.getMessage());
        assertTrue(EngineRegistry.engines().isEmpty());
    }

    /**
     * The CPU backend, except that once {@code fail} is set its next step throws as a device fault would. (The
     * test once truncated the checkpoint's mapped file under the running engine instead; the JVM reports such a
     * fault asynchronously, at a point of its choosing in whichever thread read the page, which once hung CI.)
     */
    private static final class FaultyBackend extends ForwardingBackend {
        final AtomicBoolean fail = new AtomicBoolean();

        FaultyBackend(Backend real) {
            super(real);
        }

        @Override
        public StepOutput step(ForwardBatch batch) {
            if (fail.get()) {
                throw new IllegalStateException("injected device fault: an illegal memory access was encountered");
            }
            return delegate.step(batch);
        }
    }

    /**
     * A fault inside the step loop must not poison the executor: the task that held the engine sees the original
     * cause, the dead engine is evicted and closed when its last lease goes, and the next task gets a fresh engine.
     */
    @Test
    void anEngineWhoseStepLoopFailedIsEvictedClosedAndReplaced(@TempDir Path cache) throws Exception {
        EmberSettings s = settings(cache, Map.of());
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(3).build();
        List<FaultyBackend> backends = new ArrayList<>();
        UnaryOperator<Backend> faulty = real -> {
            FaultyBackend b = new FaultyBackend(real);
            backends.add(b);
            return b;
        };
        Engine dead;
        try (EngineLease lease = EngineRegistry.acquire(s, null, hadoop, faulty)) {
            dead = lease.engine();
            assertTrue(dead.generate(List.of(Request.ofText("a", "hello", greedy))).get(0).ok());
            backends.get(0).fail.set(true);
            RuntimeException failed = assertThrows(RuntimeException.class,
                    () -> dead.generate(List.of(Request.ofText("b", "hello again", greedy))));
            assertTrue(String.valueOf(dead.failure()).contains("injected device fault"), "the step loop died: " + failed);
            RuntimeException stale = assertThrows(RuntimeException.class,
                    () -> dead.submit(Request.ofText("c", "more", greedy)));
            assertTrue(stale.getMessage().contains(String.valueOf(dead.failure())), stale.getMessage());
            assertEquals(1, EngineRegistry.engines().size(), "a leased engine stays registered until released");
        }
        // the last lease is gone: the dead engine was evicted and closed, its memory freed
        assertTrue(EngineRegistry.engines().isEmpty());
        RuntimeException closed = assertThrows(RuntimeException.class,
                () -> dead.submit(Request.ofText("d", "more", greedy)));
        assertTrue(closed.getMessage().contains("closed after its step loop failed: " + dead.failure()), closed.getMessage());

        try (EngineLease lease = EngineRegistry.acquire(s, null, hadoop, faulty)) {
            assertNotSame(dead, lease.engine());
            assertEquals(2, backends.size(), "the replacement loaded the model again");
            assertTrue(lease.engine().generate(List.of(Request.ofText("e", "hello", greedy))).get(0).ok());
        }
    }

    /**
     * Several engines, one GPU: a new engine of another option set closes the idle engines on its GPU first, keeps
     * the ones in use, and leaves other GPUs alone. CPU engines keyed on a GPU ordinal stand in for CUDA engines
     * (the policy looks only at keys and leases), so this runs without a GPU.
     */
    @Test
    void aNewEngineClosesIdleEnginesOfOtherOptionSetsOnItsGpuOnly(@TempDir Path cache) {
        EmberSettings a = settings(cache, Map.of("seed", "1"));
        EmberSettings b = settings(cache, Map.of("seed", "2"));
        EmberSettings c = settings(cache, Map.of("seed", "3"));
        Engine idleOnGpu0;
        try (EngineLease first = EngineRegistry.acquire(a, 0, hadoop)) {
            idleOnGpu0 = first.engine();
        }
        Engine otherGpu;
        try (EngineLease onGpu1 = EngineRegistry.acquire(a, 1, hadoop)) {
            otherGpu = onGpu1.engine();
        }
        try (EngineLease cpu = EngineRegistry.acquire(a, null, hadoop)) {
            assertEquals(3, EngineRegistry.engines().size());
        }
        try (EngineLease busy = EngineRegistry.acquire(b, 0, hadoop)) {
            assertTrue(idleOnGpu0.isClosed(), "the idle engine of another option set on GPU 0 was closed first");
            assertTrue(!otherGpu.isClosed(), "GPU 1's engine is not in the way");
            assertEquals(3, EngineRegistry.engines().size(), "GPU 1 and the CPU keep theirs");
            // b is leased: a third option set on GPU 0 must share the GPU with it, not close it
            try (EngineLease third = EngineRegistry.acquire(c, 0, hadoop)) {
                assertTrue(!busy.engine().isClosed(), "an engine in use is never closed");
                assertNotSame(busy.engine(), third.engine());
                assertEquals(4, EngineRegistry.engines().size());
            }
        }
    }

    /**
     * While one task loads an engine (a slow checkpoint: here its backend's construction waits on a latch), tasks of
     * another engine get theirs and leases of loaded engines are released: the load does not hold the registry's
     * lock. A second task for the loading engine waits for that load and shares its engine.
     */
    @Test
    void aSlowLoadBlocksNeitherOtherEnginesNorLeaseReleases(@TempDir Path cache) throws Exception {
        EmberSettings slow = settings(cache, Map.of("max_num_seqs", "4"));
        EmberSettings other = settings(cache, Map.of("max_num_seqs", "8"));
        EngineLease otherFirst = EngineRegistry.acquire(other, null, hadoop);
        java.util.concurrent.CountDownLatch loading = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
        UnaryOperator<Backend> slowLoad = b -> {
            loading.countDown();
            try {
                finish.await(2, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return b;
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<EngineLease> slowTask = pool.submit(() -> EngineRegistry.acquire(slow, null, hadoop, slowLoad));
            assertTrue(loading.await(1, java.util.concurrent.TimeUnit.MINUTES), "the slow load started");
            Future<EngineLease> sameKey = pool.submit(() -> EngineRegistry.acquire(slow, null, hadoop));

            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
                try (EngineLease otherSecond = EngineRegistry.acquire(other, null, hadoop)) {
                    assertSame(otherFirst.engine(), otherSecond.engine());
                }
                otherFirst.close();
                assertEquals(0, EngineRegistry.leases(otherFirst.key()));
            }, "another engine's task waited for the slow load");

            finish.countDown();
            EngineLease a = slowTask.get(1, java.util.concurrent.TimeUnit.MINUTES);
            EngineLease b = sameKey.get(1, java.util.concurrent.TimeUnit.MINUTES);
            assertSame(a.engine(), b.engine(), "the task that waited for the load shares its engine");
            assertEquals(2, EngineRegistry.leases(a.key()));
            assertEquals(2, EngineRegistry.engines().size());
            a.close();
            b.close();
        } finally {
            finish.countDown();
            pool.shutdownNow();
        }
    }
}
