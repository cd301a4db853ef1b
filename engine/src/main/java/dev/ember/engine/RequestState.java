package dev.ember.engine;

import dev.ember.api.FinishReason;
import dev.ember.api.Result;
import dev.ember.api.TokenLogprobs;
import dev.ember.backend.StepOutput;
import dev.ember.guided.ChoiceProbabilities;
import dev.ember.guided.Constraint;
import dev.ember.guided.TokenGuide;
import dev.ember.scheduler.Sequence;
import dev.ember.tokenizer.IncrementalDetokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The engine's side of one admitted request: its sequence, future, detokenizer, stop-string matcher and logprobs.
 * Owned by the step-loop thread.
 */
final class RequestState {
    final String requestId;
    final Sequence sequence;
    final CompletableFuture<Result> future;
    private final IncrementalDetokenizer detokenizer;
    private final StopStrings stopStrings;
    private final List<TokenLogprobs> logprobs;
    /** How many top log-probabilities the caller asked for (the sequence may compute more, see Engine#submit). */
    private final int numTopLogprobs;
    private final ChoiceProbabilities choiceProbs; // a guided_choice request with logprobs; else null
    private String finalText;
    /** Text before this index came before min_tokens: stop strings inside it do not count. */
    private int stopFrom;
    private final java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();

    RequestState(String requestId, Sequence sequence, CompletableFuture<Result> future, IncrementalDetokenizer detokenizer) {
        this(requestId, sequence, future, detokenizer, sequence.params().logprobs());
    }

    /**
     * @param numTopLogprobs the top log-probabilities per token the request asked for; the sequence's params may ask
     *                       the sampler for more (a guided_choice request's choice probabilities use them)
     */
    RequestState(String requestId, Sequence sequence, CompletableFuture<Result> future, IncrementalDetokenizer detokenizer,
                 int numTopLogprobs) {
        this.requestId = requestId;
        this.sequence = sequence;
        this.future = future;
        this.detokenizer = detokenizer;
        this.stopStrings = new StopStrings(sequence.params().stop());
        this.numTopLogprobs = numTopLogprobs;
        this.logprobs = numTopLogprobs > 0 ? new ArrayList<>() : null;
        TokenGuide guide = sequence.guide();
        this.choiceProbs = numTopLogprobs > 0 && guide != null && guide.index().constraint().kind() == Constraint.Kind.CHOICE
                ? ChoiceProbabilities.of(guide.index()) : null;
    }

    /**
     * Records the step's logprobs of the token the sequence just got (already appended by the scheduler), and feeds a
     * guided_choice request's choice probabilities.
     */
    void record(int slot, StepOutput out) {
        int token = sequence.lastToken();
        if (logprobs != null && out.topTokenIds() != null && out.topTokenIds()[slot] != null) {
            int[] topIds = out.topTokenIds()[slot];
            float[] topLps = out.topLogprobs()[slot];
            if (choiceProbs != null) {
                choiceProbs.step(token, out.logprobs()[slot], topIds, topLps);
            }
            int n = Math.min(numTopLogprobs, topIds.length);
            if (n < topIds.length) { // the sampler reported more than asked, for the choice probabilities
                topIds = java.util.Arrays.copyOf(topIds, n);
                topLps = java.util.Arrays.copyOf(topLps, n);
            }
            logprobs.add(new TokenLogprobs(token, out.logprobs()[slot], topIds, topLps));
        }
    }

    /**
     * Whether the text, with the token just appended, reached a stop string (the scheduler's
     * {@link dev.ember.scheduler.Scheduler.TextStop}, asked for every token no token stop ended): if so the text is cut
     * before it. As EOS and stop ids, stop strings wait for min_tokens (vLLM's rule): they count from the
     * min_tokens-th token on, and only where they end in text that token or a later one completed. Without stop
     * strings no text is needed until the end: tokens are not decoded here (see {@link #finished}).
     *
     * @param last no token follows unless a stop string ends the sequence here: the detokenizer's held bytes go out
     */
    boolean reachedStopString(boolean last) {
        if (stopStrings.isEmpty()) {
            return false;
        }
        detokenizer.append(sequence.lastToken());
        if (last) {
            detokenizer.flush();
        }
        String text = detokenizer.text();
        if (sequence.numOutputTokens() < sequence.params().minTokens()) {
            stopFrom = text.length();
            return false;
        }
        int cut = stopStrings.firstMatch(text, stopFrom);
        if (cut >= 0) {
            finalText = text.substring(0, cut);
            return true;
        }
        return false;
    }

    /**
     * True exactly once: for whoever ends this request first (the step loop, or the stall watchdog on another
     * thread), so its in-flight permit is released once and its future completed once.
     */
    boolean settle() {
        return settled.compareAndSet(false, true);
    }

    /**
     * Snapshots the finished sequence on the step-loop thread; the returned supplier builds the result (the text's
     * decode, for requests without stop strings) and may run on any one thread afterwards.
     */
    java.util.function.Supplier<Result> finished() {
        int[] output = sequence.outputTokens();
        FinishReason reason = sequence.finishReason(); // STOP when a stop string cut finalText (Scheduler decides)
        int numOutput = sequence.numOutputTokens();
        String cutText = finalText;
        boolean deferred = stopStrings.isEmpty();
        // a stop token ends the output but is never part of the text
        boolean dropLast = deferred && reason == FinishReason.STOP && output.length > 0;
        List<TokenLogprobs> lps = logprobs == null ? List.of() : List.copyOf(logprobs);
        String error = constraintError(reason); // the guide's state is the step loop's
        java.util.Map<String, Double> probs = choiceProbs == null ? java.util.Map.of() : choiceProbs.probabilities();
        return () -> {
            String text;
            if (cutText != null) {
                text = cutText;
            } else if (deferred) {
                text = detokenizer.appendAll(dropLast ? java.util.Arrays.copyOf(output, output.length - 1) : output);
            } else {
                text = detokenizer.text() + detokenizer.flush();
            }
            return new Result(requestId, text, output, reason, sequence.numPromptTokens(), numOutput, error, lps, probs);
        };
    }

    Result result() {
        return finished().get();
    }

    /**
     * Why a guided output is not valid, or null: generation can stop before the constraint is complete (max_tokens,
     * the model's context, a stop string); such a row is never reported as valid.
     */
    private String constraintError(FinishReason reason) {
        TokenGuide guide = sequence.guide();
        if (guide == null) {
            return null;
        }
        boolean complete = finalText != null ? guide.index().matches(finalText) : guide.complete();
        if (complete) {
            return null;
        }
        String what = guide.index().constraint().describe();
        if (reason == FinishReason.LENGTH) {
            return "generation reached its length limit (max_tokens=" + sequence.params().maxTokens()
                    + " or the model's context) before the output satisfied " + what + "; raise max_tokens";
        }
        if (finalText != null) {
            return "a stop string cut the output before it satisfied " + what;
        }
        return "the output does not satisfy " + what + " (the vocabulary cannot continue it)";
    }

    Result aborted() {
        String text = stopStrings.isEmpty() ? detokenizer.appendAll(sequence.outputTokens()) : detokenizer.text();
        return new Result(requestId, text, sequence.outputTokens(), FinishReason.ABORT,
                sequence.numPromptTokens(), sequence.numOutputTokens(), null, List.of());
    }
}
