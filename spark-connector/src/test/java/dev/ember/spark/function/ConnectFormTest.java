package dev.ember.spark.function;

import dev.ember.api.Result;
import dev.ember.spark.SparkTestSupport;
import org.apache.spark.sql.Column;
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

import static dev.ember.spark.SparkTestSupport.assertSameResult;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The form generate() takes over Spark Connect: the SQL function call a server resolves with Ember's extensions.
 * Evaluated here in a classic session (as a Connect server would), it gives the engine's rows, checks options at
 * analysis, and the one combination SQL cannot carry (call options and a per-row map) is refused with what to do.
 */
class ConnectFormTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Map<String, String> options;
    private static Dataset<Row> input;

    @BeforeAll
    static void start() {
        options = SparkTestSupport.baseOptions(dir.resolve("cache"));
        spark = SparkTestSupport.session("local[2]", options);
        List<String> prompts = SparkTestSupport.prompts(4);
        input = spark.createDataFrame(List.of(
                        org.apache.spark.sql.RowFactory.create(0L, prompts.get(0)),
                        org.apache.spark.sql.RowFactory.create(1L, prompts.get(1)),
                        org.apache.spark.sql.RowFactory.create(2L, prompts.get(2)),
                        org.apache.spark.sql.RowFactory.create(3L, prompts.get(3))),
                new org.apache.spark.sql.types.StructType().add("id", "long").add("prompt", "string"));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void theSqlFormGivesTheEnginesRows() {
        Column call = EmberFunctions.sqlCall(LlmGenerate.Kind.TEXT, col("prompt"), null,
                Map.of("max_tokens", "3", "temperature", "0.7"));
        assertTrue(call.toString().startsWith("llm_generate(prompt, map("), call.toString());
        List<Row> rows = input.select(col("id"), call.as("r")).orderBy("id").collectAsList();
        Map<String, String> all = new java.util.HashMap<>(options);
        all.put("max_tokens", "3");
        all.put("temperature", "0.7");
        List<Result> expected = SparkTestSupport.expected(all, SparkTestSupport.prompts(4));
        for (Row r : rows) {
            assertSameResult(expected.get((int) r.getLong(0)), r.getStruct(1), "row " + r.getLong(0));
        }
        // per-row options travel as the second argument
        Column perRow = EmberFunctions.sqlCall(LlmGenerate.Kind.TEXT, col("prompt"),
                map(lit("max_tokens"), lit("2")), Map.of());
        for (Row r : input.select(perRow.as("r")).collectAsList()) {
            assertEquals(2, r.getStruct(0).<Integer>getAs("completion_tokens"));
        }
    }

    @Test
    void badOptionsFailAtAnalysisAndTheUnsendableCombinationIsRefused() {
        Column bad = EmberFunctions.sqlCall(LlmGenerate.Kind.TEXT, col("prompt"), null, Map.of("maxTokens", "3"));
        String m = SparkTestSupport.messages(assertThrows(Throwable.class, () -> input.select(bad).collectAsList()));
        assertTrue(m.contains("did you mean 'max_tokens'?"), m);
        String both = assertThrows(dev.ember.ConfigException.class, () -> EmberFunctions.sqlCall(LlmGenerate.Kind.TEXT,
                col("prompt"), map(lit("temperature"), lit("0")), Map.of("max_tokens", "3"))).getMessage();
        assertTrue(both.contains("either call options or a per-row options map"), both);
    }
}
