package dev.ember.template;

import dev.ember.LlmException;

/**
 * Rendering a chat template failed: the template called {@code raise_exception(msg)}, used an undefined
 * value where jinja2 fails, hit a Python-style type error, reached something the sandbox forbids, or ran
 * past its {@link RenderLimits}. The message names the template position (line:column) where known and,
 * for failures jinja2 also has, starts with jinja2's exception name (UndefinedError, TypeError, ...).
 */
public class TemplateException extends LlmException {
    private static final long serialVersionUID = 1L;

    private final String raisedMessage;
    private final boolean positioned;

    TemplateException(String message) {
        this(message, null, false, null);
    }

    TemplateException(String message, Throwable cause) {
        this(message, null, false, cause);
    }

    private TemplateException(String message, String raisedMessage, boolean positioned, Throwable cause) {
        super(message, cause);
        this.raisedMessage = raisedMessage;
        this.positioned = positioned;
    }

    /** The template itself called {@code raise_exception(message)}; the message is kept verbatim. */
    static TemplateException raised(String message) {
        return new TemplateException("chat template raised an exception: " + message, message, false, null);
    }

    /** This error with the template position appended, unless an inner node already added one. */
    TemplateException at(String position) {
        if (positioned) {
            return this;
        }
        TemplateException e = new TemplateException(getMessage() + " (template line " + position + ")", raisedMessage,
                true, getCause());
        e.setStackTrace(getStackTrace());
        return e;
    }

    /** Whether the template called {@code raise_exception} (as opposed to failing on its own). */
    public boolean raisedByTemplate() {
        return raisedMessage != null;
    }

    /** The exact message given to {@code raise_exception}, or null when the template did not raise. */
    public String templateMessage() {
        return raisedMessage;
    }
}
