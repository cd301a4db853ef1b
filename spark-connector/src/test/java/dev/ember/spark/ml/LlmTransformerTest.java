package dev.ember.spark.ml;

import dev.ember.api.Result;
import dev.ember.spark.SparkTestSupport;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
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

import static dev.ember.spark.SparkTestSupport.assertSameResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LlmTransformer in a saved and reloaded pipeline gives what Engine.generate gives. */
class LlmTransformerTest {
    private static final int ROWS = 12;
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Dataset<Row> input;

    @BeforeAll
    static void start() {
        // the session has no model: the transformer's params carry everything
        spark = SparkTestSupport.session("local[2]", Map.of());
        List<Row> rows = new ArrayList<>();
        List<String> prompts = SparkTestSupport.prompts(ROWS);
        for (int i = 0; i < ROWS; i++) {
            rows.add(RowFactory.create((long) i, prompts.get(i)));
        }
        input = spark.createDataFrame(rows, new StructType().add("id", DataTypes.LongType)
                .add("text", DataTypes.StringType)).repartition(2).sortWithinPartitions("id");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void savedAndReloadedPipelineEqualsEngine() throws Exception {
        Map<String, String> engineOptions = new LinkedHashMap<>(SparkTestSupport.baseOptions(dir.resolve("cache")));
        engineOptions.remove("model");
        engineOptions.remove("max_tokens");
        LlmTransformer llm = new LlmTransformer().setInputCol("text").setOutputCol("gen").setModel("demo")
                .setMaxTokens(6).setTemperature(0.8).setOptions(engineOptions);
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[]{llm}).fit(input);
        String path = dir.resolve("pipeline").toString();
        fitted.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);
        LlmTransformer reloaded = (LlmTransformer) loaded.stages()[0];
        assertEquals(6, reloaded.getOption("max_tokens"));
        assertEquals(0.8, reloaded.getOption("temperature"));
        assertEquals("max_tokens", reloaded.optionParam("MAX_TOKENS").name(), "params are named like the options");
        assertEquals(llm.emberOptions(), reloaded.emberOptions());

        Map<String, String> all = new LinkedHashMap<>(engineOptions);
        all.put("model", "demo");
        all.put("max_tokens", "6");
        all.put("temperature", "0.8");
        List<Result> expected = SparkTestSupport.expected(all, SparkTestSupport.prompts(ROWS));
        for (PipelineModel model : List.of(fitted, loaded)) {
            Dataset<Row> out = model.transform(input);
            assertEquals("gen", out.schema().fieldNames()[2]);
            List<Row> rows = out.collectAsList();
            assertEquals(ROWS, rows.size());
            for (Row r : rows) {
                int id = (int) r.getLong(0);
                assertSameResult(expected.get(id), r.getStruct(2), "row " + id);
            }
        }
    }

    @Test
    void setOptionsRefusesOneOptionInTwoSpellingsWithDifferentValues() {
        // a HashMap's order, not the caller, would choose which of 5 and 9 is set
        java.util.Map<String, String> twice = new java.util.HashMap<>(java.util.Map.of("max_tokens", "5", "Max-Tokens", "9"));
        dev.ember.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(dev.ember.ConfigException.class,
                () -> new LlmTransformer().setOptions(twice));
        assertTrue(e.getMessage().contains("'max_tokens'") && e.getMessage().contains("'Max-Tokens'"), e.getMessage());
        assertEquals(7, new LlmTransformer().setOptions(java.util.Map.of("MAX_TOKENS", "7")).getOption("max_tokens"));
    }

    @Test
    void transformSchemaChecksTheInputColumn() {
        LlmTransformer llm = new LlmTransformer().setInputCol("id");
        Exception e = assertThrows(IllegalArgumentException.class, () -> llm.transformSchema(input.schema()));
        assertTrue(e.getMessage().contains("must be a string, got bigint"), e.getMessage());
        Exception missing = assertThrows(IllegalArgumentException.class,
                () -> new LlmTransformer().setInputCol("nope").transformSchema(input.schema()));
        assertTrue(missing.getMessage().contains("'nope' does not exist"), missing.getMessage());
        StructType out = new LlmTransformer().setInputCol("text").transformSchema(input.schema());
        assertEquals("generation", out.fieldNames()[2]);
    }

    @Test
    void returnTypeAndLogprobsTypeTheOutputStructAsGenerateDoes() {
        Map<String, String> engineOptions = new LinkedHashMap<>(SparkTestSupport.baseOptions(dir.resolve("cache")));
        engineOptions.remove("model");
        LlmTransformer llm = new LlmTransformer().setInputCol("text").setModel("demo").setOptions(engineOptions)
                .setOption("return_type", "INT").setOption("logprobs", 1).setMaxTokens(8);
        StructType declared = llm.transformSchema(input.schema());
        Dataset<Row> out = llm.transform(input);
        assertEquals(declared, out.schema(), "transformSchema says what transform gives");
        StructType gen = (StructType) declared.apply("generation").dataType();
        assertEquals(DataTypes.IntegerType, gen.apply("value").dataType());
        assertTrue(List.of(gen.fieldNames()).containsAll(List.of("logprobs", "confidence", "choice_probs")),
                gen.toString());
        for (Row r : out.collectAsList()) {
            Row g = r.getStruct(2);
            if (g.isNullAt(g.fieldIndex("error"))) {
                assertEquals(Integer.parseInt(g.getString(0)), g.getInt(g.fieldIndex("value")), g.toString());
            }
        }
    }
}
