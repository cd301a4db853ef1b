package dev.ember.examples;

import dev.ember.spark.EmberOptions;
import dev.ember.spark.function.EmberFunctions;
import dev.ember.spark.report.EmberProgress;
import dev.ember.spark.report.JobReport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;

/**
 * The quick start: 64 prompts through {@code EmberFunctions.generate} on a local[2] Spark with the CPU backend
 * and the built-in demo model (random weights: the text is gibberish, every stage is real), then the same
 * function from SQL. Prints a few rows, the throughput and the job report.
 * <pre>
 * mvn -q -B install -DskipTests &amp;&amp; mvn -q -B -pl examples exec:exec
 * </pre>
 * Arguments: {@code --prompts N} and any Ember option ({@code --model /models/Qwen2.5-0.5B-Instruct --chat true}).
 */
public final class Quickstart {
    private Quickstart() {
    }

    public static void main(String[] args) {
        JobArgs a = JobArgs.parse(args, Set.of("prompts"), Set.of());
        if (a.flag("help")) {
            System.out.println("Usage: Quickstart [--prompts N] [Ember options, e.g. --model DIR --max_tokens 32]");
            return;
        }
        SparkSession spark = ExampleSpark.session("Ember Quickstart");
        try {
            run(spark, a, System.out);
        } finally {
            spark.stop();
        }
    }

    static JobReport run(SparkSession spark, JobArgs a, PrintStream out) {
        int n = a.intValue("prompts", 64, 1);
        Map<String, String> options = a.optionsOver(Map.of("model", "demo", "max_tokens", "32", "temperature", "0"));
        List<String> prompts = new ArrayList<>(n);
        String[] topics = {"the sea", "autumn", "a lighthouse", "Spark executors", "GPUs", "a cat", "bread", "rain"};
        for (int i = 0; i < n; i++) {
            prompts.add("Write a short poem about " + topics[i % topics.length] + " (" + i + ").");
        }
        Dataset<Row> df = spark.createDataset(prompts, Encoders.STRING()).toDF("prompt");

        JobReport report;
        List<Row> rows;
        try (EmberProgress progress = EmberProgress.attach(spark, n, options, System.err::println)) {
            // The DataFrame API: one struct column (text, token_ids, finish_reason, prompt_tokens,
            // completion_tokens, error) per row; each executor streams its partition through one shared engine.
            rows = df.withColumn("generation", EmberFunctions.generate(col("prompt"), EmberOptions.only(options, EmberOptions.CALL_SCOPES)))
                    .select(col("prompt"), col("generation.text"), col("generation.finish_reason"),
                            col("generation.prompt_tokens"), col("generation.completion_tokens"))
                    .collectAsList();
            report = progress.report();
        }
        out.println("First rows:");
        for (Row r : rows.subList(0, Math.min(3, rows.size()))) {
            out.printf("  %s%n    -> %s [%s, %d+%d tokens]%n", r.getString(0), oneLine(r.getString(1)),
                    r.getString(2), r.getInt(3), r.getInt(4));
        }
        long promptTokens = rows.stream().mapToLong(r -> r.getInt(3)).sum();
        long generated = rows.stream().mapToLong(r -> r.getInt(4)).sum();
        double engineSeconds = report.engineSecondsByExecutor().values().stream().mapToDouble(d -> d).sum();
        out.printf("Throughput: %d rows, %,d prompt tokens, %,d generated tokens in %.2f s = %.1f generated tok/s"
                        + " (Spark job start and engine load included; engine busy %.2f s = %.1f tok/s)%n",
                rows.size(), promptTokens, generated, report.wallSeconds(), generated / report.wallSeconds(),
                engineSeconds, engineSeconds > 0 ? generated / engineSeconds : 0.0);
        out.println("Job report:");
        out.println(report.toJson());

        // The same from SQL (spark.sql.extensions=dev.ember.spark.EmberExtensions registers llm_generate).
        df.createOrReplaceTempView("prompts");
        out.println("SQL: SELECT prompt, llm_generate(prompt, map('model', 'demo', 'max_tokens', '8')).text FROM prompts LIMIT 2");
        spark.sql("SELECT prompt, llm_generate(prompt, map('model', '" + options.get("model")
                        + "', 'max_tokens', '8')).text AS text FROM prompts LIMIT 2")
                .collectAsList()
                .forEach(r -> out.printf("  %s%n    -> %s%n", r.getString(0), oneLine(r.getString(1))));
        return report;
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "null";
        }
        String t = s.replace('\n', ' ');
        return t.length() > 100 ? t.substring(0, 100) + "..." : t;
    }
}
