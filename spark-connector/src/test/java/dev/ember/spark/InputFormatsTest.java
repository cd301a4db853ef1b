package dev.ember.spark;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The input format names shared by format("llm") and the examples: a given name wins, else the extension. */
class InputFormatsTest {
    @Test
    void theExtensionChoosesWhenNoFormatIsGiven() {
        assertEquals("jsonl", InputFormats.resolve(null, "s3a://bucket/prompts.JSONL"));
        assertEquals("json", InputFormats.resolve(null, "/data/doc.json"));
        assertEquals("csv", InputFormats.resolve(null, "/data/in.csv/"), "a directory named like a file");
        assertEquals("orc", InputFormats.resolve(null, "in.orc"));
        assertEquals("text", InputFormats.resolve(null, "lines.txt"));
        assertEquals("parquet", InputFormats.resolve(null, "hdfs:///warehouse/prompts"));
    }

    @Test
    void aGivenFormatWinsAndUnknownNamesAreSparkSources() {
        assertEquals("jsonl", InputFormats.resolve(" JSONL ", "prompts.parquet"));
        assertEquals("avro", InputFormats.resolve("avro", "x.json"));
        assertTrue(InputFormats.known("jsonl"));
        assertFalse(InputFormats.known("avro"), "passed to Spark as a data source name");
    }
}
