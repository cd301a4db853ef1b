package dev.ember.spark.report;

import java.util.Map;

/**
 * What the Ember operators of a Spark application have reported so far, summed over tasks: finished tasks with
 * their final values, running tasks with the latest values their executors' heartbeats carried. Immutable.
 *
 * @param engineSecondsByExecutor per executor id, the time its engine was busy: the union of the finished tasks'
 *                                generation intervals (tasks sharing one engine overlap, so this is not their sum)
 * @param activeSeconds           seconds since the first task that reported an Ember metric started; 0 before
 */
public record EmberTotals(long rows, long errorRows, long promptTokens, long generatedTokens, long preemptions,
                          long generationMs, Map<String, Double> engineSecondsByExecutor, double activeSeconds) {

    public EmberTotals {
        engineSecondsByExecutor = Map.copyOf(engineSecondsByExecutor);
    }

    /** Generated tokens per second of {@link #activeSeconds}; 0 before any activity. */
    public double generatedTokensPerSecond() {
        return activeSeconds > 0 ? generatedTokens / activeSeconds : 0;
    }

    /** Rows per second of {@link #activeSeconds}; 0 before any activity. */
    public double rowsPerSecond() {
        return activeSeconds > 0 ? rows / activeSeconds : 0;
    }
}
