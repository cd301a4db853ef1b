package dev.ember.spark.function;

import dev.ember.spark.EmberExtensions;
import dev.ember.spark.SparkTestSupport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad rows give an error in that row only; bad options fail at planning with the option, value and what is
 * allowed; fail_on_error=true fails the job naming the row. The session is built without spark.sql.extensions, so
 * this class also covers {@link EmberExtensions#install}.
 */
class BadInputTest {
    @TempDir
    static Path cacheDir;
    private static SparkSession spark;
    private static Dataset<Row> input;

    @BeforeAll
    static void start() {
        Map<String, String> base = SparkTestSupport.baseOptions(cacheDir);
        base.put("max_model_len", "64");
        base.put("max_tokens", "4");
        SparkSession.Builder b = SparkSession.builder().master("local[2]").appName("ember-bad-input")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2");
        base.forEach((k, v) -> b.config("spark.ember." + k, v));
        spark = b.getOrCreate();
        EmberExtensions.install(spark);
        String tooLong = String.join(" ", java.util.Collections.nCopies(80, "overlong"));
        List<Row> rows = Arrays.asList(
                RowFactory.create(0L, "hello there", "0.5"),
                RowFactory.create(1L, null, "0.5"),
                RowFactory.create(2L, "", "0.5"),
                RowFactory.create(3L, tooLong, "0.5"),
                RowFactory.create(4L, "fine again", "-1"),
                RowFactory.create(5L, "last one", "abc"));
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType)
                .add("t", DataTypes.StringType);
        input = spark.createDataFrame(rows, schema).repartition(2).sortWithinPartitions("id");
        input.createOrReplaceTempView("bad");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Row[] byId(List<Row> rows) {
        Row[] out = new Row[rows.size()];
        rows.forEach(r -> out[(int) r.getLong(0)] = r);
        return out;
    }

    @Test
    void badRowsGetAnErrorAndOthersAreFine() {
        Row[] rows = byId(input.select(col("id"), EmberFunctions.generate(col("prompt")).as("r")).collectAsList());
        assertEquals(6, rows.length);
        for (int ok : new int[]{0, 4, 5}) {
            assertNull(rows[ok].getStruct(1).getAs("error"), "row " + ok);
            assertNotNull(rows[ok].getStruct(1).getAs("text"), "row " + ok);
        }
        assertError(rows[1], "prompt is null");
        assertError(rows[2], "prompt is empty");
        assertError(rows[3], "max_model_len");
    }

    private static void assertError(Row row, String expectedPart) {
        Row r = row.getStruct(1);
        assertNull(r.getAs("text"), "row " + row.getLong(0));
        assertEquals("error", r.getAs("finish_reason"));
        String error = r.getAs("error");
        assertNotNull(error, "row " + row.getLong(0));
        assertTrue(error.contains(expectedPart), "row " + row.getLong(0) + ": " + error);
    }

    @Test
    void invalidPerRowOptionIsAnErrorInThatRow() {
        Row[] sql = byId(spark.sql("SELECT id, llm_generate(prompt, map('temperature', t)) AS r FROM bad").collectAsList());
        Row[] df = byId(input.select(col("id"), EmberFunctions.generate(col("prompt"), Map.of(),
                map(lit("temperature"), col("t"))).as("r")).collectAsList());
        for (Row[] rows : List.of(sql, df)) {
            assertNull(rows[0].getStruct(1).getAs("error"));
            assertError(rows[4], "temperature");
            assertError(rows[4], "-1");
            assertError(rows[5], "'abc'");
            assertError(rows[1], "prompt is null");
        }
        // a null value leaves the option unset for that row
        Row[] nulls = byId(spark.sql("SELECT id, llm_generate(prompt, map('temperature', CASE WHEN id = 0 THEN t END,"
                + " 'top_k', CASE WHEN id = 4 THEN '0' END)) AS r FROM bad").collectAsList());
        assertNull(nulls[0].getStruct(1).getAs("error"));
        assertNull(nulls[4].getStruct(1).getAs("error"));
        assertNull(nulls[5].getStruct(1).getAs("error"));
        // a per-row option that is not a sampling option is an error in the row too
        Row[] engineOption = byId(spark.sql("SELECT id, llm_generate(prompt, map('max_num_seqs', t)) AS r FROM bad")
                .collectAsList());
        assertError(engineOption[0], "only sampling options may vary per row");
    }

    @Test
    void malformedChatMessagesAreErrorRows() {
        Row[] rows = byId(spark.sql("SELECT id, llm_generate_chat(array(named_struct('role', 'user', 'content',"
                + " prompt))) AS r FROM bad").collectAsList());
        assertNull(rows[0].getStruct(1).getAs("error"));
        assertError(rows[1], "content");
        // an empty message is a valid chat turn
        assertNull(rows[2].getStruct(1).getAs("error"));
        assertError(rows[3], "max_model_len");
    }

    @Test
    void failOnErrorFailsTheJobNamingTheRow() {
        Exception e = assertThrows(Exception.class, () -> input.where("id <= 1")
                .select(col("id"), EmberFunctions.generate(col("prompt"), Map.of("fail_on_error", "true")).as("r"))
                .collectAsList());
        String m = SparkTestSupport.messages(e);
        assertTrue(m.contains("row 1 of partition") || m.contains("row 0 of partition"), m);
        assertTrue(m.contains("prompt is null"), m);
        assertTrue(m.contains("fail_on_error=true"), m);
    }

    @Test
    void badOptionsFailAtPlanningBeforeAnyTask() {
        LongAccumulator tasks = spark.sparkContext().longAccumulator();
        spark.sparkContext().addSparkListener(new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onTaskStart(org.apache.spark.scheduler.SparkListenerTaskStart start) {
                tasks.add(1);
            }
        });
        long before = tasks.value();
        assertPlanningError(() -> input.select(EmberFunctions.generate(col("prompt"), Map.of("temprature", "0"))),
                "unknown Ember option 'temprature'", "temperature");
        assertPlanningError(() -> input.select(EmberFunctions.generate(col("prompt"), Map.of("temperature", "-1"))),
                "temperature", "-1");
        assertPlanningError(() -> input.select(EmberFunctions.generate(col("prompt"), Map.of("max_num_seqs", "abc"))),
                "'max_num_seqs' is 'abc'", "an integer");
        assertPlanningError(() -> spark.sql("SELECT llm_generate(prompt, map('top_p', '7')) FROM bad"), "top_p", "7");
        assertPlanningError(() -> spark.sql("SELECT llm_generate(prompt, map('fail_on_error', 'ignore')) FROM bad"),
                "'fail_on_error' is 'ignore'", "true, false");
        assertPlanningError(() -> spark.sql("SELECT llm_generate(id) FROM bad"), "prompt must be a string", "bigint");
        assertPlanningError(() -> input.select(EmberFunctions.generate(col("prompt"),
                Map.of("model", cacheDir.resolve("no-such-model").toString()))), "no-such-model", "does not exist");
        assertPlanningError(() -> spark.sql("SELECT llm_generate(prompt, map('model', '"
                + cacheDir.resolve("no-such-model") + "')) FROM bad"), "'model' is '", "no-such-model", "does not exist");
        assertEquals(before, tasks.value(), "no task may run for a query that fails at planning");
    }

    @Test
    void aLocalCheckpointThatWouldNotLoadFailsAtPlanningOnce() throws Exception {
        Path broken = java.nio.file.Files.createDirectories(cacheDir.resolve("broken-checkpoint"));
        java.nio.file.Files.writeString(broken.resolve("config.json"), "{ not json");
        // the driver checks a local checkpoint (config, tensor shapes, tokenizer file) before any task
        Exception e = assertThrows(Exception.class, () -> input.select(EmberFunctions.generate(col("prompt"),
                Map.of("model", broken.toString()))).collectAsList());
        String m = SparkTestSupport.messages(e);
        assertTrue(m.contains("config.json"), m);
        assertTrue(!m.contains("Ember could not start its engine"), "failed at planning, not in a task: " + m);

        Path noTokenizer = dev.ember.demo.DemoModel.write(cacheDir.resolve("demo-without-tokenizer"));
        java.nio.file.Files.delete(noTokenizer.resolve("tokenizer.json"));
        Exception t = assertThrows(Exception.class, () -> input.select(EmberFunctions.generate(col("prompt"),
                Map.of("model", noTokenizer.toString()))).collectAsList());
        assertTrue(SparkTestSupport.messages(t).contains("has no tokenizer.json"), SparkTestSupport.messages(t));
    }

    @Test
    void aRemoteCheckpointThatFailsToLoadFailsTheJobWithTheEnginesMessage() throws Exception {
        Path broken = java.nio.file.Files.createDirectories(cacheDir.resolve("broken-remote"));
        java.nio.file.Files.writeString(broken.resolve("config.json"), "{ not json");
        String uri = broken.toUri().toString();
        // a URI is copied and loaded on the executors, so the task fails: once in local mode; a cluster retries
        // spark.task.maxFailures times, each failing fast with this message
        Exception e = assertThrows(Exception.class, () -> input.select(EmberFunctions.generate(col("prompt"),
                Map.of("model", uri))).collectAsList());
        String m = SparkTestSupport.messages(e);
        assertTrue(m.contains("Ember could not start its engine for model '" + uri + "'"), m);
        assertTrue(m.contains("config.json"), m);
    }

    @Test
    void optionMapsWhoseValuesAreNotScalarsFailAtPlanning() {
        // a value is read with toString: an array's is an object name such as GenericArrayData@1b2c, which became
        // the stop string that never matched
        assertPlanningError(() -> spark.sql("SELECT llm_generate(prompt, map('stop', array('.'))) FROM bad")
                .collectAsList(), "map<string,array<string>>", "string");
        assertPlanningError(() -> input.select(EmberFunctions.generate(col("prompt"), Map.of(),
                        map(lit("stop"), org.apache.spark.sql.functions.array(col("t")))).as("r")).collectAsList(),
                "map<string,array<string>>", "string");
        // numbers and booleans read as their text, as before; map() is no options
        List<Row> rows = spark.sql("SELECT llm_generate(prompt, map('max_tokens', 2)) AS r, llm_generate(prompt, map())"
                + " AS e FROM bad WHERE id = 0").collectAsList();
        assertTrue(rows.get(0).getStruct(0).<Integer>getAs("completion_tokens") <= 2);
        assertNull(rows.get(0).getStruct(1).getAs("error"));
    }

    /**
     * A call in a CASE / IF / COALESCE branch is generated only for the rows that take that branch: a guard against
     * null, empty or over-long prompts keeps fail_on_error=true from failing on rows it excludes, and rows whose
     * value comes from elsewhere are not generated (nor counted).
     */
    @Test
    void aCallInABranchNotTakenIsNotGeneratedForThatRow() {
        List<Row> guarded = spark.sql("SELECT id, CASE WHEN prompt IS NULL OR prompt = '' OR length(prompt) > 100"
                + " THEN 'skipped' ELSE llm_generate(prompt, map('fail_on_error', 'true')).text END AS x FROM bad"
                + " ORDER BY id").collectAsList();
        Row[] plain = byId(input.select(col("id"), EmberFunctions.generate(col("prompt")).as("r")).collectAsList());
        for (Row r : guarded) {
            int id = (int) r.getLong(0);
            assertEquals(id == 1 || id == 2 || id == 3 ? "skipped" : plain[id].getStruct(1).getAs("text"), r.getString(1),
                    "row " + id);
        }
        Dataset<Row> cached = spark.sql("SELECT id, coalesce(CASE WHEN id % 2 = 0 THEN 'cached' END,"
                + " if(id = 5, 'five', llm_generate(prompt).error)) AS x FROM bad");
        Row[] out = byId(cached.collectAsList());
        assertEquals("cached", out[0].getString(1));
        assertEquals("prompt is null", out[1].getString(1));
        assertTrue(out[3].getString(1).contains("max_model_len"), out[3].getString(1));
        assertEquals("five", out[5].getString(1));
        var execs = SparkTestSupport.generateExecs(cached.queryExecution().executedPlan());
        assertEquals(1, execs.size());
        assertEquals(2, execs.get(0).metrics().apply(dev.ember.spark.EmberMetrics.ROWS).value(),
                "only rows 1 and 3 reach the call");
    }

    /**
     * A row a CASE branch excludes does not evaluate the call's prompt or per-row options, as Spark's own CASE would
     * not: under ANSI mode {@code 10 / id} throws DIVIDE_BY_ZERO for id 0, which {@code WHEN id <> 0} keeps out.
     * Included rows get the same generation as without the CASE; the excluded row is null and reaches no model.
     */
    @Test
    void aBranchNotTakenDoesNotEvaluateTheCallsInputs() {
        String ansi = spark.conf().get("spark.sql.ansi.enabled");
        spark.conf().set("spark.sql.ansi.enabled", "true");
        try {
            Dataset<Row> guarded = spark.sql("SELECT id, CASE WHEN id <> 0 THEN llm_generate(CAST(10 / id AS STRING))"
                    + " END AS r FROM bad");
            Row[] out = byId(guarded.collectAsList());
            Row[] plain = new Row[out.length];
            spark.sql("SELECT id, llm_generate(CAST(10 / id AS STRING)) AS r FROM bad WHERE id <> 0").collectAsList()
                    .forEach(r -> plain[(int) r.getLong(0)] = r);
            assertTrue(out[0].isNullAt(1), "the excluded row is null: " + out[0]);
            for (int id = 1; id <= 5; id++) {
                Row r = out[id].getStruct(1);
                assertNull(r.getAs("error"), "row " + id);
                assertNotNull(r.getAs("text"), "row " + id);
                assertEquals(plain[id].getStruct(1).<String>getAs("text"), r.getAs("text"), "row " + id);
            }
            var execs = SparkTestSupport.generateExecs(guarded.queryExecution().executedPlan());
            assertEquals(5, execs.get(0).metrics().apply(dev.ember.spark.EmberMetrics.ROWS).value(),
                    "row 0 reaches no model");

            // the per-row options are inputs too
            Row[] withOptions = byId(spark.sql("SELECT id, CASE WHEN id <> 0 THEN llm_generate(prompt,"
                    + " map('max_tokens', CAST(CAST(6 / id AS INT) AS STRING))) END AS r FROM bad").collectAsList());
            assertTrue(withOptions[0].isNullAt(1), "the excluded row is null: " + withOptions[0]);
            Row five = withOptions[5].getStruct(1);
            assertNull(five.getAs("error"));
            assertTrue(five.<Integer>getAs("completion_tokens") <= 1, "max_tokens 6 / 5 = 1 for row 5: " + five);
        } finally {
            spark.conf().set("spark.sql.ansi.enabled", ansi);
        }
    }

    /**
     * AND and OR short-circuit in Spark: the right side of {@code id <> 0 AND ...} is not evaluated for id 0, nor that
     * of {@code id = 0 OR ...}. Under ANSI mode the call's prompt {@code 10 / id} would throw DIVIDE_BY_ZERO there; the
     * rows the left side decides reach no model.
     */
    @Test
    void theRightSideOfAndOrIsNotEvaluatedWhereTheLeftDecides() {
        String ansi = spark.conf().get("spark.sql.ansi.enabled");
        spark.conf().set("spark.sql.ansi.enabled", "true");
        try {
            String call = "llm_generate(CAST(10 / id AS STRING)).error IS NULL";
            Dataset<Row> q = spark.sql("SELECT id, id <> 0 AND " + call + " AS a, id = 0 OR " + call + " AS o FROM bad");
            Row[] out = byId(q.collectAsList());
            assertFalse(out[0].getBoolean(1), "AND: decided by id <> 0");
            assertTrue(out[0].getBoolean(2), "OR: decided by id = 0");
            for (int id = 1; id <= 5; id++) {
                assertTrue(out[id].getBoolean(1), "row " + id + " generates without an error");
                assertTrue(out[id].getBoolean(2), "row " + id);
            }
            var execs = SparkTestSupport.generateExecs(q.queryExecution().executedPlan());
            assertEquals(1, execs.size(), "one call, used twice");
            assertEquals(5, execs.get(0).metrics().apply(dev.ember.spark.EmberMetrics.ROWS).value(),
                    "row 0 reaches no model");

            List<Row> kept = spark.sql("SELECT id FROM bad WHERE id <> 0 AND " + call).collectAsList();
            assertEquals(5, kept.size(), "a filter's conjunction: " + kept);
        } finally {
            spark.conf().set("spark.sql.ansi.enabled", ansi);
        }
    }

    private static void assertPlanningError(org.junit.jupiter.api.function.Executable call, String... parts) {
        Throwable e = assertThrows(Throwable.class, call);
        String m = SparkTestSupport.messages(e);
        for (String p : parts) {
            assertTrue(m.contains(p), "expected '" + p + "' in: " + m);
        }
    }

    /**
     * Fuzz through generate() with a fixed seed: 600 rows of hostile prompts (random code points, lone surrogates,
     * control characters) and hostile per-row options (huge, negative, NaN, unknown, a 10,000-character stop
     * string). Every row comes back exactly once with a text or an error, the shared engine ends with no KV block
     * held and Spark's Arrow allocator with no memory outstanding.
     */
    @Test
    void fuzzedRowsEachGetATextOrAnErrorAndNothingLeaks() {
        java.util.Random r = new java.util.Random(20261203L);
        String[][] options = {{"temperature", "0.7"}, {"temperature", "1e300"}, {"temperature", "NaN"},
                {"temperature", "-1"}, {"max_tokens", "99999999"}, {"max_tokens", "abc"}, {"top_k", "-9"},
                {"top_p", "0"}, {"repetition_penalty", "1e30"}, {"min_tokens", "3"}, {"logprobs", "21"},
                {"stop", "[\"" + "x".repeat(10_000) + "\"]"}, {"stop", "[\"\\ud800\"]"}, {"seed", "-5"},
                {"no_such_option", "1"}, {"frequency_penalty", "2"}};
        List<Row> rows = new java.util.ArrayList<>();
        for (int i = 0; i < 600; i++) {
            StringBuilder prompt = new StringBuilder();
            int len = r.nextInt(30);
            for (int k = 0; k < len; k++) {
                switch (r.nextInt(3)) {
                    case 0 -> prompt.append((char) (0xD800 + r.nextInt(0x800)));
                    case 1 -> prompt.append((char) r.nextInt(0x20));
                    default -> prompt.appendCodePoint(r.nextInt(0x110000));
                }
            }
            Map<String, String> opts = new java.util.HashMap<>();
            for (int k = r.nextInt(3); k > 0; k--) {
                String[] o = options[r.nextInt(options.length)];
                opts.put(o[0], o[1]);
            }
            rows.add(RowFactory.create((long) i, r.nextInt(30) == 0 ? null : prompt.toString(),
                    scala.jdk.javaapi.CollectionConverters.asScala(opts)));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType)
                .add("opts", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType));
        List<Row> out = spark.createDataFrame(rows, schema).repartition(3)
                .select(col("id"), EmberFunctions.generate(col("prompt"), Map.of(), col("opts")).as("r"))
                .collectAsList();
        assertEquals(600, out.size());
        assertEquals(600, out.stream().map(x -> x.getLong(0)).distinct().count(), "every row exactly once");
        long errors = 0;
        for (Row row : out) {
            Row g = row.getStruct(1);
            String text = g.getAs("text");
            String error = g.getAs("error");
            assertTrue((text == null) != (error == null), "row " + row.getLong(0) + ": text xor error");
            errors += error == null ? 0 : 1;
        }
        assertTrue(errors > 50 && errors < 550, errors + " error rows");
        for (dev.ember.engine.Engine e : dev.ember.spark.executor.EngineRegistry.engines().values()) {
            assertEquals(0.0, e.metrics().kvUsage(), "no KV block held after the job");
            assertEquals(null, e.failure());
        }
        assertEquals(0, org.apache.spark.sql.util.ArrowUtils.rootAllocator().getAllocatedMemory(), "Arrow memory outstanding");
    }
}
