package dev.ember.spark.read;

import dev.ember.api.Result;
import dev.ember.spark.EmberMetrics;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.executor.EngineRegistry;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.datasources.v2.BatchScanExec;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code format("llm")} end to end in local[2] on the demo model: results equal the engine's own, one input
 * partition per input split, one generation struct column, a columnar scan, and the custom metrics.
 */
class LlmSourceTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path parquet;
    static Path json;
    static List<Row> parquetRows;

    static final StructType PARQUET_SCHEMA = new StructType()
            .add("id", DataTypes.LongType)
            .add("prompt", DataTypes.StringType)
            .add("score", DataTypes.DoubleType)
            .add("tags", DataTypes.createArrayType(DataTypes.StringType))
            .add("meta", new StructType().add("a", DataTypes.IntegerType).add("b", DataTypes.StringType));

    @BeforeAll
    static void start() {
        spark = LlmTesting.session(tmp);
        parquetRows = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            parquetRows.add(RowFactory.create((long) i, LlmTesting.prompt(i), i * 0.5,
                    CollectionConverters.asScala(List.of("t" + i, "u")).toSeq(), RowFactory.create(i, "m" + i)));
        }
        parquet = tmp.resolve("in-parquet");
        spark.createDataFrame(parquetRows, PARQUET_SCHEMA).repartition(3).write().parquet(parquet.toString());
        json = tmp.resolve("in-json");
        List<Row> jsonRows = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            jsonRows.add(RowFactory.create((long) i, LlmTesting.prompt(i + 100), (long) i * 7));
        }
        StructType jsonSchema = new StructType().add("id", DataTypes.LongType).add("question", DataTypes.StringType)
                .add("n", DataTypes.LongType);
        spark.createDataFrame(jsonRows, jsonSchema).coalesce(1).write().json(json.toString());
    }

    @AfterAll
    static void stop() {
        EngineRegistry.closeAll();
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void parquetGreedyEqualsTheEngineRowForRowWithInputColumnsIntact() {
        Map<String, String> options = LlmTesting.options("temperature", "0", "max_tokens", "6");
        Dataset<Row> df = spark.read().format("llm").options(options).option("input", parquet.toString()).load();
        assertEquals(List.of("id", "prompt", "score", "tags", "meta", "generation"), Arrays.asList(df.columns()));
        assertEquals(GenerationSchema.STRUCT, df.schema().apply("generation").dataType(),
                "the same result struct as generate()");
        List<Row> out = df.collectAsList();

        Map<Long, Row> byId = byId(out, 0);
        assertEquals(parquetRows.size(), out.size(), "every row answered exactly once");
        assertEquals(parquetRows.size(), byId.size());
        List<Result> expected = LlmTesting.generate(tmp, options,
                parquetRows.stream().map(r -> r.getString(1)).toList());
        for (int i = 0; i < parquetRows.size(); i++) {
            Row in = parquetRows.get(i);
            Row row = byId.get(in.getLong(0));
            for (int c = 0; c < in.length(); c++) {
                assertEquals(in.get(c), row.get(c), "input column " + c + " of row " + i);
            }
            LlmTesting.assertResult(expected.get(i), row, 5, "row " + i);
        }
    }

    @Test
    void dataSourceV2InputsAreReadThroughTheirOwnPartitions() {
        Map<String, String> options = LlmTesting.options("temperature", "0", "max_tokens", "4");
        spark.conf().set("spark.sql.sources.useV1SourceList", ""); // parquet through Spark's V2 file source
        try {
            Dataset<Row> df = spark.read().format("llm").options(options).option("input", parquet.toString()).load();
            int splits = spark.read().parquet(parquet.toString()).rdd().getNumPartitions();
            List<Row> out = df.collectAsList();
            BatchScanExec scan = batchScan(df);
            assertTrue(scan.scan().description().contains("(V2 scan ParquetScan)"), scan.scan().description());
            assertEquals(splits, scan.inputPartitions().size(), "one input partition per input split");
            Map<Long, Row> byId = byId(out, 0);
            assertEquals(parquetRows.size(), byId.size(), "every row answered exactly once");
            List<Result> expected = LlmTesting.generate(tmp, options,
                    parquetRows.stream().map(r -> r.getString(1)).toList());
            for (int i = 0; i < parquetRows.size(); i++) {
                Row row = byId.get(parquetRows.get(i).getLong(0));
                assertEquals(parquetRows.get(i).get(4), row.get(4), "struct column of row " + i);
                LlmTesting.assertResult(expected.get(i), row, 5, "row " + i);
            }
        } finally {
            spark.conf().unset("spark.sql.sources.useV1SourceList");
        }
    }

    @Test
    void csvWithInputOptionsAndCatalogTablesAreInputsToo() throws Exception {
        Path csv = tmp.resolve("prompts.csv");
        Files.writeString(csv, "id,question\n1,why is the sky blue\n2,hello\n3,\n");
        Dataset<Row> df = spark.read().format("llm")
                .options(LlmTesting.options("input_format", "csv", "prompt_column", "question", "max_tokens", "2"))
                .option("input.header", "true").load(csv.toString());
        assertEquals(List.of("id", "question", "generation"), Arrays.asList(df.columns()));
        List<Row> rows = df.orderBy("id").collectAsList();
        assertEquals(3, rows.size());
        assertNotNull(generation(rows.get(0)).getAs("text"));
        assertEquals("prompt is null", generation(rows.get(2)).getAs("error"), "csv reads an empty field as null");

        Path jsonl = tmp.resolve("prompts.jsonl");
        Files.writeString(jsonl, "{\"id\": 1, \"prompt\": \"why\"}\n{\"id\": 2, \"prompt\": \"hello\"}\n");
        List<Row> fromJsonl = spark.read().format("llm")
                .options(LlmTesting.options("input_format", "jsonl", "max_tokens", "2")).load(jsonl.toString())
                .orderBy("id").collectAsList();
        assertEquals(2, fromJsonl.size(), "jsonl, as the examples read it");
        assertNotNull(generation(fromJsonl.get(1)).getAs("text"));

        spark.read().parquet(parquet.toString()).write().saveAsTable("prompts_table");
        try {
            Dataset<Row> fromTable = spark.read().format("llm").options(LlmTesting.options("max_tokens", "1"))
                    .option("input", "prompts_table").load();
            assertTrue(batchScan(fromTable).scan().description().contains("(file scan Parquet)"));
            assertEquals(parquetRows.size(), fromTable.collectAsList().size());
        } finally {
            spark.sql("DROP TABLE prompts_table");
        }
    }

    @Test
    void jsonSampledEqualsTheEngineWithOnePartitionPerSplit() {
        Map<String, String> options = LlmTesting.options("temperature", "0.8", "top_p", "0.95", "max_tokens", "5",
                "seed", "17", "prompt_column", "question", "input_format", "jsonl", "max_in_flight_per_task", "4");
        spark.conf().set("spark.sql.files.maxPartitionBytes", "300");
        try {
            Dataset<Row> df = spark.read().format("llm").options(options).load(json.toString());
            int splits = spark.read().json(json.toString()).rdd().getNumPartitions();
            List<Row> out = df.collectAsList();
            BatchScanExec scan = batchScan(df);
            assertTrue(splits >= 3, "the small split size cuts the one JSON file into several splits: " + splits);
            assertEquals(splits, scan.inputPartitions().size(), "one input partition per input split");

            Map<Long, Row> byId = byId(out, 0);
            assertEquals(30, out.size(), "every row answered exactly once");
            assertEquals(30, byId.size());
            List<String> prompts = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                prompts.add(LlmTesting.prompt(i + 100));
            }
            List<Result> expected = LlmTesting.generate(tmp, options, prompts);
            for (int i = 0; i < 30; i++) {
                Row row = byId.get((long) i);
                // JSON's inferred schema orders the columns by name: id, n, question
                assertEquals(List.of("id", "n", "question"), Arrays.asList(df.columns()).subList(0, 3));
                assertEquals(prompts.get(i), row.getString(2));
                assertEquals(i * 7L, row.getLong(1));
                LlmTesting.assertResult(expected.get(i), row, 3, "row " + i);
            }
        } finally {
            spark.conf().unset("spark.sql.files.maxPartitionBytes");
        }
    }

    @Test
    void parquetFilesAreSplitsAndTheScanIsColumnar() {
        Dataset<Row> df = spark.read().format("llm").options(LlmTesting.options("max_tokens", "2"))
                .option("input", parquet.toString()).load();
        BatchScanExec scan = batchScan(df);
        assertTrue(scan.scan().description().contains("(file scan Parquet)"), scan.scan().description());
        assertTrue(scan.supportsColumnar());
        assertEquals(spark.read().parquet(parquet.toString()).rdd().getNumPartitions(), scan.inputPartitions().size());
        assertTrue(scan.inputPartitions().size() >= 2, "three small parquet files, packed as Spark packs them");
        // Each batch's column classes, as the executors see them.
        JavaRDD<String> classes = scan.executeColumnar().toJavaRDD().map(b -> {
            StringBuilder s = new StringBuilder();
            for (int c = 0; c < b.numCols(); c++) {
                s.append(b.column(c).getClass().getSimpleName()).append(c < b.numCols() - 1 ? "," : "");
            }
            return s.toString();
        });
        List<String> seen = classes.collect();
        assertEquals(scan.inputPartitions().size(), seen.size(), "one batch per split (at most 24 rows, batches of 512)");
        String all = String.join(",", Collections.nCopies(6, OnHeapColumnVector.class.getSimpleName()));
        for (String s : seen) {
            assertEquals(all, s, "five input columns and the generation struct");
        }
    }

    @Test
    void readerReusesOneBatchAndClosesWithRowsInFlight() throws Exception {
        Map<String, String> options = LlmTesting.options("max_tokens", "3", "max_in_flight_per_task", "3");
        options.put("input", parquet.toString());
        LlmInput input = LlmInput.plan(spark, options);
        LlmReaderFactory factory = input.readerFactory();
        InputPartition[] partitions = input.partitions();
        long total = 0;
        for (InputPartition p : partitions) {
            try (var reader = factory.createColumnarReader(p)) {
                ColumnarBatch first = null;
                while (reader.next()) {
                    ColumnarBatch b = reader.get();
                    first = first == null ? b : first;
                    assertSame(first, b, "one batch object is reused");
                    assertTrue(b.numRows() <= 3);
                    for (int r = 0; r < b.numRows(); r++) {
                        assertNotNull(b.column(5).getStruct(r).getUTF8String(0), "text");
                        assertTrue(b.column(5).getStruct(r).getArray(1).numElements() > 0, "token ids");
                    }
                    total += b.numRows();
                }
            }
        }
        assertEquals(parquetRows.size(), total);

        // Closed after the first batch, with rows still in flight: aborts them and releases the engine.
        try (var reader = factory.createColumnarReader(partitions[0])) {
            assertTrue(reader.next());
            assertEquals(3, reader.get().numRows());
        }
        assertTrue(EngineRegistry.engines().keySet().stream().allMatch(k -> EngineRegistry.leases(k) == 0),
                "every reader released its lease");
    }

    @Test
    void inputColumnsNamedLikeResultFieldsStayAndFormatsAreTheExamples() throws Exception {
        // a JSON document (json, as the examples read it): an array over several lines, with text and error columns
        Path doc = tmp.resolve("doc.json");
        Files.writeString(doc, "[\n {\"id\": 1, \"prompt\": \"the cat\", \"text\": \"mine\", \"error\": \"none\"},\n"
                + " {\"id\": 2, \"prompt\": \"a dog\", \"text\": \"also mine\", \"error\": null}\n]\n");
        Map<String, String> options = LlmTesting.options("temperature", "0", "max_tokens", "3", "output_column", "answer");
        Dataset<Row> df = spark.read().format("llm").options(options).load(doc.toString());
        assertEquals(List.of("error", "id", "prompt", "text", "answer"), Arrays.asList(df.columns()),
                "input columns, then the struct under output_column; format json from the extension");
        List<Row> rows = df.orderBy("id").collectAsList();
        assertEquals(2, rows.size(), "both objects of the document");
        assertEquals("mine", rows.get(0).getAs("text"), "the input's own text column is untouched");
        List<Result> expected = LlmTesting.generate(tmp, options, List.of("the cat", "a dog"));
        for (int i = 0; i < 2; i++) {
            LlmTesting.assertResult(expected.get(i), rows.get(i), 4, "row " + i);
        }

        // JSON Lines from the extension; the struct carries what the options add, as generate()'s does
        Path lines = tmp.resolve("lines.jsonl");
        Files.writeString(lines, "{\"id\": 1, \"prompt\": \"pick one\"}\n{\"id\": 2, \"prompt\": \"again\"}\n");
        Dataset<Row> withLogprobs = spark.read().format("llm")
                .options(LlmTesting.options("max_tokens", "2", "logprobs", "1")).load(lines.toString());
        assertEquals(GenerationSchema.structFor(EmberSettings.resolve(LlmTesting.options("max_tokens", "2", "logprobs", "1"))),
                withLogprobs.schema().apply("generation").dataType());
        List<Row> out = withLogprobs.orderBy("id").collectAsList();
        assertEquals(2, out.size());
        Row g = generation(out.get(0));
        assertEquals(2, g.getList(g.fieldIndex(GenerationSchema.LOGPROBS)).size());
        assertNotNull(g.getAs(GenerationSchema.CONFIDENCE));
    }

    @Test
    void customMetricsTotalTheRows() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            rows.add(RowFactory.create((long) i, i % 4 == 0 ? null : LlmTesting.prompt(i)));
        }
        Path in = tmp.resolve("metrics-in");
        spark.createDataFrame(rows, new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType))
                .repartition(2).write().parquet(in.toString());
        Dataset<Row> df = spark.read().format("llm").options(LlmTesting.options("max_tokens", "4"))
                .option("input", in.toString()).load();
        List<Row> out = df.collectAsList();
        long errors = out.stream().filter(r -> generation(r).getAs("error") != null).count();
        long promptTokens = out.stream().mapToLong(r -> generation(r).<Integer>getAs("prompt_tokens")).sum();
        long generated = out.stream().mapToLong(r -> generation(r).<Integer>getAs("completion_tokens")).sum();
        assertEquals(3, errors, "the null prompts");
        assertTrue(promptTokens > 0 && generated > 0);

        var metrics = batchScan(df).metrics();
        assertEquals(12, metrics.apply(EmberMetrics.ROWS).value());
        assertEquals(3, metrics.apply(EmberMetrics.ERROR_ROWS).value());
        assertEquals(promptTokens, metrics.apply(EmberMetrics.PROMPT_TOKENS).value());
        assertEquals(generated, metrics.apply(EmberMetrics.GENERATED_TOKENS).value());
        assertTrue(metrics.apply(EmberMetrics.GENERATION_MS).value() >= 0);
        assertTrue(metrics.apply(EmberMetrics.PREEMPTIONS).value() >= 0, "reported like generate()'s");
        assertEquals(EmberMetrics.ROWS, metrics.apply(EmberMetrics.ROWS).name().get(),
                "the accumulator carries the contract name the progress listener looks for");
    }

    static Row generation(Row row) {
        return row.getStruct(row.fieldIndex("generation"));
    }

    static BatchScanExec batchScan(Dataset<Row> df) {
        SparkPlan plan = df.queryExecution().executedPlan();
        List<SparkPlan> leaves = CollectionConverters.asJava(plan.collectLeaves());
        assertEquals(1, leaves.size(), plan.toString());
        return assertInstanceOf(BatchScanExec.class, leaves.get(0), plan.toString());
    }

    static Map<Long, Row> byId(List<Row> rows, int idColumn) {
        return rows.stream().collect(Collectors.toMap(r -> r.getLong(idColumn), r -> r, (a, b) -> a,
                LinkedHashMap::new));
    }
}
