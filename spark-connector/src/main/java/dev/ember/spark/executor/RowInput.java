package dev.ember.spark.executor;

import dev.ember.api.ChatMessage;
import dev.ember.api.Request;
import dev.ember.sampling.SamplingParams;
import dev.ember.spark.EmberSettings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One row's generation input after the row's options are checked: a {@link Request}, or the error that takes
 * its place (an invalid per-row option), or neither for a row that does not reach the call ({@link #skipped}).
 * Built by {@link #of}.
 *
 * @param index   the row's index within its partition
 * @param request the request, or null when {@code error} is set or the row is skipped
 * @param error   why the row cannot be generated, or null
 */
public record RowInput(long index, Request request, String error) {

    /** A row that does not reach the call (it sits in a CASE, IF or COALESCE branch this row does not take). */
    public static RowInput skipped(long index) {
        return new RowInput(index, null, null);
    }

    /** Whether this row is not generated at all: no request, no error, no result. */
    public boolean isSkipped() {
        return request == null && error == null;
    }

    /**
     * The input of a row: a text prompt (rendered as the user turn of a chat when the settings ask for a chat or
     * a system prompt), or chat messages when {@code messages} is not null. {@code rowOptions} (nullable) are
     * per-row sampling options; a bad one makes an error row instead of an exception.
     */
    public static RowInput of(EmberSettings settings, long index, String requestId, String prompt,
                              List<ChatMessage> messages, Map<String, String> rowOptions) {
        SamplingParams params;
        try {
            params = settings.samplingParams(rowOptions == null ? Map.of() : rowOptions);
        } catch (RuntimeException e) {
            return new RowInput(index, null, "invalid option: " + e.getMessage());
        }
        if (messages != null) {
            return new RowInput(index, Request.ofChat(requestId, messages, params), null);
        }
        if (prompt != null && !prompt.isEmpty() && (settings.chat() || settings.systemPrompt() != null)) {
            List<ChatMessage> chat = new ArrayList<>(2);
            if (settings.systemPrompt() != null) {
                chat.add(new ChatMessage("system", settings.systemPrompt()));
            }
            chat.add(new ChatMessage("user", prompt));
            return new RowInput(index, Request.ofChat(requestId, chat, params), null);
        }
        // A null or empty prompt still goes to the engine, which finishes it with its standard error message.
        return new RowInput(index, Request.ofText(requestId, prompt, params), null);
    }
}
