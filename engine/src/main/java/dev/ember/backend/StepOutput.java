package dev.ember.backend;

/**
 * What a backend returns for one step, indexed by the batch's sequence order.
 *
 * @param tokens        (S) the sampled token, -1 where the batch did not ask for one, or {@link #NON_FINITE} where
 *                      the row's logits held a NaN or an infinity, or {@link #NO_CANDIDATE} where every token was
 *                      masked (nothing was sampled in either case; the engine fails that row)
 * @param logprobs      (S) log-probability of the sampled token under the raw model distribution
 *                      (log-softmax of the logits before penalties and temperature); NaN where not sampled, and where
 *                      the sequence asked for no logprobs (not computed)
 * @param topTokenIds   (S) the {@code params.logprobs()} most likely token ids, most likely first; null where none asked
 * @param topLogprobs   (S) their log-probabilities, same order; null where none asked
 */
public record StepOutput(int[] tokens, float[] logprobs, int[][] topTokenIds, float[][] topLogprobs) {
    /**
     * The token of a row whose raw logits were not all finite: a NaN or an infinity there means the model's
     * arithmetic broke (non-finite weights, a float16 overflow), so any token drawn from it would be garbage.
     */
    public static final int NON_FINITE = -2;

    /** The token of a row where penalties and min_tokens masked every token: nothing could be drawn. */
    public static final int NO_CANDIDATE = dev.ember.sampling.Sampler.NO_CANDIDATE;
}
