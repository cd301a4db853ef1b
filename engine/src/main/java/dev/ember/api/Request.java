package dev.ember.api;

import dev.ember.sampling.SamplingParams;

import java.util.List;
import java.util.Objects;

/**
 * One generation request: exactly one of a text prompt, prompt token ids, or chat messages (rendered with the
 * model's chat template, generation prompt added). A null or empty prompt is not rejected here: the engine
 * finishes such a request with {@link FinishReason#ERROR} so a batch never fails for one bad row.
 *
 * @param requestId caller's id, echoed in the result (any string; need not be unique)
 */
public record Request(String requestId, String prompt, int[] promptTokenIds, List<ChatMessage> messages,
                      SamplingParams params) {
    public Request {
        Objects.requireNonNull(params, "params");
        int forms = (prompt != null ? 1 : 0) + (promptTokenIds != null ? 1 : 0) + (messages != null ? 1 : 0);
        if (forms > 1) {
            throw new IllegalArgumentException("a Request takes one of prompt, promptTokenIds or messages, not " + forms);
        }
        promptTokenIds = promptTokenIds == null ? null : promptTokenIds.clone();
        messages = messages == null ? null : List.copyOf(messages);
    }

    public static Request ofText(String requestId, String prompt, SamplingParams params) {
        return new Request(requestId, prompt, null, null, params);
    }

    public static Request ofTokens(String requestId, int[] promptTokenIds, SamplingParams params) {
        return new Request(requestId, null, promptTokenIds, null, params);
    }

    public static Request ofChat(String requestId, List<ChatMessage> messages, SamplingParams params) {
        return new Request(requestId, null, null, messages, params);
    }
}
