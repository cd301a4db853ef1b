package dev.ember.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.function.EmberFunctions;
import dev.ember.spark.report.EmberProgress;
import dev.ember.spark.report.JobReport;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.when;

/**
 * Labels each row of a dataset with one of the given labels: the prompt is a template over the row's columns,
 * and decoding is constrained with {@code guided_choice} so the model's answer is exactly one of the labels
 * (a row whose generation failed has a null label and its reason in {@code generation.error}). Writes
 * the input's columns plus {@code label} and the generation struct as Parquet, prints the label distribution and
 * writes it ({@value #DISTRIBUTION_FILE}) and the job report beside the data. Defaults to greedy decoding of at
 * most 8 tokens ({@code --max_tokens}, {@code --temperature} change that).
 */
public final class LabelDataset {
    static final String DISTRIBUTION_FILE = "_ember_labels.json";
    static final String DEFAULT_TEMPLATE = "Classify the text as one of: {labels}.\\nText: {text}\\nLabel:";
    static final Set<String> VALUED = Set.of("input", "input-format", "output", "labels", "template",
            "label-column");
    static final Set<String> FLAGS = Set.of("overwrite");

    /** The label counts (every label, zeros included; failed rows are not counted) and the report. */
    public record Outcome(Map<String, Long> distribution, JobReport report) {
    }

    private LabelDataset() {
    }

    public static void main(String[] args) {
        JobArgs a;
        try {
            a = JobArgs.parse(args, VALUED, FLAGS);
        } catch (UsageException e) {
            System.err.println("LabelDataset: " + e.getMessage() + "\n\n" + usage());
            throw e;
        }
        if (a.flag("help")) {
            System.out.print(usage());
            return;
        }
        SparkSession spark = ExampleSpark.session("Ember LabelDataset");
        try {
            run(spark, a, System.out);
        } finally {
            spark.stop();
        }
    }

    static Outcome run(SparkSession spark, String[] args, PrintStream out) {
        return run(spark, JobArgs.parse(args, VALUED, FLAGS), out);
    }

    static Outcome run(SparkSession spark, JobArgs a, PrintStream out) {
        String inputPath = a.required("input");
        String output = a.required("output");
        List<String> labels = JobArgs.list(a.required("labels"));
        if (labels.isEmpty()) {
            throw new UsageException("--labels needs at least one label");
        }
        String labelColumn = a.get("label-column", "label");
        Map<String, String> options = new LinkedHashMap<>(a.optionsOver(Map.of("max_tokens", "16", "temperature", "0")));
        for (String guided : List.of("guided_choice", "guided_regex", "guided_json", "return_type")) {
            if (options.containsKey(guided)) {
                throw new UsageException("--" + guided.replace('_', '-') + " cannot be given: --labels sets the"
                        + " output's constraint (guided_choice over the labels)");
            }
        }
        try {
            options.put("guided_choice", new ObjectMapper().writeValueAsString(labels));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        Dataset<Row> input = InputData.read(spark, inputPath, InputData.format(a.get("input-format", null), inputPath));
        Set<String> columns = Set.of(input.columns());
        if (columns.contains(labelColumn) || columns.contains("generation")) {
            throw new UsageException("the input already has a column '" + labelColumn + "' or 'generation';"
                    + " name the label column with --label-column");
        }
        if (InputData.hasData(spark, output) && !a.flag("overwrite")) {
            throw new UsageException("the output " + output + " already holds data; --overwrite replaces it");
        }
        var prompt = PromptTemplate.column(a.get("template", DEFAULT_TEMPLATE), columns, labels);
        long rows = input.count();
        try (EmberProgress progress = EmberProgress.attach(spark, rows, options, System.err::println)) {
            input.withColumn("generation", EmberFunctions.generate(prompt, EmberOptions.only(options, EmberOptions.CALL_SCOPES)))
                    .withColumn(labelColumn, when(col("generation.error").isNull(), col("generation.text")))
                    .write().mode(SaveMode.Overwrite).parquet(output);
            JobReport report = progress.report();
            // The distribution is read back from the written files: the generation is not run twice.
            Map<String, Long> distribution = new LinkedHashMap<>();
            labels.forEach(l -> distribution.put(l, 0L));
            long failed = 0;
            for (Row r : spark.read().parquet(output).groupBy(labelColumn).count().collectAsList()) {
                if (r.isNullAt(0)) {
                    failed = r.getLong(1);
                } else {
                    distribution.put(r.getString(0), r.getLong(1));
                }
            }
            out.println("LabelDataset: label distribution over " + rows + " rows");
            distribution.forEach((label, n) -> out.printf("  %-20s %,8d  %5.1f%%%n", label, n,
                    rows == 0 ? 0.0 : 100.0 * n / rows));
            if (failed > 0) {
                out.printf("  %,d rows failed (null label; see generation.error)%n", failed);
            }
            report.writeBeside(output, spark.sparkContext().hadoopConfiguration());
            writeDistribution(spark, output, rows, distribution);
            out.println(report.summary());
            return new Outcome(distribution, report);
        }
    }

    private static void writeDistribution(SparkSession spark, String output, long rows, Map<String, Long> dist) {
        Path file = new Path(output, DISTRIBUTION_FILE);
        try (FSDataOutputStream s = file.getFileSystem(spark.sparkContext().hadoopConfiguration()).create(file, true)) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("rows", rows);
            json.put("labels", dist);
            s.write(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json)
                    .getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    static String usage() {
        return """
                Usage: LabelDataset --input PATH --output PATH --labels a,b,c [arguments] [Ember options]

                Asks the model to label each row, with decoding constrained (guided_choice) so the answer is
                exactly one of the labels, writes the input's columns plus label and generation as Parquet, and
                prints the label distribution (also written to the output as _ember_labels.json, with
                _ember_report.json). A row whose generation failed has a null label (see generation.error).

                Arguments:
                  --input PATH          input dataset
                  --input-format F      jsonl | json | parquet | csv (header line first) | orc | text (default: from the extension, else parquet)
                  --output PATH         output folder (Parquet)
                  --labels a,b,c        the labels, comma-separated
                  --template T          prompt template: {column} is a column's value, {labels} the label list,
                                        \\n a newline (default "Classify the text as one of: {labels}.\\nText: {text}\\nLabel:")
                  --label-column NAME   name of the label column (default label)
                  --overwrite           replace an existing output
                  --help                this text

                Ember options (--option name=value or --name value); defaults here: --max_tokens 16 --temperature 0.
                """;
    }
}
