package dev.ember.examples;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Locale;

/** Reading the examples' inputs (jsonl, json, parquet) and checking their columns and output folders. */
final class InputData {
    private InputData() {
    }

    /** The format for {@code --input-format}, or guessed from the path's extension (default parquet). */
    static String format(String given, String path) {
        String f = given != null ? given.trim().toLowerCase(Locale.ROOT)
                : path.endsWith(".jsonl") ? "jsonl" : path.endsWith(".json") ? "json" : "parquet";
        if (!f.equals("jsonl") && !f.equals("json") && !f.equals("parquet")) {
            throw new UsageException("--input-format must be jsonl, json or parquet, got '" + given + "'");
        }
        return f;
    }

    /** jsonl: one JSON object per line; json: a JSON document (an array of objects, multi-line); parquet. */
    static Dataset<Row> read(SparkSession spark, String path, String format) {
        return switch (format) {
            case "jsonl" -> spark.read().json(path);
            case "json" -> spark.read().option("multiLine", "true").json(path);
            default -> spark.read().parquet(path);
        };
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
