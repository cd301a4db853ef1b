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
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Generates for every row of a dataset and writes the rows with their generation as Parquet. A spark-submit job:
 * <pre>
 * spark-submit --class dev.ember.examples.BatchGenerate --jars ember-spark-assembly.jar ember-examples.jar \
 *   --input prompts.jsonl --output out/ --model /models/Qwen2.5-0.5B-Instruct --max_tokens 128
 * </pre>
 * With {@code --resume} the rows whose id is already in the output are skipped and the rest appended; with
 * {@code --retry-errors} too, the rows whose generation ended in an error are first removed from the output
 * ({@link ErrorRows}), so they are generated again and replaced, never duplicated. Output is committed by Spark's
 * default file output committer (algorithm 1: algorithm 2 can leave a failed task's partial files visible, see
 * SPARK-33019); with {@code --resume} the rows are written in slices of {@code --rows-per-commit}, each its own
 * committed job, so a stopped run keeps its finished slices. Each run's report ({@link JobReport}) is written
 * into the output folder beside the earlier runs' ({@code _ember_report-<time>.json}), the latest also as
 * {@value JobReport#FILE_NAME}.
 */
public final class BatchGenerate {
    static final Set<String> VALUED = Set.of("input", "input-format", "output", "prompt-column", "id-column",
            "output-column", "rows-per-task", "rows-per-commit");
    static final Set<String> FLAGS = Set.of("resume", "overwrite", "retry-errors");

    /**
     * What a run did: rows in the input, rows skipped as already done, rows generated now, earlier error rows
     * removed for a retry, the report and this run's report file.
     */
    public record Outcome(long inputRows, long skippedRows, long generatedRows, long retriedErrors, JobReport report,
                          String reportFile) {
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
        int rowsPerCommit = a.intValue("rows-per-commit", 50_000, 1);
        boolean resume = a.flag("resume");
        boolean retryErrors = a.flag("retry-errors");
        if (resume && a.flag("overwrite")) {
            throw new UsageException("--resume and --overwrite exclude each other");
        }
        if (retryErrors && !resume) {
            throw new UsageException("--retry-errors works with --resume: it regenerates the error rows of an existing"
                    + " output");
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
        long inputRows;
        Dataset<Row> todo = input;
        if (!resume) {
            inputRows = input.count();
        } else {
            // one pass over the input: rows, non-null ids and distinct ids
            Row counts = input.agg(count(lit(1)), count(col(idColumn)), countDistinct(col(idColumn))).first();
            inputRows = counts.getLong(0);
            long nullIds = inputRows - counts.getLong(1);
            if (nullIds > 0) {
                throw new UsageException(nullIds + " input rows have a null --id-column '" + idColumn
                        + "'; --resume needs a unique, non-null id per row");
            }
            // a repeated id makes one row stand for another: found "done" through its twin, an error row removed by
            // --retry-errors would never be generated again
            long repeated = counts.getLong(1) - counts.getLong(2);
            if (repeated > 0) {
                throw new UsageException(repeated + " input rows repeat an --id-column '" + idColumn + "' value of an"
                        + " earlier row; --resume needs a unique, non-null id per row");
            }
        }
        long retried = 0;
        if (resume && outputHasData) {
            ErrorRows.clearStaging(spark, output);
            if (retryErrors) {
                retried = ErrorRows.drop(spark, output, outputColumn);
                out.printf("BatchGenerate: %,d rows that ended in an error removed from the output, to generate again%n",
                        retried);
            }
            Dataset<Row> done = spark.read().parquet(output).select(col(idColumn)).distinct();
            todo = input.join(done, input.col(idColumn).equalTo(done.col(idColumn)), "left_anti");
        }
        todo = todo.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long total = todo.count();
            out.printf("BatchGenerate: %,d input rows, %,d already in the output, %,d to generate%n",
                    inputRows, inputRows - total, total);
            // with ids, commit in slices (each a job): a stopped run keeps its finished slices for --resume
            int slices = resume ? (int) Math.max(1, Math.min(10_000, (total + rowsPerCommit - 1) / rowsPerCommit)) : 1;
            try (EmberProgress progress = EmberProgress.attach(spark, total, options, System.err::println)) {
                for (int k = 0; k < slices && total > 0; k++) {
                    Dataset<Row> slice = slices == 1 ? todo
                            : todo.filter(pmod(xxhash64(col(idColumn)), lit(slices)).equalTo(k));
                    int partitions = (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                            (total / slices + rowsPerTask - 1) / rowsPerTask));
                    Dataset<Row> parts = slice.rdd().getNumPartitions() != partitions ? slice.repartition(partitions) : slice;
                    parts.withColumn(outputColumn, EmberFunctions.generate(col(promptColumn),
                            EmberOptions.only(options, EmberOptions.CALL_SCOPES)))
                            .write()
                            .mode(a.flag("overwrite") && k == 0 ? SaveMode.Overwrite : SaveMode.Append)
                            .parquet(output);
                }
                JobReport report = progress.report();
                String file = report.writeBeside(output, spark.sparkContext().hadoopConfiguration());
                out.println(report.summary());
                out.println("BatchGenerate: wrote " + output + " and the report " + file);
                return new Outcome(inputRows, inputRows - total, total, retried, report, file);
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
                  --input-format F       jsonl | json | parquet | csv (header line first) | orc | text (default: from the extension, else parquet)
                  --output PATH          output folder (Parquet); each run's job report goes in as
                                         _ember_report-<time>.json, the latest also as _ember_report.json
                  --prompt-column NAME   column with the prompts (default prompt)
                  --id-column NAME       unique row id, used by --resume (default id)
                  --output-column NAME   name of the generation struct column (default generation)
                  --rows-per-task N      rows per task (and per output file); smaller = less lost on a stop
                                         (default 1000)
                  --rows-per-commit N    with --resume, rows per committed slice: a stopped run keeps its
                                         finished slices (default 50000)
                  --resume               skip rows whose id is already in the output, append the rest
                  --retry-errors         with --resume, generate again the rows that ended in an error
                                         (they are replaced in the output, never duplicated)
                  --overwrite            replace an existing output
                  --help                 this text

                Ember options (--option name=value, repeatable, or --name value), e.g.
                  --model /models/Qwen2.5-0.5B-Instruct (or demo)  --device cuda  --max_tokens 128
                  --temperature 0  --chat true  --fail_on_error true  --price_per_gpu_hour 2.5
                Every option: spark-connector/README.md. spark.ember.<name> in the Spark conf sets defaults.
                """;
    }
}
