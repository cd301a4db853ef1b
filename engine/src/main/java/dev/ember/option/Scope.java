package dev.ember.option;

/**
 * Where an option takes effect, which decides where it may be given. An option given where it would have no
 * effect is refused there, naming the place that reads it.
 */
public enum Scope {
    /** Engine settings (part of an engine's identity): command line, properties file, Spark conf, calls. */
    ENGINE("an engine option"),
    /** Per-request sampling: everywhere the engine options go, and per row in the Spark connector. */
    REQUEST("a sampling option"),
    /** Per-request, but only through the engine's Java API and command line (the Spark result has no field for it). */
    ENGINE_REQUEST("an option of the engine's Java API and command line only"),
    /** Spark connector, per call: generate(), llm_generate, format("llm"), LlmTransformer, Spark conf. */
    CALL("a per-call connector option"),
    /** Spark connector, format("llm") only (the reader's input). */
    READER("an option of format(\"llm\") only"),
    /** Spark connector, the driver's progress lines and job report: Spark conf or EmberProgress.attach. */
    JOB("a job option, read by EmberProgress (Spark conf spark.ember.<name> or EmberProgress.attach options)"),
    /** Spark connector, the executor plugin: Spark conf or the properties file only. */
    EXECUTOR("an executor option, read by EmberPlugin at executor start (Spark conf spark.ember.<name>)");

    private final String description;

    Scope(String description) {
        this.description = description;
    }

    /** What an option of this scope is, for messages ("a job option, read by ..."). */
    public String description() {
        return description;
    }
}
