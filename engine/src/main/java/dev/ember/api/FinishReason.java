package dev.ember.api;

/** Why a request stopped; {@link #wireName()} is what the Arrow/Spark {@code finish_reason} column holds. */
public enum FinishReason {
    /** An EOS id, a stop token id or a stop string. */
    STOP("stop"),
    /** max_tokens reached, or the model's context is full. */
    LENGTH("length"),
    /** The request was invalid (its {@code error} says why); other requests were not affected. */
    ERROR("error"),
    /** Aborted by the caller or by engine shutdown. */
    ABORT("abort");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
