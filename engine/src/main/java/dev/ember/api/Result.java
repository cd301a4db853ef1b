package dev.ember.api;

import java.util.List;

/**
 * The outcome of one request. On {@link FinishReason#ERROR}, {@code text} is null and {@code error} says why.
 * A guided request that stopped before its constraint was satisfied (finish reason {@code length}, or a stop
 * string) keeps its text and carries an {@code error} saying so: it is never reported as valid. Otherwise
 * {@code error} is null.
 *
 * @param tokenIds  generated token ids (stop ids included, prompt excluded)
 * @param logprobs  one entry per generated token when the request asked for logprobs, else an empty list
 */
public record Result(String requestId, String text, int[] tokenIds, FinishReason finishReason, int promptTokens,
                     int completionTokens, String error, List<TokenLogprobs> logprobs) {

    public static Result error(String requestId, String message, int promptTokens) {
        return new Result(requestId, null, new int[0], FinishReason.ERROR, promptTokens, 0, message, List.of());
    }

    public boolean ok() {
        return error == null;
    }
}
