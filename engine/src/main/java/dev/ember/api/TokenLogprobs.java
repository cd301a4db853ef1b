package dev.ember.api;

/**
 * Log-probabilities for one generated token (raw model distribution).
 *
 * @param tokenId     the generated token
 * @param logprob     its log-probability
 * @param topTokenIds the most likely tokens, most likely first
 * @param topLogprobs their log-probabilities
 */
public record TokenLogprobs(int tokenId, float logprob, int[] topTokenIds, float[] topLogprobs) {
}
