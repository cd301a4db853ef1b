package dev.ember.spark.read;

import dev.ember.engine.Result;
import dev.ember.spark.EmberMetrics;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * One reader's running totals of the {@link LlmMetrics}. Generation time runs from the first submitted row to the
 * latest result. Not thread-safe: the task's thread updates and reads it.
 */
final class LlmTaskMetrics {
    private long rows;
    private long errorRows;
    private long promptTokens;
    private long generatedTokens;
    private long priorGenerationMs;
    private long firstSubmitNanos = -1;
    private long lastResultNanos = -1;

    void started() {
        if (firstSubmitNanos < 0) {
            firstSubmitNanos = System.nanoTime();
        }
    }

    void answered(Result r) {
        rows++;
        if (r.error() != null) {
            errorRows++;
        }
        promptTokens += r.promptTokens();
        generatedTokens += r.completionTokens();
        lastResultNanos = System.nanoTime();
    }

    /** Adds the values of an earlier reader of the same task (Spark's {@code initMetricsValues}). */
    void addPrior(CustomTaskMetric[] prior) {
        for (CustomTaskMetric m : prior) {
            switch (m.name()) {
                case EmberMetrics.ROWS -> rows += m.value();
                case EmberMetrics.ERROR_ROWS -> errorRows += m.value();
                case EmberMetrics.PROMPT_TOKENS -> promptTokens += m.value();
                case EmberMetrics.GENERATED_TOKENS -> generatedTokens += m.value();
                case EmberMetrics.GENERATION_MS -> priorGenerationMs += m.value();
                default -> {
                }
            }
        }
    }

    long rows() {
        return rows;
    }

    CustomTaskMetric[] values() {
        long generationMs = priorGenerationMs;
        if (firstSubmitNanos >= 0 && lastResultNanos >= firstSubmitNanos) {
            generationMs += (lastResultNanos - firstSubmitNanos) / 1_000_000;
        }
        return new CustomTaskMetric[]{
                new LlmMetrics.TaskValue(EmberMetrics.ROWS, rows),
                new LlmMetrics.TaskValue(EmberMetrics.ERROR_ROWS, errorRows),
                new LlmMetrics.TaskValue(EmberMetrics.PROMPT_TOKENS, promptTokens),
                new LlmMetrics.TaskValue(EmberMetrics.GENERATED_TOKENS, generatedTokens),
                new LlmMetrics.TaskValue(EmberMetrics.GENERATION_MS, generationMs),
        };
    }
}
