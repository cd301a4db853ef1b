package dev.ember;

/** An option, a configuration file or a sampling parameter has a value that is not allowed. */
public class ConfigException extends LlmException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "option 'name' is 'value'; allowed: what" — the one shape every bad-option message takes. */
    public static ConfigException invalid(String option, Object value, String allowed) {
        return new ConfigException("option '" + option + "' is '" + value + "'; allowed: " + allowed);
    }
}
