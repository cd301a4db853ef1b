package dev.ember.spark.executor;

import dev.ember.ConfigException;
import dev.ember.api.EngineConfig;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.SparkTestSupport;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExecutorCoresTest {
    private static int threads(int available, String... keyValues) {
        Map<String, String> conf = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            conf.put(keyValues[i], keyValues[i + 1]);
        }
        return ExecutorCores.threads(conf, available);
    }

    @Test
    void localMasterGivesItsThreadCount() {
        assertEquals(1, threads(8, "spark.master", "local"));
        assertEquals(3, threads(8, "spark.master", "local[3]"));
        assertEquals(8, threads(8, "spark.master", "local[*]"));
        assertEquals(4, threads(8, "spark.master", "local[4, 2]")); // with task retries
        assertEquals(8, threads(8, "spark.master", "local[*,3]"));
        // local mode ignores spark.executor.cores, and so does Ember
        assertEquals(2, threads(8, "spark.master", "local[2]", "spark.executor.cores", "6"));
    }

    @Test
    void localClusterGivesTheCoresOfOneExecutor() {
        assertEquals(3, threads(16, "spark.master", "local-cluster[2, 3, 1024]"));
    }

    @Test
    void clusterExecutorsUseTheirCoresSetting() {
        assertEquals(4, threads(32, "spark.master", "spark://host:7077", "spark.executor.cores", "4"));
        assertEquals(5, threads(32, "spark.master", "yarn", "spark.executor.cores", " 5 "));
    }

    @Test
    void withoutACoresSettingSparksOwnDefaultCounts() {
        // standalone: one executor per worker, with all its cores
        assertEquals(12, threads(12, "spark.master", "spark://host:7077"));
        assertEquals(12, threads(12));
        // YARN and Kubernetes give an executor one core unless told otherwise
        assertEquals(1, threads(12, "spark.master", "yarn"));
        assertEquals(1, threads(12, "spark.master", "k8s://https://api:6443"));
    }

    @Test
    void onlyTheCoresOfWholeTaskSlotsAreUsed() {
        // 5 cores, 2 per task: two slots run at once, the fifth core is never scheduled
        assertEquals(4, threads(32, "spark.executor.cores", "5", "spark.task.cpus", "2"));
        assertEquals(6, threads(32, "spark.executor.cores", "6", "spark.task.cpus", "3"));
        assertEquals(4, threads(8, "spark.master", "local[4]", "spark.task.cpus", "4"));
    }

    @Test
    void neverMoreThanTheProcessorsTheJvmSees() {
        assertEquals(2, threads(2, "spark.master", "local[16]"));
        assertEquals(2, threads(2, "spark.executor.cores", "8"));
        assertEquals(1, threads(0, "spark.master", "local[*]"));
    }

    @Test
    void aBadSparkSettingIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> threads(8, "spark.executor.cores", "four"));
        assertTrue(e.getMessage().contains("spark.executor.cores") && e.getMessage().contains("four"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> threads(8, "spark.task.cpus", "0"));
        assertTrue(e.getMessage().contains("spark.task.cpus"), e.getMessage());
    }

    @Test
    void anExplicitNumThreadsAndTheCudaBackendAreLeftAlone() {
        EngineConfig explicit = EngineConfig.builder(Path.of("m")).numThreads(7).build();
        assertSame(explicit, EngineRegistry.withExecutorThreads(explicit));
        EngineConfig cuda = EngineConfig.builder(Path.of("m")).device("cuda").build();
        assertSame(cuda, EngineRegistry.withExecutorThreads(cuda));
    }

    @Test
    void anEngineInALocalSessionGetsTheMastersThreads(@TempDir Path cache) {
        SparkSession spark = SparkTestSupport.session("local[1]", Map.of());
        try {
            String master = spark.sparkContext().master();
            int expected = threads(Runtime.getRuntime().availableProcessors(), "spark.master", master);
            assertEquals(expected, ExecutorCores.current(), "from SparkEnv's conf, master " + master);
            Map<String, String> options = new java.util.HashMap<>(Map.of("model", "demo", "cache_dir", cache.toString(),
                    "cpu_kv_cache_mb", "16"));
            try (EngineLease lease = EngineRegistry.acquire(EmberSettings.resolve(options), null,
                    new Configuration(false))) {
                String description = lease.engine().backendDescription();
                assertTrue(description.contains(", " + expected + " threads,"), description);
            }
            options.put("num_threads", "3");
            try (EngineLease lease = EngineRegistry.acquire(EmberSettings.resolve(options), null,
                    new Configuration(false))) {
                String description = lease.engine().backendDescription();
                assertTrue(description.contains(", 3 threads,"), "an explicit num_threads wins: " + description);
            }
        } finally {
            EngineRegistry.closeAll();
            spark.stop();
        }
    }
}
