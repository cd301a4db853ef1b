package dev.ember.spark.function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.spark.SparkTestSupport;
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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guided options through Spark: guided_choice per call and per row, return_type to a typed Parquet column. */
class GuidedSparkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 8;
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Map<String, String> base;
    private static Dataset<Row> prompts;

    @BeforeAll
    static void start() {
        base = SparkTestSupport.baseOptions(dir.resolve("cache"));
        spark = SparkTestSupport.session("local[2]", base);
        List<Row> rows = new ArrayList<>();
        List<String> texts = SparkTestSupport.prompts(ROWS);
        for (int i = 0; i < ROWS; i++) {
            rows.add(RowFactory.create((long) i, texts.get(i)));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType);
        prompts = spark.createDataFrame(rows, schema).repartition(2);
        prompts.createOrReplaceTempView("guided_prompts");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void returnTypeWritesATypedStructColumnToParquet() throws Exception {
        String out = dir.resolve("typed").toString();
        spark.sql("SELECT id, llm_generate(prompt, map('return_type', 'STRUCT<ok: BOOLEAN, n: TINYINT, tags: ARRAY<INT>>',"
                + " 'max_tokens', '48', 'temperature', '0.7')) AS g FROM guided_prompts").write().parquet(out);
        Dataset<Row> back = spark.read().parquet(out);
        StructType value = (StructType) ((StructType) back.schema().apply("g").dataType()).apply("value").dataType();
        assertEquals(DataTypes.BooleanType, value.apply("ok").dataType());
        assertEquals(DataTypes.ByteType, value.apply("n").dataType());
        assertEquals(DataTypes.createArrayType(DataTypes.IntegerType, true), value.apply("tags").dataType());
        int typed = 0;
        for (Row r : back.collectAsList()) {
            Row g = r.getStruct(1);
            String text = g.getAs("text");
            if (g.getAs("error") != null) {
                assertEquals("length", g.getAs("finish_reason"), g.toString());
                assertTrue(g.isNullAt(g.fieldIndex("value")));
                continue;
            }
            JsonNode parsed = JSON.readTree(text);
            Row v = g.getStruct(g.fieldIndex("value"));
            assertEquals(parsed.get("ok").asBoolean(), v.getBoolean(0), text);
            assertEquals(parsed.get("n").asInt(), v.getByte(1), text);
            assertEquals(parsed.get("tags").size(), v.getList(2).size(), text);
            typed++;
        }
        assertTrue(typed >= ROWS / 2, "only " + typed + " typed rows");
    }

    @Test
    void guidedChoicePerCallAndPerRow() {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("guided_choice", "[\"spam\",\"ham\",\"unsure\"]");
        options.put("max_tokens", "16");
        List<Row> rows = prompts.select(col("id"), EmberFunctions.generate(col("prompt"), options).as("g"))
                .collectAsList();
        for (Row r : rows) {
            assertTrue(List.of("spam", "ham", "unsure").contains(r.getStruct(1).getString(0)), r.toString());
        }
        List<Row> perRow = spark.sql("SELECT id, llm_generate(prompt, map('guided_regex', concat('[0-9]{', "
                + "CAST(id % 3 + 1 AS STRING), '}'), 'max_tokens', '8')) AS g FROM guided_prompts").collectAsList();
        for (Row r : perRow) {
            long id = r.getLong(0);
            assertTrue(r.getStruct(1).getString(0).matches("[0-9]{" + (id % 3 + 1) + "}"), r.toString());
        }
    }

    @Test
    void guidedChoiceWithLogprobsGivesEachRowItsConfidence() {
        List<Row> rows = spark.sql("SELECT id, llm_generate(prompt, map('guided_choice', 'yes,no,maybe',"
                + " 'logprobs', '1', 'temperature', '1')) AS g FROM guided_prompts").collectAsList();
        double[] seen = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row g = rows.get(i).getStruct(1);
            List<Float> lps = g.getList(g.fieldIndex("logprobs"));
            assertEquals((int) g.getAs("completion_tokens"), lps.size(), g.toString());
            double sum = 0;
            for (float lp : lps) {
                assertTrue(lp <= 0, g.toString());
                sum += lp;
            }
            double confidence = g.getDouble(g.fieldIndex("confidence"));
            assertEquals(Math.exp(sum), confidence, 1e-9);
            assertTrue(confidence > 0 && confidence <= 1, g.toString());
            seen[i] = confidence;
            // yes, no and maybe start with different bytes: every first token decides the label, so the
            // probabilities cover the whole distribution, and the label chosen is at least as likely as its path
            Map<String, Double> probs = g.getJavaMap(g.fieldIndex("choice_probs"));
            assertEquals(List.of("yes", "no", "maybe"), List.copyOf(probs.keySet()), g.toString());
            assertEquals(1.0, probs.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-4, g.toString());
            assertTrue(probs.get(g.getString(0)) >= confidence - 1e-9, g.toString());
        }
        // a labeler keeps rows above a threshold: the confidences differ from row to row
        assertTrue(java.util.Arrays.stream(seen).distinct().count() > 1, java.util.Arrays.toString(seen));
    }

    @Test
    void aLabelerKeepsTheRowsWhoseLabelIsLikelyEnough() {
        Map<String, String> options = Map.of("guided_choice", "yes,no,maybe", "logprobs", "1", "temperature", "0");
        Dataset<Row> labelled = prompts.withColumn("g", EmberFunctions.generate(col("prompt"), options))
                .select(col("id"), col("g.text").as("label"),
                        col("g.choice_probs").getItem(col("g.text")).as("p"), col("g.choice_probs").as("probs"));
        List<Row> all = labelled.collectAsList();
        double threshold = all.stream().mapToDouble(r -> r.getDouble(2)).sorted().toArray()[all.size() / 2];
        long expected = all.stream().filter(r -> r.getDouble(2) >= threshold).count();
        List<Row> kept = labelled.where(col("p").geq(threshold)).collectAsList();
        assertEquals(expected, kept.size());
        assertTrue(kept.size() < all.size() && !kept.isEmpty(), "the threshold splits the rows: " + all);
        for (Row r : kept) {
            Map<String, Double> probs = r.getJavaMap(3);
            assertEquals(probs.get(r.getString(1)), r.getDouble(2), 0.0, r.toString());
        }
    }

    @Test
    void anUnsupportedSchemaKeywordFailsAtPlanning() {
        Exception e = assertThrows(Exception.class, () -> spark.sql("SELECT llm_generate(prompt, map('guided_json',"
                + " '{\"type\":\"object\",\"properties\":{\"d\":{\"type\":\"string\",\"format\":\"date\"}}}'))"
                + " FROM guided_prompts").queryExecution().analyzed());
        assertTrue(SparkTestSupport.messages(e).contains("'format'"), SparkTestSupport.messages(e));
        e = assertThrows(Exception.class, () -> spark.sql("SELECT llm_generate(prompt, map('return_type',"
                + " 'MAP<STRING, INT>')) FROM guided_prompts").queryExecution().analyzed());
        assertTrue(SparkTestSupport.messages(e).contains("return_type"), SparkTestSupport.messages(e));
    }
}
