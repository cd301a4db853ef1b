package dev.ember.spark.function;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;

/**
 * The client side of {@link ConnectServerTest}, run in its own JVM with a Connect client's class path (the
 * spark-connect-client-jvm jar, Ember's classes, no classic Spark SQL): connects to {@code args[0]}
 * ({@code sc://host:port}), builds a prompts DataFrame from {@code args[2..]} with ids 0.. ({@code args[1]} is a
 * JSON Lines file of the same rows, for {@code format("llm")}), and prints one
 * tab-separated line per result for the test to check: {@code ROW query id text token_ids finish_reason
 * completion_tokens error} (text and error Base64-encoded, empty for null), {@code ERROR query message}
 * (Base64) and {@code SESSION class} (the session's implementation). Queries: {@code sql} (llm_generate in SQL), {@code dataframe} (EmberFunctions.generate),
 * {@code format} (spark.read().format("llm")), {@code bad} (a misspelt option, which must fail) and {@code both}
 * (call options and a per-row map in one DataFrame call, which SQL cannot carry).
 */
public final class ConnectClientMain {
    private ConnectClientMain() {
    }

    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().remote(args[0]).getOrCreate();
        try {
            List<Row> rows = new ArrayList<>();
            for (int i = 2; i < args.length; i++) {
                rows.add(RowFactory.create((long) (i - 2), args[i]));
            }
            Dataset<Row> prompts = spark.createDataFrame(rows, new StructType().add("id", "long").add("prompt", "string"));
            prompts.createOrReplaceTempView("prompts");
            System.out.println("SESSION\t" + spark.getClass().getName());

            print("sql", spark.sql("SELECT id, llm_generate(prompt, map('model', 'demo', 'max_tokens', '4')) AS r"
                    + " FROM prompts ORDER BY id").collectAsList());

            Column generated = EmberFunctions.generate(col("prompt"), Map.of("model", "demo", "max_tokens", "4"));
            print("dataframe", prompts.select(col("id"), generated.as("r")).orderBy("id").collectAsList());

            print("format", spark.read().format("llm").option("model", "demo").option("max_tokens", "4")
                    .option("input_format", "jsonl").load(args[1])
                    .select(col("id"), col("generation")).orderBy("id").collectAsList());

            try {
                spark.sql("SELECT llm_generate(prompt, map('maxTokens', '4')) FROM prompts").collectAsList();
                System.out.println("ROW\tbad\tno error");
            } catch (Exception e) { // AnalysisException, a Scala exception Java sees as checked
                System.out.println("ERROR\tbad\t" + encode(e.getMessage()));
            }
            try {
                EmberFunctions.generate(col("prompt"), Map.of("max_tokens", "4"), map(lit("temperature"), lit("0")));
                System.out.println("ROW\tboth\tno error");
            } catch (RuntimeException e) {
                System.out.println("ERROR\tboth\t" + encode(e.getMessage()));
            }
        } finally {
            spark.stop();
        }
    }

    private static void print(String query, List<Row> rows) {
        for (Row r : rows) {
            Row g = r.getStruct(1);
            String ids = g.isNullAt(1) ? "" : g.getList(1).stream().map(String::valueOf).collect(Collectors.joining(","));
            System.out.println(String.join("\t", "ROW", query, String.valueOf(r.getLong(0)), encode(g.getString(0)),
                    ids, String.valueOf(g.get(2)), String.valueOf(g.get(4)), encode(g.getString(5))));
        }
    }

    private static String encode(String s) {
        return s == null ? "" : Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
