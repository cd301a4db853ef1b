package dev.ember.spark;

/**
 * Names of the SQL metrics every Ember operator and scan reports (the generate operator as SQLMetrics, the
 * {@code format("llm")} scan as DataSource V2 custom metrics). The driver's progress listener and the job report
 * find them by these names in the accumulator updates, so the names are the contract between them.
 */
public final class EmberMetrics {
    /** Rows answered (ok or error). */
    public static final String ROWS = "ember rows";
    /** Rows answered with an error. */
    public static final String ERROR_ROWS = "ember error rows";
    /** Prompt tokens of the answered rows. */
    public static final String PROMPT_TOKENS = "ember prompt tokens";
    /** Generated tokens of the answered rows. */
    public static final String GENERATED_TOKENS = "ember generated tokens";
    /** Preemptions the engine made while this operator's tasks ran (engine-wide counter deltas). */
    public static final String PREEMPTIONS = "ember preemptions";
    /** Milliseconds tasks spent generating (from the first submit to the last result). */
    public static final String GENERATION_MS = "ember generation ms";

    private EmberMetrics() {
    }
}
