package dev.ember.spark.executor;

import dev.ember.engine.Engine;
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
        assertThrows(RuntimeException.class, () -> e.submit(dev.ember.engine.Request.ofText("x", "hi",
                dev.ember.sampling.SamplingParams.builder().build())));

        EmberSettings missing = EmberSettings.resolve(Map.of("model", cache.resolve("absent").toString()));
        RuntimeException first = assertThrows(RuntimeException.class, () -> EngineRegistry.acquire(missing, null, hadoop));
        assertTrue(first.getMessage().contains("does not exist"), first.getMessage());
        assertTrue(EngineRegistry.engines().isEmpty());
    }
}
