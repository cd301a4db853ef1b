package dev.ember.engine;

import java.util.concurrent.atomic.AtomicLong;

/** Counters the step loop updates and any thread reads. */
final class EngineStats {
    final AtomicLong requestsFinished = new AtomicLong();
    final AtomicLong requestErrors = new AtomicLong();
    final AtomicLong promptTokens = new AtomicLong();
    final AtomicLong generatedTokens = new AtomicLong();
    final AtomicLong steps = new AtomicLong();
    final AtomicLong busyNanos = new AtomicLong();
    volatile int running;
    volatile int waiting;
    volatile double kvUsage;
    volatile long preemptions;
    volatile long cachedPromptTokens;
    volatile int peakRunning;

    EngineMetrics snapshot(int numKvBlocks) {
        double busySeconds = busyNanos.get() / 1e9;
        long generated = generatedTokens.get();
        long prompt = promptTokens.get();
        return new EngineMetrics(requestsFinished.get(), requestErrors.get(), prompt, generated, cachedPromptTokens,
                steps.get(), preemptions, busySeconds, busySeconds > 0 ? generated / busySeconds : 0, running, waiting,
                kvUsage, prompt > 0 ? (double) cachedPromptTokens / prompt : 0, numKvBlocks, peakRunning);
    }
}
