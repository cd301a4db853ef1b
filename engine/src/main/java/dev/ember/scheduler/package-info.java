/**
 * The continuous batch: {@link dev.ember.scheduler.Sequence} holds a request's tokens,
 * {@link dev.ember.scheduler.Scheduler} plans each step (decodes, chunked prefill, admission, preemption) as a
 * {@link dev.ember.scheduler.ScheduledBatch} and applies its sampled tokens. Plain Java, deterministic, driven by
 * the engine's step-loop thread only.
 */
package dev.ember.scheduler;
