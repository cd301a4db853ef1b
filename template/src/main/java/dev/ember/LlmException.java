package dev.ember;

/**
 * Root of Ember's exception family. A message names the thing, the bad value, what was expected and,
 * where it can, how to fix it.
 */
public class LlmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LlmException(String message) {
        super(requireMessage(message));
    }

    public LlmException(String message, Throwable cause) {
        super(requireMessage(message), cause);
    }

    private static String requireMessage(String message) {
        if (message == null || message.isBlank()) {
            throw new IllegalArgumentException("an LlmException needs a message");
        }
        return message;
    }
}
