package dev.ember.sampling;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ConfigException;
import dev.ember.option.Check;
import dev.ember.option.Option;
import dev.ember.option.OptionSet;
import dev.ember.option.Scope;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.ember.OptionValues.parseInt;

/**
 * The per-request sampling options ({@link Scope#REQUEST}; {@code logprobs} is {@link Scope#ENGINE_REQUEST}), each
 * described once, by the snake_case names the command line, the Spark connector and {@code conf/engine.properties}
 * use. {@link #apply} parses string values onto a {@link SamplingParams.Builder}; {@link SamplingParams}' constructor
 * checks values with the same options. To add one: a constant here, an entry in {@link #ALL}, a component of
 * {@link SamplingParams} and a {@code case} in {@link #apply}. Stateless and thread-safe.
 */
public final class SamplingOptions {
    private static final Scope S = Scope.REQUEST;

    public static final Option<Integer> MAX_TOKENS = Option.integer("max_tokens", S, 16, Check.atLeast(1),
            "most tokens to generate");
    public static final Option<Integer> MIN_TOKENS = Option.integer("min_tokens", S, 0,
            Check.atLeast(0).described("an integer in [0, max_tokens]"), "EOS and stop ids suppressed until this many tokens");
    public static final Option<Double> TEMPERATURE = Option.number("temperature", S, 1.0,
            Check.nonNegative().described("a finite number >= 0 (0 = greedy)"),
            "0 = greedy; otherwise logits are divided by it");
    public static final Option<Double> TOP_P = Option.number("top_p", S, 1.0, Check.rangeOpenLow(0, 1),
            "nucleus mass; 1 disables");
    public static final Option<Integer> TOP_K = Option.integer("top_k", S, 0,
            Check.atLeast(-1).described("-1 or 0 (disabled) or a positive integer"), "keep the k most likely tokens");
    public static final Option<Double> MIN_P = Option.number("min_p", S, 0.0, Check.range(0, 1),
            "drop tokens below min_p times the top probability; 0 disables");
    public static final Option<Double> REPETITION_PENALTY = Option.number("repetition_penalty", S, 1.0,
            Check.positive().described("a finite number > 0 (1 = off)"),
            "HF-style penalty on tokens of prompt and output; 1 disables");
    public static final Option<Double> PRESENCE_PENALTY = Option.number("presence_penalty", S, 0.0, Check.range(-2, 2),
            "subtracted once from the logits of tokens in the output");
    public static final Option<Double> FREQUENCY_PENALTY = Option.number("frequency_penalty", S, 0.0,
            Check.range(-2, 2), "subtracted per occurrence in the output");
    public static final Option<Long> REQUEST_SEED = Option.longInt("request_seed", S, null,
            "this request's sampling seed").defaultShownAs("derived from the job seed and the prompt");
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final Option<List<String>> STOP = Option.custom("stop", S, (Class<List<String>>) (Class) List.class,
            null, "a non-empty string or a JSON array of non-empty strings", SamplingOptions::parseStop,
            "stop string(s); the match is cut from the text");
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final Option<Set<Integer>> STOP_TOKEN_IDS = Option.custom("stop_token_ids", S,
            (Class<Set<Integer>>) (Class) Set.class, null, "comma-separated token ids >= 0",
            SamplingOptions::parseIds, "token ids that end generation");
    public static final Option<Boolean> IGNORE_EOS = Option.bool("ignore_eos", S, false, "keep generating past EOS");
    public static final Option<Integer> LOGPROBS = Option.integer("logprobs", Scope.ENGINE_REQUEST, 0,
            Check.between(0, SamplingParams.MAX_LOGPROBS), "top log-probabilities per generated token");

    /** Every sampling option, in the order the docs list them. */
    public static final OptionSet ALL = OptionSet.of(List.of(MAX_TOKENS, MIN_TOKENS, TEMPERATURE, TOP_P, TOP_K, MIN_P,
            REPETITION_PENALTY, PRESENCE_PENALTY, FREQUENCY_PENALTY, REQUEST_SEED, STOP, STOP_TOKEN_IDS, IGNORE_EOS,
            LOGPROBS));

    private static final ObjectMapper JSON = new ObjectMapper();

    private SamplingOptions() {
    }

    /** Whether {@code name} (canonical spelling) is a sampling option. */
    public static boolean isOption(String name) {
        return ALL.contains(name);
    }

    /**
     * Applies the sampling options of {@code options} (canonical names) onto {@code base} and builds; other keys are
     * ignored, so callers check unknown names themselves (they know which other names they accept).
     */
    public static SamplingParams apply(Map<String, String> options, SamplingParams.Builder base) {
        for (Map.Entry<String, String> e : options.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            if (!ALL.contains(k)) {
                continue;
            }
            switch (k) {
                case "max_tokens" -> base.maxTokens(MAX_TOKENS.parse(v));
                case "min_tokens" -> base.minTokens(MIN_TOKENS.parse(v));
                case "temperature" -> base.temperature(TEMPERATURE.parse(v));
                case "top_p" -> base.topP(TOP_P.parse(v));
                case "top_k" -> base.topK(TOP_K.parse(v));
                case "min_p" -> base.minP(MIN_P.parse(v));
                case "repetition_penalty" -> base.repetitionPenalty(REPETITION_PENALTY.parse(v));
                case "presence_penalty" -> base.presencePenalty(PRESENCE_PENALTY.parse(v));
                case "frequency_penalty" -> base.frequencyPenalty(FREQUENCY_PENALTY.parse(v));
                case "request_seed" -> base.seed(REQUEST_SEED.parse(v));
                case "stop" -> base.stop(STOP.parse(v));
                case "stop_token_ids" -> base.stopTokenIds(STOP_TOKEN_IDS.parse(v));
                case "ignore_eos" -> base.ignoreEos(IGNORE_EOS.parse(v));
                case "logprobs" -> base.logprobs(LOGPROBS.parse(v));
                default -> throw new IllegalStateException("sampling option " + k + " is declared but not read");
            }
        }
        return base.build();
    }

    private static List<String> parseStop(String v) {
        if (v == null || v.isEmpty()) {
            throw ConfigException.invalid("stop", v, "a non-empty string or a JSON array of non-empty strings");
        }
        if (!v.trim().startsWith("[")) {
            return List.of(v);
        }
        try {
            JsonNode node = JSON.readTree(v);
            List<String> out = new ArrayList<>();
            for (JsonNode n : node) {
                if (!n.isTextual() || n.asText().isEmpty()) {
                    throw ConfigException.invalid("stop", v, "a JSON array of non-empty strings");
                }
                out.add(n.asText());
            }
            return out;
        } catch (JsonProcessingException e) {
            throw ConfigException.invalid("stop", v, "a JSON array of strings (" + e.getOriginalMessage() + ")");
        }
    }

    private static Set<Integer> parseIds(String v) {
        String option = "stop_token_ids";
        Set<Integer> ids = new LinkedHashSet<>();
        if (v == null || v.isBlank()) {
            return ids;
        }
        for (String part : v.split(",")) {
            int id = parseInt(option, part);
            if (id < 0) {
                throw ConfigException.invalid(option, v, "comma-separated token ids >= 0");
            }
            ids.add(id);
        }
        return ids;
    }
}
