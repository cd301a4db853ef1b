package dev.ember.spark.plan;

import dev.ember.engine.Engine;
import dev.ember.api.Result;
import dev.ember.spark.SparkTestSupport;
import dev.ember.spark.executor.EngineKey;
import dev.ember.spark.executor.EngineRegistry;
import dev.ember.spark.function.EmberFunctions;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * local-cluster[2,1,1024]: two executor JVMs (the recipe of SPARK-NOTES.md). Each executor holds one engine;
 * every row is answered exactly once; the results are those of Engine.generate (as in local mode).
 */
@Tag("cluster") // about 45 s on a busy 2-core machine; runs in mvn verify (the tag is not excluded)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LocalClusterTest {
    private static final String SEED = "9090";
    private static final int ROWS = 40;
    @TempDir
    static Path cacheDir;
    private static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars"));
        Map<String, String> options = SparkTestSupport.baseOptions(cacheDir);
        SparkSession.Builder b = SparkSession.builder().master("local-cluster[2,1,1024]").appName("ember-cluster")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.executor.memory", "768m")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.sql.extensions", dev.ember.spark.EmberExtensions.class.getName());
        options.forEach((k, v) -> b.config("spark.ember." + k, v));
        spark = b.getOrCreate();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3) {
            assertTrue(System.nanoTime() < deadline, "the two executors did not register within 90 s");
            Thread.sleep(200);
        }
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void oneEnginePerExecutorAndEveryRowOnce() {
        List<Row> rows = spark.range(0, ROWS, 1, 6).selectExpr("id", "concat('cluster prompt ', id) AS prompt")
                .select(col("id"), col("prompt"), EmberFunctions.generate(col("prompt"),
                        Map.of("seed", SEED, "temperature", "0.8")).as("r"))
                .collectAsList();
        assertEquals(ROWS, rows.size());
        Map<String, String> all = new HashMap<>(SparkTestSupport.baseOptions(cacheDir));
        all.put("seed", SEED);
        all.put("temperature", "0.8");
        List<String> prompts = rows.stream().map(r -> r.getString(1)).toList();
        List<Result> expected = SparkTestSupport.expected(all, prompts);
        for (int i = 0; i < ROWS; i++) {
            assertEquals(i, rows.get(i).getLong(0));
            SparkTestSupport.assertSameResult(expected.get(i), rows.get(i).getStruct(2), "row " + i);
        }

        // ask every executor (many small tasks) for its PID and its engines
        JavaRDD<String> probes = spark.range(0, 16, 1, 16).toJavaRDD().map(x -> {
            long engines = 0;
            long finished = 0;
            for (Map.Entry<EngineKey, Engine> e : EngineRegistry.engines().entrySet()) {
                if (SEED.equals(e.getKey().engineOptions().get("seed"))) {
                    engines++;
                    finished += e.getValue().metrics().requestsFinished();
                }
            }
            return ProcessHandle.current().pid() + ":" + engines + ":" + finished;
        });
        Map<String, long[]> byPid = new HashMap<>();
        for (String p : probes.collect()) {
            String[] f = p.split(":");
            byPid.put(f[0], new long[]{Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
        assertTrue(byPid.size() >= 2, "tasks ran in two executor JVMs: " + byPid.keySet());
        assertTrue(!byPid.containsKey(String.valueOf(ProcessHandle.current().pid())), "no task ran in the driver");
        long answered = 0;
        for (Map.Entry<String, long[]> e : byPid.entrySet()) {
            assertTrue(e.getValue()[0] <= 1, "executor " + e.getKey() + " holds " + e.getValue()[0] + " engines");
            answered += e.getValue()[1];
        }
        // every row was generated exactly once across the executors' engines (no duplicate or lost request)
        assertEquals(ROWS, answered, "requests finished by the executors' engines: " + byPid);
    }
}
