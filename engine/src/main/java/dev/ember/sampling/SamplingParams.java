package dev.ember.sampling;

import dev.ember.ConfigException;
import dev.ember.guided.Constraint;

import java.io.Serializable;
import java.util.List;
import java.util.Set;

import static dev.ember.sampling.SamplingOptions.FREQUENCY_PENALTY;
import static dev.ember.sampling.SamplingOptions.IGNORE_EOS;
import static dev.ember.sampling.SamplingOptions.LOGPROBS;
import static dev.ember.sampling.SamplingOptions.MAX_TOKENS;
import static dev.ember.sampling.SamplingOptions.MIN_P;
import static dev.ember.sampling.SamplingOptions.MIN_TOKENS;
import static dev.ember.sampling.SamplingOptions.PRESENCE_PENALTY;
import static dev.ember.sampling.SamplingOptions.REPETITION_PENALTY;
import static dev.ember.sampling.SamplingOptions.TEMPERATURE;
import static dev.ember.sampling.SamplingOptions.TOP_K;
import static dev.ember.sampling.SamplingOptions.TOP_P;

/**
 * Per-request sampling settings, immutable and validated here with the checks of {@link SamplingOptions}; a bad
 * value fails with the option's name. Serializable (the Spark connector ships a call's defaults to executors).
 *
 * @param maxTokens      most tokens to generate (>= 1)
 * @param minTokens      EOS and stop ids are suppressed, and stop strings not matched, until this many tokens exist
 *                       (0..maxTokens)
 * @param temperature    0 (or below {@link #GREEDY_BELOW}) means greedy (argmax); otherwise logits are divided by it
 * @param topP           nucleus mass in (0, 1]; 1 disables
 * @param topK           keep the k most likely tokens; 0 (or -1) disables
 * @param minP           drop tokens whose probability is below minP times the top one; 0 disables
 * @param repetitionPenalty   HF-style: logits of tokens seen in prompt or output are divided (if > 0) or multiplied by it; 1 disables
 * @param presencePenalty     subtracted once from logits of tokens present in the output
 * @param frequencyPenalty    subtracted per occurrence in the output
 * @param seed           the request's sampling seed, or null to derive one from the job seed and the prompt
 * @param stop           stop strings, matched on the generated text; the match is excluded from the output
 * @param stopTokenIds   extra token ids that end generation (kept in token_ids, not in text)
 * @param ignoreEos      keep generating past EOS ids (benchmarks)
 * @param logprobs       number of top log-probabilities to return per generated token; 0 = none
 * @param guided         what the output must be (guided_choice, guided_regex or guided_json), or null for free text
 */
public record SamplingParams(
        int maxTokens,
        int minTokens,
        double temperature,
        double topP,
        int topK,
        double minP,
        double repetitionPenalty,
        double presencePenalty,
        double frequencyPenalty,
        Long seed,
        List<String> stop,
        Set<Integer> stopTokenIds,
        boolean ignoreEos,
        int logprobs,
        Constraint guided) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Temperatures below this sample greedily (vLLM's threshold, _SAMPLING_EPS). */
    public static final double GREEDY_BELOW = 1e-5;

    /** The most top log-probabilities a request may ask for. */
    public static final int MAX_LOGPROBS = 20;

    public SamplingParams {
        MAX_TOKENS.check(maxTokens);
        if (minTokens < 0 || minTokens > maxTokens) {
            throw ConfigException.invalid("min_tokens", minTokens, "an integer in [0, max_tokens=" + maxTokens + "]");
        }
        TEMPERATURE.check(temperature);
        TOP_P.check(topP);
        TOP_K.check(topK);
        MIN_P.check(minP);
        REPETITION_PENALTY.check(repetitionPenalty);
        PRESENCE_PENALTY.check(presencePenalty);
        FREQUENCY_PENALTY.check(frequencyPenalty);
        LOGPROBS.check(logprobs);
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw ConfigException.invalid("stop", "\"\"", "non-empty strings");
            }
        }
        stopTokenIds = stopTokenIds == null ? Set.of() : Set.copyOf(stopTokenIds);
        for (int id : stopTokenIds) {
            if (id < 0) {
                throw ConfigException.invalid("stop_token_ids", id, "non-negative token ids");
            }
        }
    }

    /**
     * True for temperature 0 and for any temperature below {@link #GREEDY_BELOW}: dividing logits by such a number
     * (1e-40 is 0 as a float) overflows to infinities or divides by zero, and its limit is the argmax anyway.
     */
    public boolean greedy() {
        return temperature < GREEDY_BELOW;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxTokens = maxTokens;
        b.minTokens = minTokens;
        b.temperature = temperature;
        b.topP = topP;
        b.topK = topK;
        b.minP = minP;
        b.repetitionPenalty = repetitionPenalty;
        b.presencePenalty = presencePenalty;
        b.frequencyPenalty = frequencyPenalty;
        b.seed = seed;
        b.stop = stop;
        b.stopTokenIds = stopTokenIds;
        b.ignoreEos = ignoreEos;
        b.logprobs = logprobs;
        b.guided = guided;
        return b;
    }

    /** Defaults: 16 tokens, temperature 1, no filtering, no penalties, derived seed. */
    public static final class Builder {
        private int maxTokens = MAX_TOKENS.defaultValue();
        private int minTokens = MIN_TOKENS.defaultValue();
        private double temperature = TEMPERATURE.defaultValue();
        private double topP = TOP_P.defaultValue();
        private int topK = TOP_K.defaultValue();
        private double minP = MIN_P.defaultValue();
        private double repetitionPenalty = REPETITION_PENALTY.defaultValue();
        private double presencePenalty = PRESENCE_PENALTY.defaultValue();
        private double frequencyPenalty = FREQUENCY_PENALTY.defaultValue();
        private Long seed;
        private List<String> stop = List.of();
        private Set<Integer> stopTokenIds = Set.of();
        private boolean ignoreEos = IGNORE_EOS.defaultValue();
        private int logprobs = LOGPROBS.defaultValue();
        private Constraint guided;

        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder minTokens(int v) { minTokens = v; return this; }
        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder minP(double v) { minP = v; return this; }
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder stop(List<String> v) { stop = v; return this; }
        public Builder stopTokenIds(Set<Integer> v) { stopTokenIds = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder logprobs(int v) { logprobs = v; return this; }
        /** Sets the output constraint; null clears it. */
        public Builder guided(Constraint v) { guided = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(maxTokens, minTokens, temperature, topP, topK, minP, repetitionPenalty,
                    presencePenalty, frequencyPenalty, seed, stop, stopTokenIds, ignoreEos, logprobs, guided);
        }
    }
}
