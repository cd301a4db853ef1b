package dev.ember.sampling;

/**
 * The outcome of sampling one token.
 *
 * @param tokenId     the chosen token
 * @param logprob     its log-probability under the raw model distribution (log-softmax of the unmodified logits);
 *                    NaN when {@code params.logprobs() == 0} (not computed: nothing reads it)
 * @param topTokenIds the {@code params.logprobs()} most likely tokens of the raw distribution, most likely first
 *                    (ties: lower id first); null when none were asked for
 * @param topLogprobs their raw log-probabilities, same order; null when none were asked for
 */
public record Sample(int tokenId, float logprob, int[] topTokenIds, float[] topLogprobs) {
}
