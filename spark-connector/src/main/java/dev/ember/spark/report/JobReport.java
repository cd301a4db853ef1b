package dev.ember.spark.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The summary of one Ember job: what was generated, how fast, on how much device time, at what cost. Built from
 * {@link EmberTotals} by {@link #of}; written as JSON beside the job's output ({@link #writeBeside}).
 *
 * @param wallSeconds               the job's wall-clock seconds (as the caller measured them)
 * @param generatedTokensPerSecond  generated tokens per wall second
 * @param taskGenerationSeconds     the tasks' generation time summed (tasks sharing an engine overlap)
 * @param engineSecondsByExecutor   per executor id, the seconds its engine was busy (one device per executor)
 * @param deviceHours               engine busy time over all executors, in hours
 * @param pricePerGpuHour           the {@code pricePerGpuHour} option; 0 = no estimate
 * @param estimatedCost             deviceHours x pricePerGpuHour, or null when no price was given
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobReport(String model, long rows, long errorRows, long promptTokens, long generatedTokens,
                        long preemptions, double wallSeconds, double rowsPerSecond, double generatedTokensPerSecond,
                        double taskGenerationSeconds, Map<String, Double> engineSecondsByExecutor,
                        double deviceHours, double pricePerGpuHour, Double estimatedCost) {

    /** The report's file name in the output directory (a leading underscore: Spark's readers skip it). */
    public static final String FILE_NAME = "_ember_report.json";
    /** Each run's own report is {@code _ember_report-<UTC time>.json}. */
    public static final String RUN_FILE_PREFIX = "_ember_report-";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public JobReport {
        engineSecondsByExecutor = Map.copyOf(engineSecondsByExecutor);
    }

    /** The report of {@code totals} over {@code wallSeconds}; {@code model} may be null. */
    public static JobReport of(String model, EmberTotals totals, double wallSeconds, double pricePerGpuHour) {
        double engineSeconds = totals.engineSecondsByExecutor().values().stream().mapToDouble(Double::doubleValue).sum();
        double deviceHours = engineSeconds / 3600.0;
        return new JobReport(model, totals.rows(), totals.errorRows(), totals.promptTokens(),
                totals.generatedTokens(), totals.preemptions(), wallSeconds,
                wallSeconds > 0 ? totals.rows() / wallSeconds : 0,
                wallSeconds > 0 ? totals.generatedTokens() / wallSeconds : 0,
                totals.generationMs() / 1000.0, totals.engineSecondsByExecutor(), deviceHours, pricePerGpuHour,
                pricePerGpuHour > 0 ? deviceHours * pricePerGpuHour : null);
    }

    /** The report as indented JSON. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Ember job report as JSON", e);
        }
    }

    /** Reads a report written by {@link #toJson()}. */
    public static JobReport fromJson(String json) {
        try {
            return JSON.readValue(json, JobReport.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not an Ember job report: " + e.getMessage(), e);
        }
    }

    /**
     * Writes the report into {@code outputDir} (any Hadoop FileSystem path) twice: as this run's own file
     * {@code _ember_report-<UTC time>.json}, kept beside the reports of earlier runs (a resumed job has one per
     * run), and as {@value #FILE_NAME}, the latest run's. Returns the path of this run's file.
     */
    public String writeBeside(String outputDir, Configuration hadoopConf) {
        Path latest = new Path(outputDir, FILE_NAME);
        try {
            FileSystem fs = latest.getFileSystem(hadoopConf);
            byte[] json = toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
                    .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now());
            Path run = new Path(outputDir, RUN_FILE_PREFIX + stamp + ".json");
            for (int n = 2; fs.exists(run); n++) {
                run = new Path(outputDir, RUN_FILE_PREFIX + stamp + "-" + n + ".json");
            }
            for (Path file : new Path[] {run, latest}) {
                try (FSDataOutputStream out = fs.create(file, true)) {
                    out.write(json);
                }
            }
            return run.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Ember job report into " + outputDir, e);
        }
    }

    /** One line for logs: rows, tokens, seconds, tokens/s, device-hours and cost. */
    public String summary() {
        return String.format("Ember job: %,d rows (%,d errors), %,d prompt + %,d generated tokens in %.1f s,"
                        + " %.1f generated tok/s, %.4f device-hours%s", rows, errorRows, promptTokens, generatedTokens,
                wallSeconds, generatedTokensPerSecond, deviceHours,
                estimatedCost == null ? "" : String.format(", estimated cost %.4f", estimatedCost));
    }
}
