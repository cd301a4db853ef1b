package dev.ember.spark.read;

import dev.ember.api.Result;
import dev.ember.spark.EmberMetrics;
import dev.ember.spark.executor.TaskSession;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * One reader's running totals of the {@link LlmMetrics}, fed by its {@link TaskSession}. Not thread-safe: the
 * task's thread updates and reads it.
 */
final class LlmTaskMetrics implements TaskSession.Metrics {
    private long rows;
    private long errorRows;
    private long promptTokens;
    private long generatedTokens;
    private long preemptions;
    private long generationMs;

    @Override
    public void answered(Result r) {
        rows++;
        if (!r.ok()) {
            errorRows++;
        }
        promptTokens += r.promptTokens();
        generatedTokens += r.completionTokens();
    }

    @Override
    public void finished(long ms, long enginePreemptions) {
        generationMs += ms;
        preemptions += enginePreemptions;
    }

    /** Adds the values of an earlier reader of the same task (Spark's {@code initMetricsValues}). */
    void addPrior(CustomTaskMetric[] prior) {
        for (CustomTaskMetric m : prior) {
            switch (m.name()) {
                case EmberMetrics.ROWS -> rows += m.value();
                case EmberMetrics.ERROR_ROWS -> errorRows += m.value();
                case EmberMetrics.PROMPT_TOKENS -> promptTokens += m.value();
                case EmberMetrics.GENERATED_TOKENS -> generatedTokens += m.value();
                case EmberMetrics.PREEMPTIONS -> preemptions += m.value();
                case EmberMetrics.GENERATION_MS -> generationMs += m.value();
                default -> {
                }
            }
        }
    }

    CustomTaskMetric[] values() {
        return new CustomTaskMetric[]{
                new LlmMetrics.TaskValue(EmberMetrics.ROWS, rows),
                new LlmMetrics.TaskValue(EmberMetrics.ERROR_ROWS, errorRows),
                new LlmMetrics.TaskValue(EmberMetrics.PROMPT_TOKENS, promptTokens),
                new LlmMetrics.TaskValue(EmberMetrics.GENERATED_TOKENS, generatedTokens),
                new LlmMetrics.TaskValue(EmberMetrics.PREEMPTIONS, preemptions),
                new LlmMetrics.TaskValue(EmberMetrics.GENERATION_MS, generationMs),
        };
    }
}
