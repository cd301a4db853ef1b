package dev.ember.examples;

import dev.ember.spark.report.JobReport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 240, unit = TimeUnit.SECONDS)
class BatchGenerateTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    static Path jsonl(Path dir, String name, int from, int to) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = from; i < to; i++) {
            lines.add("{\"id\": " + i + ", \"prompt\": \"Tell me about number " + i + "\", \"text\": \"item " + i + "\"}");
        }
        Path f = dir.resolve(name);
        Files.write(f, lines);
        return f;
    }

    @Test
    void resumeAnswersOnlyTheRowsNotYetInTheOutput(@TempDir Path dir) throws IOException {
        SparkSession spark = TestSpark.get();
        Path out = dir.resolve("out");
        String[] common = {"--output", out.toString(), "--model", "demo", "--max_tokens", "3",
                "--rows-per-task", "8", "--option", "temperature=0"};

        BatchGenerate.Outcome first = BatchGenerate.run(spark,
                concat(new String[]{"--input", jsonl(dir, "a.jsonl", 0, 20).toString()}, common), QUIET);
        assertEquals(20, first.generatedRows());
        assertEquals(20, first.report().rows());
        assertEquals(0, first.skippedRows());
        assertTrue(Files.exists(out.resolve(JobReport.FILE_NAME)), "report beside the output");

        // a second input with the 20 done rows and 10 new ones: --resume generates only the 10
        Path more = jsonl(dir, "b.jsonl", 0, 30);
        BatchGenerate.Outcome second = BatchGenerate.run(spark,
                concat(new String[]{"--input", more.toString(), "--resume"}, common), QUIET);
        assertEquals(30, second.inputRows());
        assertEquals(20, second.skippedRows());
        assertEquals(10, second.generatedRows());
        assertEquals(10, second.report().rows(), "the report counts this run's rows only");
        assertTrue(second.report().generatedTokens() > 0 && second.report().generatedTokens() <= 30);
        assertEquals(second.report(), JobReport.fromJson(Files.readString(out.resolve(JobReport.FILE_NAME))),
                "the report file is this run's");

        Dataset<Row> written = spark.read().parquet(out.toString());
        assertEquals(30, written.count());
        assertEquals(30, written.select("id").distinct().count());
        assertEquals(0, written.filter("generation.text IS NULL").count(), "every row generated");
        long tokens = written.selectExpr("sum(generation.completion_tokens)").first().getLong(0);
        assertTrue(tokens > 0 && tokens <= 3L * 30, "max_tokens 3 or EOS: " + tokens);

        // nothing left: a third resume generates nothing
        assertEquals(0, BatchGenerate.run(spark,
                concat(new String[]{"--input", more.toString(), "--resume"}, common), QUIET).generatedRows());
    }

    @Test
    void csvInputIsReadByItsHeaderLine(@TempDir Path dir) throws IOException {
        // the header names the columns --prompt-column and --id-column refer to; it is not a prompt to generate
        Path csv = dir.resolve("prompts.csv");
        Files.writeString(csv, "id,prompt\n1,hello there\n2,\"why, then?\"\n");
        Path out = dir.resolve("out");
        BatchGenerate.Outcome o = BatchGenerate.run(TestSpark.get(), new String[]{"--input", csv.toString(),
                "--output", out.toString(), "--model", "demo", "--max_tokens", "2"}, QUIET);
        assertEquals(2, o.inputRows());
        List<Row> rows = TestSpark.get().read().parquet(out.toString()).orderBy("id").collectAsList();
        assertEquals(List.of("hello there", "why, then?"), rows.stream().map(r -> r.<String>getAs("prompt")).toList());
    }

    @Test
    void retryErrorsReplacesTheErrorRowsOfAnOutputWhosePathNeedsEscaping(@TempDir Path dir) throws IOException {
        // input_file_name() gives URL-encoded paths ("my%20answers"): read back as paths they name no file, so the
        // old files were not deleted (fs.delete said false, unchecked) and their good rows were moved in a second time
        SparkSession spark = TestSpark.get();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            lines.add("{\"id\": " + i + ", \"prompt\": \"" + (i % 2 == 0 ? "long ".repeat(150) : "hi ") + i + "\"}");
        }
        Path input = Files.write(dir.resolve("in.jsonl"), lines);
        Path out = dir.resolve("my answers #1");
        String[] common = {"--input", input.toString(), "--output", out.toString(), "--model", "demo",
                "--max_tokens", "2", "--rows-per-task", "2"};
        BatchGenerate.run(spark, concat(common, new String[]{"--max_model_len", "64"}), QUIET);
        assertEquals(3, spark.read().parquet(out.toString()).filter("generation.error IS NOT NULL").count());
        BatchGenerate.Outcome retry = BatchGenerate.run(spark, concat(common, new String[]{"--resume", "--retry-errors"}),
                QUIET);
        assertEquals(3, retry.retriedErrors());
        Dataset<Row> written = spark.read().parquet(out.toString());
        assertEquals(6, written.count(), "replaced, not duplicated");
        assertEquals(6, written.select("id").distinct().count());
        assertEquals(0, written.filter("generation.error IS NOT NULL").count());
    }

    @Test
    void resumeRefusesRepeatedIds(@TempDir Path dir) throws IOException {
        // with a repeated id, --retry-errors removes the error row, finds the id "done" through its twin and never
        // generates that row again: the output silently loses it
        Path input = Files.write(dir.resolve("dup.jsonl"), List.of("{\"id\": 1, \"prompt\": \"a\"}",
                "{\"id\": 2, \"prompt\": \"b\"}", "{\"id\": 2, \"prompt\": \"c\"}"));
        Path out = dir.resolve("out");
        UsageException e = assertThrows(UsageException.class, () -> BatchGenerate.run(TestSpark.get(), new String[]{
                "--input", input.toString(), "--output", out.toString(), "--model", "demo", "--resume"}, QUIET));
        assertTrue(e.getMessage().contains("1 input rows repeat") && e.getMessage().contains("--id-column 'id'"),
                e.getMessage());
        assertTrue(!Files.exists(out), "refused before anything is written");
    }

    @Test
    void retryErrorsReplacesTheRowsThatFailedAndEachRunKeepsItsReport(@TempDir Path dir) throws IOException {
        SparkSession spark = TestSpark.get();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            String prompt = i % 3 == 0 ? "long ".repeat(150) + i : "hi " + i;
            lines.add("{\"id\": " + i + ", \"prompt\": \"" + prompt + "\"}");
        }
        Path input = Files.write(dir.resolve("in.jsonl"), lines);
        Path out = dir.resolve("out");
        String[] common = {"--input", input.toString(), "--output", out.toString(), "--model", "demo",
                "--max_tokens", "3", "--rows-per-task", "4", "--option", "temperature=0"};
        // a context too small for the long prompts: those 7 rows end in an error
        BatchGenerate.run(spark, concat(common, new String[]{"--max_model_len", "64"}), QUIET);
        assertEquals(7, spark.read().parquet(out.toString()).filter("generation.error IS NOT NULL").count());

        // a plain resume counts them as done
        assertEquals(0, BatchGenerate.run(spark, concat(common, new String[]{"--resume"}), QUIET).generatedRows());

        BatchGenerate.Outcome retry = BatchGenerate.run(spark,
                concat(common, new String[]{"--resume", "--retry-errors", "--rows-per-commit", "3"}), QUIET);
        assertEquals(7, retry.retriedErrors());
        assertEquals(7, retry.generatedRows());
        Dataset<Row> written = spark.read().parquet(out.toString());
        assertEquals(21, written.count(), "replaced, not duplicated");
        assertEquals(21, written.select("id").distinct().count());
        assertEquals(0, written.filter("generation.error IS NOT NULL").count());
        assertEquals(7, written.filter("generation.prompt_tokens > 64").count());

        try (var files = Files.list(out)) {
            assertEquals(3, files.filter(f -> f.getFileName().toString().startsWith(JobReport.RUN_FILE_PREFIX)).count(),
                    "one report per run");
        }
        assertEquals(retry.report(), JobReport.fromJson(Files.readString(Path.of(retry.reportFile().replace("file:", "")))));
        assertThrows(UsageException.class, () -> BatchGenerate.run(spark, concat(common, new String[]{"--retry-errors"}), QUIET));
    }

    @Test
    void argumentErrorsAreClear(@TempDir Path dir) throws IOException {
        SparkSession spark = TestSpark.get();
        String in = jsonl(dir, "a.jsonl", 0, 3).toString();
        String out = dir.resolve("out").toString();
        assertTrue(assertThrows(UsageException.class, () -> BatchGenerate.run(spark,
                new String[]{"--input", in, "--output", out, "--prompt-column", "question", "--model", "demo"}, QUIET))
                .getMessage().contains("'question' is not a column of the input; its columns: id, prompt, text"));
        assertTrue(assertThrows(UsageException.class, () -> BatchGenerate.run(spark,
                new String[]{"--output", out}, QUIET)).getMessage().contains("--input is required"));
        assertTrue(assertThrows(UsageException.class, () -> BatchGenerate.run(spark,
                new String[]{"--input", in, "--output", out, "--input-format", "xml"}, QUIET))
                .getMessage().contains("must be one of jsonl, json, parquet, csv, orc, text, got 'xml'"));
        Path nullIds = dir.resolve("null-ids.jsonl");
        Files.writeString(nullIds, "{\"id\": 1, \"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n");
        assertTrue(assertThrows(UsageException.class, () -> BatchGenerate.run(spark, new String[]{"--input",
                nullIds.toString(), "--output", out, "--resume", "--model", "demo"}, QUIET))
                .getMessage().contains("1 input rows have a null --id-column 'id'"));
        BatchGenerate.run(spark, new String[]{"--input", in, "--output", out, "--model", "demo", "--max_tokens", "2"}, QUIET);
        assertTrue(assertThrows(UsageException.class, () -> BatchGenerate.run(spark,
                new String[]{"--input", in, "--output", out, "--model", "demo"}, QUIET))
                .getMessage().contains("--resume continues it"));
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
