package dev.ember;

/** A checkpoint, tokenizer or chat template cannot be read: missing, truncated, misshaped or unsupported. */
public class ModelFormatException extends LlmException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
