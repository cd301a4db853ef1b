package dev.ember.spark.read;

import dev.ember.ConfigException;
import dev.ember.spark.executor.EngineRegistry;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code format("llm")}'s bad rows (error column or a failed job) and bad options (clear errors at load()). */
class LlmSourceErrorsTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path input;

    @BeforeAll
    static void start() throws Exception {
        spark = LlmTesting.session(tmp);
        input = tmp.resolve("rows.json");
        Files.writeString(input, String.join("\n",
                "{\"id\": 0, \"prompt\": \"hello there\", \"n\": 1}",
                "{\"id\": 1, \"prompt\": null, \"n\": 2}",
                "{\"id\": 2, \"prompt\": \"\", \"n\": 3}",
                "{\"id\": 3, \"prompt\": \"" + "word ".repeat(200) + "\", \"n\": 4}",
                "{\"id\": 4, \"prompt\": \"the cat sat\", \"n\": 5}") + "\n");
    }

    @AfterAll
    static void stop() {
        EngineRegistry.closeAll();
        if (spark != null) {
            spark.stop();
        }
    }

    private static Dataset<Row> load(Map<String, String> options) {
        return spark.read().format("llm").option("input_format", "jsonl").options(options).load(input.toString());
    }

    @Test
    void nullEmptyAndOverLongPromptsGetTheirErrorInTheRow() {
        List<Row> rows = load(LlmTesting.options("max_tokens", "3")).orderBy("id").collectAsList();
        assertEquals(5, rows.size());
        for (int id : new int[]{0, 4}) {
            Row g = LlmSourceTest.generation(rows.get(id));
            assertNull(g.getAs("error"), "row " + id);
            assertNotNull(g.getAs("text"));
            assertEquals(3, (int) g.getAs("completion_tokens"));
        }
        assertEquals("prompt is null", LlmSourceTest.generation(rows.get(1)).getAs("error"));
        assertEquals("prompt is empty", LlmSourceTest.generation(rows.get(2)).getAs("error"));
        String overLong = LlmSourceTest.generation(rows.get(3)).getAs("error");
        assertTrue(overLong.contains("max_model_len"), overLong);
        for (int id : new int[]{1, 2, 3}) {
            Row g = LlmSourceTest.generation(rows.get(id));
            assertNull(g.getAs("text"), "row " + id);
            assertEquals("error", g.getAs("finish_reason"));
            assertEquals(id + 1L, (long) rows.get(id).getAs("n"), "input columns stay with their row");
        }
    }

    @Test
    void failOnErrorFailsTheJobNamingTheRow() {
        Dataset<Row> df = load(LlmTesting.options("max_tokens", "2", "fail_on_error", "true"));
        Exception e = assertThrows(Exception.class, df::collectAsList);
        String message = fullMessage(e);
        assertTrue(message.contains("row 1 of input split 0"), message);
        assertTrue(message.contains("prompt is null"), message);
        assertTrue(message.contains("fail_on_error=true"), message);
    }

    @Test
    void badOptionsFailAtLoadNamingTheOption() {
        assertMessage("unknown Ember option 'temprature'", LlmTesting.options("temprature", "0.5"));
        assertMessage("option 'max_tokens' is '0'", LlmTesting.options("max_tokens", "0"));
        assertMessage("option 'fail_on_error' is 'ignore'", LlmTesting.options("fail_on_error", "ignore"));
        assertMessage("option 'output_column' is ' '", LlmTesting.options("output_column", " "));
        assertMessage("option 'prompt_column' is 'question'", LlmTesting.options("prompt_column", "question"));
        assertMessage("column 'n' has type bigint", LlmTesting.options("prompt_column", "n"));
        assertMessage("option 'model' is '" + tmp.resolve("no-such-model") + "'",
                LlmTesting.options("model", tmp.resolve("no-such-model").toString()));
        spark.conf().set("spark.ember.temprature", "0.5");
        try {
            assertMessage("Spark conf 'spark.ember.temprature'", LlmTesting.options());
        } finally {
            spark.conf().unset("spark.ember.temprature");
        }
        ConfigException noInput = assertThrows(ConfigException.class,
                () -> spark.read().format("llm").options(LlmTesting.options()).load());
        assertTrue(noInput.getMessage().contains("option 'input'"), noInput.getMessage());
    }

    @Test
    void inputsThatCannotBeReadSplitBySplitFailClearly() throws Exception {
        Path clash = tmp.resolve("clash.jsonl");
        Files.writeString(clash, "{\"prompt\": \"hi\", \"generation\": \"mine\"}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> spark.read().format("llm")
                .options(LlmTesting.options()).load(clash.toString()));
        assertTrue(e.getMessage().contains("the input already has a column 'generation', the name of the generation"
                + " column; choose another with option 'output_column'"), e.getMessage());

        spark.range(3).selectExpr("cast(id as string) as prompt").createOrReplaceTempView("prompts_view");
        e = assertThrows(ConfigException.class, () -> spark.read().format("llm")
                .options(LlmTesting.options("input", "prompts_view")).load());
        assertTrue(e.getMessage().contains("rather than one scan"), e.getMessage());

        e = assertThrows(ConfigException.class, () -> spark.read().format("llm")
                .options(LlmTesting.options()).load(tmp.resolve("missing").toString()));
        assertTrue(e.getMessage().contains("cannot read input"), e.getMessage());
    }

    @Test
    void aCsvLineWithMoreFieldsThanTheHeaderFailsInsteadOfLosingItsTail() throws Exception {
        // an unquoted comma splits the prompt: Spark's default (PERMISSIVE) csv reading keeps "hello" and drops
        // " world", so the row would be generated from a prompt it does not have
        Path csv = tmp.resolve("unquoted.csv");
        Files.writeString(csv, "id,prompt\n1,\"quoted, fine\"\n2,hello, world\n");
        Exception e = assertThrows(Exception.class, () -> spark.read().format("llm")
                .options(LlmTesting.options("max_tokens", "2")).option("input.header", "true")
                .load(csv.toString()).collectAsList());
        assertTrue(fullMessage(e).contains("hello") && fullMessage(e).toLowerCase(java.util.Locale.ROOT).contains("malformed"),
                fullMessage(e));
        // input.mode=PERMISSIVE (Spark's own default) is still there for whoever wants it
        List<Row> permissive = spark.read().format("llm").options(LlmTesting.options("max_tokens", "2"))
                .option("input.header", "true").option("input.mode", "PERMISSIVE").load(csv.toString())
                .orderBy("id").collectAsList();
        assertEquals("quoted, fine", permissive.get(0).getAs("prompt"));
        assertEquals("hello", permissive.get(1).getAs("prompt"));
    }

    private static void assertMessage(String expected, Map<String, String> options) {
        ConfigException e = assertThrows(ConfigException.class, () -> load(options));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static String fullMessage(Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            s.append(t.getMessage()).append('\n');
        }
        return s.toString();
    }
}
