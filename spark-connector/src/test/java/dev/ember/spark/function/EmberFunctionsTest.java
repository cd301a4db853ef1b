package dev.ember.spark.function;

import dev.ember.api.ChatMessage;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.SparkTestSupport;
import dev.ember.spark.executor.RowInput;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.ember.spark.SparkTestSupport.assertSameResult;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DataFrame and SQL functions in local[2] give, row for row, what Engine.generate gives directly. */
class EmberFunctionsTest {
    private static final int ROWS = 24;
    @TempDir
    static Path cacheDir;
    private static SparkSession spark;
    private static Map<String, String> base;
    private static Dataset<Row> prompts;

    @BeforeAll
    static void start() {
        base = SparkTestSupport.baseOptions(cacheDir);
        spark = SparkTestSupport.session("local[2]", base);
        List<Row> rows = new ArrayList<>();
        List<String> texts = SparkTestSupport.prompts(ROWS);
        for (int i = 0; i < ROWS; i++) {
            rows.add(RowFactory.create((long) i, texts.get(i)));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType);
        prompts = spark.createDataFrame(rows, schema).repartition(3).sortWithinPartitions("id");
        prompts.createOrReplaceTempView("prompts");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Map<String, String> with(Map<String, String> options) {
        Map<String, String> all = new LinkedHashMap<>(base);
        all.putAll(options);
        return all;
    }

    /** Rows sorted by id after checking every id came back once, with the input prompt intact. */
    private static List<Row> byId(List<Row> rows) {
        assertEquals(ROWS, rows.size());
        Row[] out = new Row[ROWS];
        for (Row r : rows) {
            int id = (int) r.getLong(0);
            assertNull(out[id], "id " + id + " answered twice");
            out[id] = r;
        }
        return List.of(out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0.8"})
    void dataFrameFunctionEqualsEngine(String temperature) {
        Map<String, String> options = Map.of("temperature", temperature, "max_tokens", "12");
        Dataset<Row> out = prompts.select(col("id"), col("prompt"), EmberFunctions.generate(col("prompt"), options).as("r"));
        List<Row> rows = byId(out.collectAsList());
        List<Result> expected = SparkTestSupport.expected(with(options), SparkTestSupport.prompts(ROWS));
        for (int i = 0; i < ROWS; i++) {
            assertEquals(SparkTestSupport.prompts(ROWS).get(i), rows.get(i).getString(1));
            assertSameResult(expected.get(i), rows.get(i).getStruct(2), "row " + i);
            assertTrue(expected.get(i).ok());
        }
        assertEquals(1, SparkTestSupport.generateExecs(out.queryExecution().executedPlan()).size(),
                out.queryExecution().executedPlan().toString());
    }

    @Test
    void temperatureChangesTheOutput() {
        List<Result> greedy = SparkTestSupport.expected(with(Map.of("temperature", "0", "max_tokens", "12")),
                SparkTestSupport.prompts(ROWS));
        List<Result> sampled = SparkTestSupport.expected(with(Map.of("temperature", "0.8", "max_tokens", "12")),
                SparkTestSupport.prompts(ROWS));
        int differ = 0;
        for (int i = 0; i < ROWS; i++) {
            differ += greedy.get(i).text().equals(sampled.get(i).text()) ? 0 : 1;
        }
        assertNotEquals(0, differ, "sampling at 0.8 should change some outputs (else the test compares nothing)");
    }

    @Test
    void sqlFunctionWithMapOptionsEqualsEngine() {
        List<Row> rows = byId(spark.sql("SELECT id, llm_generate(prompt, map('max_tokens', '10', 'temperature', '0.8'))"
                + " AS r FROM prompts").collectAsList());
        List<Result> expected = SparkTestSupport.expected(with(Map.of("max_tokens", "10", "temperature", "0.8")),
                SparkTestSupport.prompts(ROWS));
        for (int i = 0; i < ROWS; i++) {
            assertSameResult(expected.get(i), rows.get(i).getStruct(1), "row " + i);
        }
    }

    @Test
    void sqlFunctionWithSessionConfOnly() {
        List<Row> rows = byId(spark.sql("SELECT id, llm_generate(prompt).text AS text, llm_generate(prompt).error AS e"
                + " FROM prompts WHERE llm_generate(prompt).finish_reason IS NOT NULL").collectAsList());
        List<Result> expected = SparkTestSupport.expected(base, SparkTestSupport.prompts(ROWS));
        for (int i = 0; i < ROWS; i++) {
            assertEquals(expected.get(i).text(), rows.get(i).getString(1), "row " + i);
            assertNotNull(rows.get(i).getString(1));
            assertNull(rows.get(i).get(2));
        }
    }

    @Test
    void callsUnderAggregates() {
        // the call is non-deterministic (so the optimizer never duplicates it): Spark refuses it as an aggregate
        // function's argument or a grouping key, so it goes in a subquery
        Row row = spark.sql("SELECT count(*), sum(r.completion_tokens) FROM (SELECT llm_generate(prompt,"
                + " map('max_tokens', '3', 'ignore_eos', 'true')) AS r FROM prompts)").collectAsList().get(0);
        assertEquals(ROWS, row.getLong(0));
        assertEquals(3L * ROWS, row.getLong(1));
        List<Row> groups = spark.sql("SELECT r.finish_reason AS f, count(*) AS n FROM (SELECT llm_generate(prompt,"
                + " map('max_tokens', '3', 'ignore_eos', 'true')) AS r FROM prompts) GROUP BY 1").collectAsList();
        assertEquals(1, groups.size(), groups.toString());
        assertEquals("length", groups.get(0).getString(0));
        assertEquals(ROWS, groups.get(0).getLong(1));
    }

    @Test
    void rowsComeBackInInputOrderWithInputColumns() {
        Dataset<Row> ordered = spark.range(0, 40, 1, 4).selectExpr("id", "concat('item ', id) AS prompt", "id * 2 AS twice");
        List<Row> rows = ordered.withColumn("r", EmberFunctions.generate(col("prompt"), Map.of("max_tokens", "4")))
                .collectAsList();
        assertEquals(40, rows.size());
        for (int i = 0; i < 40; i++) {
            Row r = rows.get(i);
            assertEquals(i, r.getLong(0));
            assertEquals("item " + i, r.getString(1));
            assertEquals(2L * i, r.getLong(2));
            assertFalse(r.getStruct(3).<String>getAs("text") == null);
        }
    }

    @Test
    void chatFormsEqualEngine() {
        Map<String, String> options = Map.of("temperature", "0.8");
        Dataset<Row> chat = prompts.select(col("id"), EmberFunctions.generateChat(array(
                EmberFunctions.message("system", lit("Be brief.")), EmberFunctions.message("user", col("prompt"))),
                options).as("r"));
        Dataset<Row> system = prompts.select(col("id"),
                EmberFunctions.generate(col("prompt"), lit("Be brief."), options).as("r"));
        List<Row> sql = byId(spark.sql("SELECT id, llm_generate_chat(array(named_struct('role', 'system', 'content',"
                + " 'Be brief.'), named_struct('role', 'user', 'content', prompt)), map('temperature', '0.8')) AS r"
                + " FROM prompts").collectAsList());
        EmberSettings settings = EmberSettings.resolve(with(options));
        List<Request> requests = new ArrayList<>();
        for (String p : SparkTestSupport.prompts(ROWS)) {
            requests.add(RowInput.of(settings, 0, "x", null,
                    List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", p)), null).request());
        }
        List<Result> expected = SparkTestSupport.generate(settings, requests);
        List<Row> chatRows = byId(chat.collectAsList());
        List<Row> systemRows = byId(system.collectAsList());
        for (int i = 0; i < ROWS; i++) {
            assertSameResult(expected.get(i), chatRows.get(i).getStruct(1), "chat row " + i);
            assertSameResult(expected.get(i), systemRows.get(i).getStruct(1), "system-prompt row " + i);
            assertSameResult(expected.get(i), sql.get(i).getStruct(1), "SQL chat row " + i);
        }
        // the systemPrompt option renders the same chat from a plain prompt
        List<Row> viaOption = byId(prompts.select(col("id"), EmberFunctions.generate(col("prompt"),
                Map.of("temperature", "0.8", "system_prompt", "Be brief.")).as("r")).collectAsList());
        for (int i = 0; i < ROWS; i++) {
            assertSameResult(expected.get(i), viaOption.get(i).getStruct(1), "systemPrompt option row " + i);
        }
    }

    @Test
    void nestedCallsAreStacked() {
        Dataset<Row> out = prompts.select(col("id"), EmberFunctions.generate(
                EmberFunctions.generate(col("prompt"), Map.of("temperature", "0")).getField("text"),
                Map.of("temperature", "0", "max_tokens", "4")).as("r"));
        List<Row> rows = byId(out.collectAsList());
        List<Result> first = SparkTestSupport.expected(with(Map.of("temperature", "0")), SparkTestSupport.prompts(ROWS));
        List<String> firstTexts = first.stream().map(Result::text).toList();
        List<Result> second = SparkTestSupport.expected(with(Map.of("temperature", "0", "max_tokens", "4")), firstTexts);
        for (int i = 0; i < ROWS; i++) {
            assertSameResult(second.get(i), rows.get(i).getStruct(1), "row " + i);
        }
        assertEquals(2, SparkTestSupport.generateExecs(out.queryExecution().executedPlan()).size(),
                out.queryExecution().executedPlan().toString());
    }
}
