package dev.ember.api;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one request. On {@link FinishReason#ERROR}, {@code text} is null and {@code error} says why.
 * A guided request that stopped before its constraint was satisfied (finish reason {@code length}, or a stop
 * string) keeps its text and carries an {@code error} saying so: it is never reported as valid. Otherwise
 * {@code error} is null.
 *
 * @param tokenIds  generated token ids (stop ids included, prompt excluded)
 * @param logprobs  one entry per generated token when the request asked for logprobs, else an empty list
 * @param choiceProbs for a {@code guided_choice} request with logprobs &gt; 0: each choice's probability under the
 *                  model among the valid outputs, in the constraint's order (a lower bound where a branch the
 *                  generation did not take could still become several choices; exactly what is computed:
 *                  {@link dev.ember.guided.ChoiceProbabilities}); else an empty map
 */
public record Result(String requestId, String text, int[] tokenIds, FinishReason finishReason, int promptTokens,
                     int completionTokens, String error, List<TokenLogprobs> logprobs, Map<String, Double> choiceProbs) {

    public Result {
        choiceProbs = choiceProbs == null ? Map.of() : choiceProbs;
    }

    /** A result without choice probabilities. */
    public Result(String requestId, String text, int[] tokenIds, FinishReason finishReason, int promptTokens,
                  int completionTokens, String error, List<TokenLogprobs> logprobs) {
        this(requestId, text, tokenIds, finishReason, promptTokens, completionTokens, error, logprobs, Map.of());
    }

    public static Result error(String requestId, String message, int promptTokens) {
        return new Result(requestId, null, new int[0], FinishReason.ERROR, promptTokens, 0, message, List.of());
    }

    /**
     * This result with {@code message} as its error, everything generated kept: for a caller that finds a finished
     * output unusable (a Spark {@code return_type} the text does not convert to) and must say so in the row.
     */
    public Result withError(String message) {
        return new Result(requestId, text, tokenIds, finishReason, promptTokens, completionTokens, message, logprobs,
                choiceProbs);
    }

    public boolean ok() {
        return error == null;
    }
}
