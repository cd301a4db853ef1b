package dev.ember.spark.function;

import dev.ember.api.Result;
import dev.ember.spark.SparkTestSupport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.ember.spark.SparkTestSupport.assertSameResult;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structured Streaming: generate() on a streaming DataFrame runs through the batched operator in every micro-batch,
 * each row once (a restarted query with the same checkpoint answers only new files), and gives the engine's rows.
 */
class StreamingTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Map<String, String> options;

    @BeforeAll
    static void start() {
        options = SparkTestSupport.baseOptions(dir.resolve("cache"));
        spark = SparkTestSupport.session("local[2]", options);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void generateOnAStreamAnswersEachNewRowOnceWithTheEnginesResult() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        List<String> prompts = SparkTestSupport.prompts(10);
        writeJsonl(in.resolve("part-0.json"), 0, prompts.subList(0, 6));
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType);
        Dataset<Row> stream = spark.readStream().schema(schema).option("maxFilesPerTrigger", 1).json(in.toString())
                .withColumn("g", EmberFunctions.generate(col("prompt")));
        String checkpoint = dir.resolve("checkpoint").toString();
        Path out = dir.resolve("out");

        run(stream, checkpoint, out);
        assertEquals(6, spark.read().parquet(out.toString()).count());

        writeJsonl(in.resolve("part-1.json"), 6, prompts.subList(6, 10));
        run(stream, checkpoint, out);
        List<Row> rows = spark.read().parquet(out.toString()).orderBy("id").collectAsList();
        assertEquals(10, rows.size(), "the restarted query answered only the new file's rows");

        List<Result> expected = SparkTestSupport.expected(options, prompts);
        for (Row r : rows) {
            int id = (int) r.getLong(0);
            assertSameResult(expected.get(id), r.getStruct(2), "streamed row " + id);
        }
    }

    private static void run(Dataset<Row> stream, String checkpoint, Path out) throws Exception {
        StreamingQuery q = stream.writeStream().format("parquet").option("checkpointLocation", checkpoint)
                .option("path", out.toString()).trigger(Trigger.AvailableNow()).start();
        q.awaitTermination();
        assertTrue(q.exception().isEmpty(), () -> "stream failed: " + q.exception().get());
    }

    private static void writeJsonl(Path file, int firstId, List<String> prompts) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < prompts.size(); i++) {
            sb.append("{\"id\": ").append(firstId + i).append(", \"prompt\": \"").append(prompts.get(i)).append("\"}\n");
        }
        Files.writeString(file, sb.toString());
    }
}
