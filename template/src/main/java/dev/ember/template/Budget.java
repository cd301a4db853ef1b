package dev.ember.template;

/** Counts the work of one rendering against its {@link RenderLimits}; not thread-safe (one per render). */
final class Budget {
    private final RenderLimits limits;
    private final long deadlineNanos;
    private long steps;

    Budget(RenderLimits limits) {
        this.limits = limits;
        this.deadlineNanos = System.nanoTime() + limits.timeoutMs() * 1_000_000L;
    }

    void step() {
        charge(1);
    }

    /** Counts n steps (one per element for bulk work) and checks the clock now and then. */
    void charge(long n) {
        long before = steps;
        steps += n;
        if (steps > limits.maxSteps()) {
            throw new TemplateException("rendering stopped: the template took more than " + limits.maxSteps()
                    + " steps (RenderLimits.maxSteps); it probably loops far more than a chat template should");
        }
        if ((before >>> 12) != (steps >>> 12) && System.nanoTime() > deadlineNanos) {
            throw new TemplateException("rendering stopped: the template ran longer than " + limits.timeoutMs()
                    + " ms (RenderLimits.timeoutMs)");
        }
    }

    /** Fails when a string, list or the output would grow past maxOutputChars. */
    void checkSize(long size) {
        if (size > limits.maxOutputChars()) {
            throw new TemplateException("rendering stopped: a value or the output grew past " + limits.maxOutputChars()
                    + " characters (RenderLimits.maxOutputChars)");
        }
    }
}
