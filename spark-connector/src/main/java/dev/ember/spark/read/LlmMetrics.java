package dev.ember.spark.read;

import dev.ember.spark.EmberMetrics;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * The {@code format("llm")} scan's custom metrics, named by {@link EmberMetrics}. Spark creates each metric's
 * accumulator under its {@code description()} and keys the scan's metrics by {@code name()}, so both are the
 * {@link EmberMetrics} name the progress listener looks for. The driver instantiates these classes by name to
 * aggregate task values, so they are public with public no-argument constructors; every one is a sum over tasks.
 */
public final class LlmMetrics {
    private LlmMetrics() {
    }

    /** The metrics the scan reports, in {@link LlmTaskMetrics} order. */
    static CustomMetric[] all() {
        return new CustomMetric[]{new Rows(), new ErrorRows(), new PromptTokens(), new GeneratedTokens(),
                new Preemptions(), new GenerationMs()};
    }

    /** A task's value of one metric. */
    record TaskValue(String name, long value) implements CustomTaskMetric {
    }

    private abstract static class Named extends CustomSumMetric {
        private final String name;

        Named(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String description() {
            return name;
        }
    }

    /** {@link EmberMetrics#ROWS}. */
    public static final class Rows extends Named {
        public Rows() {
            super(EmberMetrics.ROWS);
        }
    }

    /** {@link EmberMetrics#ERROR_ROWS}. */
    public static final class ErrorRows extends Named {
        public ErrorRows() {
            super(EmberMetrics.ERROR_ROWS);
        }
    }

    /** {@link EmberMetrics#PROMPT_TOKENS}. */
    public static final class PromptTokens extends Named {
        public PromptTokens() {
            super(EmberMetrics.PROMPT_TOKENS);
        }
    }

    /** {@link EmberMetrics#GENERATED_TOKENS}. */
    public static final class GeneratedTokens extends Named {
        public GeneratedTokens() {
            super(EmberMetrics.GENERATED_TOKENS);
        }
    }

    /** {@link EmberMetrics#PREEMPTIONS}. */
    public static final class Preemptions extends Named {
        public Preemptions() {
            super(EmberMetrics.PREEMPTIONS);
        }
    }

    /** {@link EmberMetrics#GENERATION_MS}. */
    public static final class GenerationMs extends Named {
        public GenerationMs() {
            super(EmberMetrics.GENERATION_MS);
        }
    }
}
