package dev.ember.spark.plan;

import dev.ember.api.Result;
import dev.ember.spark.SparkTestSupport;
import dev.ember.spark.function.EmberFunctions;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.deploy.master.Master$;
import org.apache.spark.deploy.worker.Worker$;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Speculation on a real standalone cluster: a master on 127.0.0.1 and two workers on 127.0.0.2 and 127.0.0.3 (one
 * core, one executor JVM each), started and stopped here. Spark only launches a speculative copy on another host
 * than the running attempt's, so the two loopback addresses are what makes speculation happen on one machine. The
 * first attempt of partition 0 stalls; its speculative copy on the other worker finishes first and the original
 * is killed. The Parquet output holds every row exactly once and equals what the engine gives with no fault.
 */
@Tag("cluster")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SpeculationClusterTest {
    private static final String SEED = "7007";
    private static final int ROWS = 24;
    @TempDir
    static Path tmp;
    private static RpcEnv master;
    private static final List<RpcEnv> workers = new ArrayList<>();
    private static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars"));
        SparkConf conf = new SparkConf(false);
        master = Master$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, conf)._1();
        String masterUrl = "spark://127.0.0.1:" + master.address().port();
        for (int i = 0; i < 2; i++) {
            String host = "127.0.0." + (2 + i);
            Path work = Files.createDirectories(tmp.resolve("worker-" + i));
            workers.add(Worker$.MODULE$.startRpcEnvAndEndpoint(host, 0, 0, 1, 1024, new String[] {masterUrl},
                    work.toString(), Option.apply((Object) (i + 1)), conf, Option.empty()));
        }
        Map<String, String> options = SparkTestSupport.baseOptions(tmp.resolve("cache"));
        SparkSession.Builder b = SparkSession.builder().master(masterUrl).appName("ember-speculation")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.executor.memory", "768m")
                .config("spark.executor.cores", "1")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.speculation", "true")
                .config("spark.speculation.interval", "100ms")
                .config("spark.speculation.quantile", "0.5")
                .config("spark.speculation.multiplier", "2")
                .config("spark.speculation.minTaskRuntime", "1s")
                .config("spark.sql.extensions", dev.ember.spark.EmberExtensions.class.getName());
        options.forEach((k, v) -> b.config("spark.ember." + k, v));
        spark = b.getOrCreate();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3) {
            assertTrue(System.nanoTime() < deadline, "the two workers' executors did not register within 120 s");
            Thread.sleep(200);
        }
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        for (RpcEnv w : workers) {
            w.shutdown();
            w.awaitTermination();
        }
        if (master != null) {
            master.shutdown();
            master.awaitTermination();
        }
    }

    @Test
    void aSpeculativeCopyWinsAndTheOutputHoldsEveryRowOnceAsWithoutFaults() {
        Set<String> speculativeHosts = ConcurrentHashMap.newKeySet();
        AtomicInteger speculative = new AtomicInteger();
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onTaskStart(SparkListenerTaskStart start) {
                if (start.taskInfo().speculative()) {
                    speculative.incrementAndGet();
                    speculativeHosts.add(start.taskInfo().host());
                }
            }
        });
        // the first attempt of the partition holding row 0 stalls (until speculation kills it); any other attempt runs
        UserDefinedFunction stallFirstAttempt = udf((UDF1<Long, Long>) id -> {
            if (id == 0 && TaskContext.get().attemptNumber() == 0) {
                Thread.sleep(60_000);
            }
            return id;
        }, DataTypes.LongType).asNondeterministic();
        String out = tmp.resolve("out").toString();
        spark.range(0, ROWS, 1, 4).select(stallFirstAttempt.apply(col("id")).as("id"))
                .selectExpr("id", "concat('speculate ', id) AS prompt")
                .select(col("id"), col("prompt"), EmberFunctions.generate(col("prompt"),
                        Map.of("seed", SEED, "temperature", "0.8")).as("r"))
                .write().parquet(out);

        assertTrue(speculative.get() >= 1, "Spark launched a speculative attempt");
        List<Row> rows = spark.read().parquet(out).orderBy("id").collectAsList();
        assertEquals(ROWS, rows.size(), "every row exactly once");
        Map<String, String> all = new HashMap<>(SparkTestSupport.baseOptions(tmp.resolve("cache")));
        all.put("seed", SEED);
        all.put("temperature", "0.8");
        List<Result> expected = SparkTestSupport.expected(all, rows.stream().map(r -> r.getString(1)).toList());
        for (int i = 0; i < ROWS; i++) {
            assertEquals(i, rows.get(i).getLong(0));
            SparkTestSupport.assertSameResult(expected.get(i), rows.get(i).getStruct(2), "row " + i);
        }
    }
}
