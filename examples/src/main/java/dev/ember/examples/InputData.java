package dev.ember.examples;

import dev.ember.spark.InputFormats;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;

/** Reading the examples' inputs (the formats of {@link InputFormats}) and checking their columns and output folders. */
final class InputData {
    private InputData() {
    }

    /**
     * The format for {@code --input-format}, or from the path's extension (default parquet): the names and
     * meanings of {@code format("llm")}'s {@code input_format} ({@link InputFormats}).
     */
    static String format(String given, String path) {
        String f = InputFormats.resolve(given, path);
        if (!InputFormats.known(f)) {
            throw new UsageException("--input-format must be one of " + String.join(", ", InputFormats.NAMES)
                    + ", got '" + given + "'");
        }
        return f;
    }

    /**
     * {@code path} read as {@code format} ({@link InputFormats#read}: jsonl = JSON Lines, json = a JSON document). A
     * csv's first line is its header: the jobs name their columns (--prompt-column, --id-column) and take no reader
     * options, so without it the columns would be _c0, _c1, ... and the header line a row to generate.
     */
    static Dataset<Row> read(SparkSession spark, String path, String format) {
        return InputFormats.read(spark, path, format,
                format.equals(InputFormats.CSV) ? Map.of("header", "true") : Map.of());
    }

    /** Fails naming the column and the columns there are when {@code df} has no column {@code name}. */
    static void requireColumn(Dataset<Row> df, String name, String argument) {
        if (!Arrays.asList(df.columns()).contains(name)) {
            throw new UsageException(argument + " '" + name + "' is not a column of the input; its columns: "
                    + String.join(", ", df.columns()));
        }
    }

    /** Whether {@code dir} holds data files (names not starting with '_' or '.', which Spark's readers skip). */
    static boolean hasData(SparkSession spark, String dir) {
        Path p = new Path(dir);
        try {
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(p)) {
                return false;
            }
            for (FileStatus st : fs.listStatus(p)) {
                String n = st.getPath().getName();
                if (!n.startsWith("_") && !n.startsWith(".")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
