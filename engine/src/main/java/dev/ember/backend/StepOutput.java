package dev.ember.backend;

/**
 * What a backend returns for one step, indexed by the batch's sequence order.
 *
 * @param tokens        (S) the sampled token, or -1 where the batch did not ask for one
 * @param logprobs      (S) log-probability of the sampled token under the raw model distribution
 *                      (log-softmax of the logits before penalties and temperature); NaN where not sampled
 * @param topTokenIds   (S) the {@code params.logprobs()} most likely token ids, most likely first; null where none asked
 * @param topLogprobs   (S) their log-probabilities, same order; null where none asked
 */
public record StepOutput(int[] tokens, float[] logprobs, int[][] topTokenIds, float[][] topLogprobs) {
}
