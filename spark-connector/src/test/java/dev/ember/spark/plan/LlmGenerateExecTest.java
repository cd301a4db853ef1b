package dev.ember.spark.plan;

import dev.ember.engine.Engine;
import dev.ember.engine.EngineMetrics;
import dev.ember.spark.EmberMetrics;
import dev.ember.spark.SparkTestSupport;
import dev.ember.spark.executor.EngineKey;
import dev.ember.spark.executor.EngineRegistry;
import dev.ember.spark.function.EmberFunctions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator in local[4]: the executor's one engine serves all concurrent tasks, and a step's batch holds
 * requests of several tasks; the SQL metrics hold the right totals.
 */
class LlmGenerateExecTest {
    @TempDir
    static Path cacheDir;
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("local[4]", SparkTestSupport.baseOptions(cacheDir));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Map.Entry<EngineKey, Engine> engineWithSeed(String seed) {
        List<Map.Entry<EngineKey, Engine>> matching = EngineRegistry.engines().entrySet().stream()
                .filter(e -> seed.equals(e.getKey().engineOptions().get("seed"))).toList();
        assertEquals(1, matching.size(), "one engine for the options, shared by every task: " + EngineRegistry.engines().keySet());
        return matching.get(0);
    }

    @Test
    void oneEngineBatchesRequestsOfSeveralTasks() {
        int window = 2;
        Dataset<Row> input = spark.range(0, 48, 1, 4).selectExpr("id", "concat('tell me about item ', id) AS prompt");
        Dataset<Row> out = input.select(col("id"), EmberFunctions.generate(col("prompt"), Map.of("seed", "4242",
                "max_in_flight_per_task", String.valueOf(window), "max_tokens", "16", "ignore_eos", "true",
                "temperature", "0")).as("r"));
        List<Row> rows = out.collectAsList();
        assertEquals(48, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(i, rows.get(i).getLong(0));
            assertEquals(16, (int) rows.get(i).getStruct(1).<Integer>getAs("completion_tokens"));
        }
        Map.Entry<EngineKey, Engine> engine = engineWithSeed("4242");
        EngineMetrics m = engine.getValue().metrics();
        assertEquals(48, m.requestsFinished());
        // one task never has more than `window` requests in the engine: a larger step held several tasks' requests
        assertTrue(m.peakRunning() > window, "peak batch " + m.peakRunning() + " should exceed one task's window " + window);
        assertEquals(0, EngineRegistry.leases(engine.getKey()), "every task closed its lease");
    }

    @Test
    void sqlMetricsHoldTheTotals() {
        Dataset<Row> input = spark.range(0, 30, 1, 3).selectExpr("id",
                "CASE WHEN id % 10 = 3 THEN NULL ELSE concat('metric prompt ', id) END AS prompt");
        Dataset<Row> out = input.select(col("id"), EmberFunctions.generate(col("prompt"), Map.of("seed", "5151",
                "max_tokens", "7", "ignore_eos", "true")).as("r"));
        List<Row> rows = out.collectAsList();
        long prompt = 0;
        long generated = 0;
        long errors = 0;
        for (Row r : rows) {
            Row g = r.getStruct(1);
            prompt += g.<Integer>getAs("prompt_tokens");
            generated += g.<Integer>getAs("completion_tokens");
            errors += g.getAs("error") == null ? 0 : 1;
        }
        assertEquals(3, errors);
        assertEquals(27 * 7, generated);
        var metrics = onlyExec(out).metrics();
        assertEquals(30, metrics.apply(EmberMetrics.ROWS).value());
        assertEquals(3, metrics.apply(EmberMetrics.ERROR_ROWS).value());
        assertEquals(prompt, metrics.apply(EmberMetrics.PROMPT_TOKENS).value());
        assertEquals(generated, metrics.apply(EmberMetrics.GENERATED_TOKENS).value());
        assertTrue(metrics.apply(EmberMetrics.GENERATION_MS).value() > 0);
        assertEquals(0, metrics.apply(EmberMetrics.PREEMPTIONS).value());
        // the metric's name is the progress listener's contract
        assertEquals(EmberMetrics.GENERATED_TOKENS, metrics.apply(EmberMetrics.GENERATED_TOKENS).name().get());
    }

    @Test
    void preemptionMetricIsTheEnginesCount() {
        // a KV cache of 3 blocks of 8 tokens holds one finished sequence (about 6 + 12 tokens), not two
        Dataset<Row> out = spark.range(0, 3, 1, 1).selectExpr("concat('tight ', id) AS prompt")
                .select(EmberFunctions.generate(col("prompt"), Map.of("seed", "6161", "num_kv_blocks", "3",
                        "block_size", "8", "max_tokens", "12", "ignore_eos", "true")).as("r"));
        assertEquals(3, out.collectAsList().size());
        long engine = engineWithSeed("6161").getValue().metrics().preemptions();
        assertTrue(engine > 0, "the small KV cache should force preemptions");
        assertEquals(engine, onlyExec(out).metrics().apply(EmberMetrics.PREEMPTIONS).value());
    }

    @Test
    void cancelledJobAbortsItsRowsInFlight() throws Exception {
        Thread job = new Thread(() -> {
            // no thread interrupt: the task notices the kill while it waits (OrderedGenerations' check)
            spark.sparkContext().setJobGroup("ember-cancel", "cancel test", false);
            try {
                spark.range(0, 40, 1, 2).selectExpr("concat('a long story ', id) AS prompt")
                        .select(EmberFunctions.generate(col("prompt"), Map.of("seed", "7171", "max_tokens", "2000",
                                "ignore_eos", "true", "max_in_flight_per_task", "4")).as("r")).collectAsList();
            } catch (Exception expected) {
                // cancelled (a SparkException)
            }
        });
        job.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!hasEngineWithTokens("7171") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        spark.sparkContext().cancelJobGroup("ember-cancel");
        job.join(30_000);
        Map.Entry<EngineKey, Engine> engine = engineWithSeed("7171");
        deadline = System.nanoTime() + 10_000_000_000L;
        while (EngineRegistry.leases(engine.getKey()) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, EngineRegistry.leases(engine.getKey()), "the killed tasks closed their leases");
        Thread.sleep(200); // the step loop takes the aborts at its next step
        long tokens = engine.getValue().metrics().generatedTokens();
        Thread.sleep(500);
        assertEquals(tokens, engine.getValue().metrics().generatedTokens(), "the engine stopped: rows were aborted");
        assertTrue(tokens < 8 * 2000, "aborted before the in-flight rows finished: " + tokens + " tokens");
    }

    private static boolean hasEngineWithTokens(String seed) {
        return EngineRegistry.engines().entrySet().stream().anyMatch(e -> seed.equals(e.getKey().engineOptions().get("seed"))
                && e.getValue().metrics().generatedTokens() > 0);
    }

    private static LlmGenerateExec onlyExec(Dataset<Row> out) {
        List<LlmGenerateExec> execs = SparkTestSupport.generateExecs(out.queryExecution().executedPlan());
        assertEquals(1, execs.size());
        return execs.get(0);
    }
}
