package dev.ember.examples;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LabelDatasetTest {
    @Test
    void everyRowGetsALabelAndTheDistributionSumsToTheRows(@TempDir Path dir) throws IOException {
        SparkSession spark = TestSpark.get();
        Path in = BatchGenerateTest.jsonl(dir, "rows.jsonl", 0, 24);
        Path out = dir.resolve("labels");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        LabelDataset.Outcome o = LabelDataset.run(spark, new String[]{"--input", in.toString(),
                "--output", out.toString(), "--labels", "sport, politics,science", "--model", "demo",
                "--template", "Topic of: {text} (id {id})\\nAnswer:", "--temperature", "1"}, new PrintStream(printed));
        assertEquals(List.of("sport", "politics", "science"), List.copyOf(o.distribution().keySet()),
                "guided_choice: no 'unknown' bucket");
        assertEquals(24, o.report().rows());
        assertEquals(24L, o.distribution().values().stream().mapToLong(Long::longValue).sum());
        List<String> labels = spark.read().parquet(out.toString()).select("label").as(
                org.apache.spark.sql.Encoders.STRING()).collectAsList();
        assertEquals(24, labels.size());
        assertTrue(List.of("sport", "politics", "science").containsAll(labels), labels.toString());
        assertTrue(Files.exists(out.resolve(LabelDataset.DISTRIBUTION_FILE)));
        assertTrue(printed.toString().contains("label distribution over 24 rows"), printed.toString());
    }

    @Test
    void aGuidedOptionBesideLabelsIsRefusedNotReplaced(@TempDir Path dir) throws IOException {
        // --labels sets guided_choice: a --guided-choice of the user's was silently replaced by it
        Path in = BatchGenerateTest.jsonl(dir, "rows.jsonl", 0, 2);
        UsageException e = assertThrows(UsageException.class, () -> LabelDataset.run(TestSpark.get(),
                new String[]{"--input", in.toString(), "--output", dir.resolve("out").toString(), "--labels", "a,b",
                        "--model", "demo", "--guided-choice", "[\"x\",\"y\"]"}, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("--guided-choice") && e.getMessage().contains("--labels"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("out")), "refused before anything is written");
    }
}
