package dev.ember.examples;

import dev.ember.spark.EmberOptions;
import dev.ember.spark.function.EmberFunctions;
import dev.ember.spark.report.EmberProgress;
import dev.ember.spark.report.JobReport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;

/**
 * Generates for every row of a dataset and writes the rows with their generation as Parquet. A spark-submit job:
 * <pre>
 * spark-submit --class dev.ember.examples.BatchGenerate --jars ember-spark-assembly.jar ember-examples.jar \
 *   --input prompts.jsonl --output out/ --model /models/Qwen2.5-0.5B-Instruct --max_tokens 128
 * </pre>
 * With {@code --resume} the rows whose id is already in the output are skipped: each run appends Parquet files,
 * and every task commits its own file when it ends (file output committer algorithm 2), so a stopped job keeps
 * the rows of its finished tasks and the next run does not pay for them again. The job report
 * ({@link JobReport}) is written into the output folder as {@value JobReport#FILE_NAME}.
 */
public final class BatchGenerate {
    static final Set<String> VALUED = Set.of("input", "input-format", "output", "prompt-column", "id-column",
            "output-column", "rows-per-task");
    static final Set<String> FLAGS = Set.of("resume", "overwrite");

    /** What a run did: rows in the input, rows skipped as already done, rows generated now, the report. */
    public record Outcome(long inputRows, long skippedRows, long generatedRows, JobReport report, String reportFile) {
    }

    private BatchGenerate() {
    }

    public static void main(String[] args) {
        JobArgs a = parseOrUsage(args);
        if (a == null) {
            return;
        }
        SparkSession spark = ExampleSpark.session("Ember BatchGenerate");
        try {
            run(spark, a, System.out);
        } finally {
            spark.stop();
        }
    }

    /** Parses the arguments; prints the usage and returns null for --help; prints it and throws on a bad one. */
    static JobArgs parseOrUsage(String[] args) {
        try {
            JobArgs a = JobArgs.parse(args, VALUED, FLAGS);
            if (a.flag("help")) {
                System.out.print(usage());
                return null;
            }
            return a;
        } catch (UsageException e) {
            System.err.println("BatchGenerate: " + e.getMessage() + "\n\n" + usage());
            throw e;
        }
    }

    static Outcome run(SparkSession spark, String[] args, PrintStream out) {
        return run(spark, JobArgs.parse(args, VALUED, FLAGS), out);
    }

    static Outcome run(SparkSession spark, JobArgs a, PrintStream out) {
        String inputPath = a.required("input");
        String output = a.required("output");
        String format = InputData.format(a.get("input-format", null), inputPath);
        String promptColumn = a.get("prompt-column", "prompt");
        String idColumn = a.get("id-column", "id");
        String outputColumn = a.get("output-column", "generation");
        int rowsPerTask = a.intValue("rows-per-task", 1000, 1);
        boolean resume = a.flag("resume");
        if (resume && a.flag("overwrite")) {
            throw new UsageException("--resume and --overwrite exclude each other");
        }
        Map<String, String> options = a.options();

        Dataset<Row> input = InputData.read(spark, inputPath, format);
        InputData.requireColumn(input, promptColumn, "--prompt-column");
        if (resume) {
            InputData.requireColumn(input, idColumn, "--id-column");
        }
        if (List.of(input.columns()).contains(outputColumn)) {
            throw new UsageException("the input already has a column '" + outputColumn + "'; name the output"
                    + " column with --output-column");
        }
        boolean outputHasData = InputData.hasData(spark, output);
        if (outputHasData && !resume && !a.flag("overwrite")) {
            throw new UsageException("the output " + output + " already holds data; --resume continues it,"
                    + " --overwrite replaces it");
        }
        long inputRows = input.count();
        Dataset<Row> todo = input;
        if (resume) {
            long nullIds = input.filter(col(idColumn).isNull()).count();
            if (nullIds > 0) {
                throw new UsageException(nullIds + " input rows have a null --id-column '" + idColumn
                        + "'; --resume needs a unique, non-null id per row");
            }
        }
        if (resume && outputHasData) {
            Dataset<Row> done = spark.read().parquet(output).select(col(idColumn)).distinct();
            todo = input.join(done, input.col(idColumn).equalTo(done.col(idColumn)), "left_anti");
        }
        todo = todo.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long total = todo.count();
            out.printf("BatchGenerate: %,d input rows, %,d already in the output, %,d to generate%n",
                    inputRows, inputRows - total, total);
            int partitions = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (total + rowsPerTask - 1) / rowsPerTask));
            Dataset<Row> parts = total > 0 && todo.rdd().getNumPartitions() != partitions
                    ? todo.repartition(partitions) : todo;
            try (EmberProgress progress = EmberProgress.attach(spark, total, options, System.err::println)) {
                if (total > 0) {
                    parts.withColumn(outputColumn, EmberFunctions.generate(col(promptColumn),
                            EmberOptions.only(options, EmberOptions.CALL_SCOPES)))
                            .write()
                            .mode(a.flag("overwrite") ? SaveMode.Overwrite : SaveMode.Append)
                            // each task's file lands in the output when the task commits: a stopped job keeps it
                            .option("mapreduce.fileoutputcommitter.algorithm.version", "2")
                            .parquet(output);
                }
                JobReport report = progress.report();
                String file = report.writeBeside(output, spark.sparkContext().hadoopConfiguration());
                out.println(report.summary());
                out.println("BatchGenerate: wrote " + output + " and the report " + file);
                return new Outcome(inputRows, inputRows - total, total, report, file);
            }
        } finally {
            todo.unpersist();
        }
    }

    static String usage() {
        return """
                Usage: BatchGenerate --input PATH --output PATH [arguments] [Ember options]

                Generates for each row of the input and writes the input's columns plus a generation struct
                (text, token_ids, finish_reason, prompt_tokens, completion_tokens, error) as Parquet.

                Arguments:
                  --input PATH           input dataset (any Hadoop path)
                  --input-format F       jsonl | json | parquet (default: from the extension, else parquet)
                  --output PATH          output folder (Parquet); the job report goes in as _ember_report.json
                  --prompt-column NAME   column with the prompts (default prompt)
                  --id-column NAME       unique row id, used by --resume (default id)
                  --output-column NAME   name of the generation struct column (default generation)
                  --rows-per-task N      rows per task (and per output file); smaller = less lost on a stop
                                         (default 1000)
                  --resume               skip rows whose id is already in the output, append the rest
                  --overwrite            replace an existing output
                  --help                 this text

                Ember options (--option name=value, repeatable, or --name value), e.g.
                  --model /models/Qwen2.5-0.5B-Instruct (or demo)  --device cuda  --max_tokens 128
                  --temperature 0  --chat true  --fail_on_error true  --price_per_gpu_hour 2.5
                Every option: spark-connector/README.md. spark.ember.<name> in the Spark conf sets defaults.
                """;
    }
}
