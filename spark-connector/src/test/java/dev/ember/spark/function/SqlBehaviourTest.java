package dev.ember.spark.function;

import dev.ember.spark.SparkTestSupport;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SQL without any setup: a session built with no spark.sql.extensions and no prior DataFrame call resolves
 * llm_generate (Ember's jar registers its extensions through META-INF/services), DESCRIBE FUNCTION shows usage and
 * examples, and GROUP BY / aggregates over a call fail with a message saying what to do.
 */
class SqlBehaviourTest {
    @TempDir
    static Path cacheDir;
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        SparkSession.Builder b = SparkSession.builder().master("local[2]").appName("ember-sql")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2");
        SparkTestSupport.baseOptions(cacheDir).forEach((k, v) -> b.config("spark.ember." + k, v));
        spark = b.getOrCreate();
        spark.sql("SELECT * FROM VALUES ('hello', 'a'), ('world', 'b'), ('again', 'a') AS t(prompt, k)")
                .createOrReplaceTempView("t");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void sqlResolvesWithoutExtensionsConfOrAPriorDataFrameCall() {
        assertEquals("", spark.conf().get("spark.sql.extensions", ""));
        List<Row> rows = spark.sql("SELECT k, llm_generate(prompt, map('max_tokens', '3')) AS r FROM t ORDER BY prompt")
                .collectAsList();
        assertEquals(3, rows.size());
        for (Row r : rows) {
            Row g = r.getStruct(1);
            assertTrue(g.isNullAt(g.fieldIndex("error")), "row " + r);
            assertTrue(g.getInt(g.fieldIndex("completion_tokens")) > 0, "row " + r);
        }
        String plan = spark.sql("SELECT llm_generate(prompt) FROM t").queryExecution().executedPlan().toString();
        assertTrue(plan.contains("LlmGenerate"), "the batched operator runs the call: " + plan);
    }

    @Test
    void describeFunctionShowsUsageArgumentsAndExamples() {
        String text = spark.sql("DESCRIBE FUNCTION EXTENDED llm_generate").collectAsList().stream()
                .map(r -> r.getString(0)).collect(Collectors.joining("\n"));
        assertTrue(text.contains("llm_generate(prompt [, options]) - Generates text"), text);
        assertTrue(text.contains("Arguments:") && text.contains("* options - optional map<string, string>"), text);
        assertTrue(text.contains("Examples:") && text.contains("SELECT llm_generate(question, map('max_tokens'"), text);
        assertTrue(text.contains("Not allowed in GROUP BY"), text);
        String chat = spark.sql("DESCRIBE FUNCTION EXTENDED llm_generate_chat").collectAsList().stream()
                .map(r -> r.getString(0)).collect(Collectors.joining("\n"));
        assertTrue(chat.contains("* messages - array<struct<role string, content string>>"), chat);
    }

    @Test
    void groupByOrAggregateOverACallFailsSayingWhatToDo() {
        for (String sql : List.of(
                "SELECT count(*) FROM t GROUP BY llm_generate(prompt).text",
                "SELECT k, max(llm_generate(prompt).text) FROM t GROUP BY k",
                "SELECT count(llm_generate(prompt)) FROM t")) {
            Throwable e = assertThrows(Throwable.class, () -> spark.sql(sql).collectAsList(), sql);
            String m = SparkTestSupport.messages(e);
            assertTrue(m.contains("llm_generate cannot be used in"), sql + ": " + m);
            assertTrue(m.contains("generate in a subquery first"), sql + ": " + m);
            assertTrue(!m.contains("INTERNAL_ERROR"), sql + ": " + m);
        }
        // the documented way works
        List<Row> grouped = spark.sql("SELECT r.error IS NULL AS ok, count(*) AS n FROM"
                + " (SELECT llm_generate(prompt, map('max_tokens', '2')) AS r FROM t) GROUP BY r.error IS NULL")
                .collectAsList();
        assertEquals(Map.of(true, 3L), Map.of(grouped.get(0).getBoolean(0), grouped.get(0).getLong(1)));
    }
}
