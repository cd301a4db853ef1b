package dev.ember.template;

import dev.ember.ConfigException;

/**
 * Bounds on one rendering, so a hostile or broken template cannot spin or exhaust memory.
 *
 * @param maxSteps       evaluation steps (statements, expression nodes, loop iterations, and one per
 *                       element of bulk operations such as sorting or joining)
 * @param maxOutputChars characters of output, and of any single string or list built while rendering
 * @param timeoutMs      wall-clock time for one rendering
 */
public record RenderLimits(long maxSteps, long maxOutputChars, long timeoutMs) {
    /** Generous for any real conversation: 50M steps, 64M characters, 10 seconds. */
    public static final RenderLimits DEFAULT = new RenderLimits(50_000_000L, 64L << 20, 10_000L);

    public RenderLimits {
        if (maxSteps <= 0) {
            throw ConfigException.invalid("maxSteps", maxSteps, "a positive step count");
        }
        if (maxOutputChars <= 0) {
            throw ConfigException.invalid("maxOutputChars", maxOutputChars, "a positive character count");
        }
        if (timeoutMs <= 0) {
            throw ConfigException.invalid("timeoutMs", timeoutMs, "a positive number of milliseconds");
        }
    }
}
