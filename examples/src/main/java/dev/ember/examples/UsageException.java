package dev.ember.examples;

/** A bad command line: the message says which argument and what is expected; the caller prints the usage. */
public final class UsageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
