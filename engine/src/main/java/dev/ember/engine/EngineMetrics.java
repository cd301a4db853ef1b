package dev.ember.engine;

/**
 * A snapshot of an engine's counters since it started.
 *
 * @param tokensPerSecond generated tokens per second of step-loop time spent with work
 * @param kvUsage         fraction of KV blocks in use, 0..1
 * @param prefixCacheHitRate fraction of prompt tokens served from the prefix cache, 0..1
 * @param peakRunning     the most sequences one step has computed (its batch size); above one caller's window it
 *                        shows that callers' requests shared steps
 */
public record EngineMetrics(long requestsFinished, long requestErrors, long promptTokens, long generatedTokens,
                            long cachedPromptTokens, long steps, long preemptions, double busySeconds,
                            double tokensPerSecond, int running, int waiting, double kvUsage,
                            double prefixCacheHitRate, int numKvBlocks, int peakRunning) {
}
