package dev.ember.spark;

import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The input formats Ember reads prompts from, in one place: {@code format("llm")}'s {@code input_format} and the
 * examples' {@code --input-format} mean the same thing by each name.
 * <ul>
 *   <li>{@code jsonl}: JSON Lines, one object per line (what Spark's {@code json} writer produces);</li>
 *   <li>{@code json}: a JSON document per file, e.g. an array of objects spread over many lines;</li>
 *   <li>{@code parquet}, {@code csv}, {@code orc}, {@code text}: Spark's sources of those names.</li>
 * </ul>
 * Without a format, the input's extension chooses ({@code .jsonl}, {@code .json}, {@code .csv}, {@code .orc},
 * {@code .txt}), else parquet. Reader options (e.g. csv's {@code header}) apply to every format. csv is read in
 * {@code FAILFAST} mode unless the options set {@code mode}: a malformed line (more fields than the header, which
 * Spark's default mode would cut off) fails the read naming the line instead of changing a prompt. Any other name is handed to Spark as a data source name (e.g. {@code avro},
 * {@code delta}) with the reader options as given.
 */
public final class InputFormats {
    public static final String JSONL = "jsonl";
    public static final String JSON = "json";
    public static final String PARQUET = "parquet";
    public static final String CSV = "csv";
    public static final String ORC = "orc";
    public static final String TEXT = "text";
    /** The formats with a meaning of Ember's own, in the order messages list them. */
    public static final List<String> NAMES = List.of(JSONL, JSON, PARQUET, CSV, ORC, TEXT);
    /** What a format option accepts, for the option registry and messages. */
    public static final String DESCRIPTION = "jsonl (JSON Lines), json (a JSON document per file), parquet, csv, orc,"
            + " text, or another Spark data source name";

    private InputFormats() {
    }

    /**
     * The format to read {@code path} as: {@code given} lower-cased and trimmed, or, when {@code given} is null,
     * the one its extension names (parquet when none does).
     */
    public static String resolve(String given, String path) {
        if (given != null) {
            return given.trim().toLowerCase(Locale.ROOT);
        }
        String p = path.trim().toLowerCase(Locale.ROOT);
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.endsWith(".jsonl")) {
            return JSONL;
        }
        if (p.endsWith(".json")) {
            return JSON;
        }
        if (p.endsWith(".csv")) {
            return CSV;
        }
        if (p.endsWith(".orc")) {
            return ORC;
        }
        if (p.endsWith(".txt")) {
            return TEXT;
        }
        return PARQUET;
    }

    /** Whether {@code format} (as {@link #resolve} returns it) is one of {@link #NAMES}. */
    public static boolean known(String format) {
        return NAMES.contains(format);
    }

    /**
     * {@code path} read as {@code format} with the reader {@code options} (e.g. {@code header} for csv). Spark's
     * {@code AnalysisException} (no such path, unknown source) propagates.
     */
    public static Dataset<Row> read(SparkSession spark, String path, String format, Map<String, String> options) {
        DataFrameReader reader = spark.read();
        if (format.equals(JSON)) {
            reader.option("multiLine", "true"); // before the given options, so input.multiLine=false still wins
        }
        if (format.equals(CSV)) {
            // Spark's PERMISSIVE default drops a line's extra fields: an unquoted comma in a prompt would silently cut
            // it ("hello, world" read as "hello"). FAILFAST fails the job naming the line; input.mode still wins.
            reader.option("mode", "FAILFAST");
        }
        return reader.format(format.equals(JSONL) ? JSON : format).options(options).load(path);
    }
}
