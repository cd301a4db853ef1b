package dev.ember.sampling;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ConfigException;
import dev.ember.StrictJson;
import dev.ember.guided.Constraint;
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
            Check.atLeast(0).described("an integer in [0, max_tokens]"), "EOS and stop ids suppressed, stop strings not matched, until this many tokens");
    // sampling divides float32 logits by (float) temperature: beyond Float.MAX_VALUE it is infinite, and a masked
    // (-inf) logit divided by it is NaN
    public static final Option<Double> TEMPERATURE = Option.number("temperature", S, 1.0,
            Check.range(0, Float.MAX_VALUE).described("a number in [0, 3.4e38] (0 = greedy)"),
            "0 (or below 1e-5) = greedy; otherwise logits are divided by it");
    public static final Option<Double> TOP_P = Option.number("top_p", S, 1.0, Check.rangeOpenLow(0, 1),
            "nucleus mass; 1 disables");
    public static final Option<Integer> TOP_K = Option.integer("top_k", S, 0,
            Check.atLeast(-1).described("-1 or 0 (disabled) or a positive integer"), "keep the k most likely tokens");
    public static final Option<Double> MIN_P = Option.number("min_p", S, 0.0, Check.range(0, 1),
            "drop tokens below min_p times the top probability; 0 disables");
    public static final Option<Double> REPETITION_PENALTY = Option.number("repetition_penalty", S, 1.0,
            Check.range(Float.MIN_VALUE, Float.MAX_VALUE).described("a number in (1.4e-45, 3.4e38] (1 = off)"),
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
    // per row in Spark too: the connector's result carries per-token logprobs, a confidence and (guided_choice) each
    // choice's probability when > 0
    public static final Option<Integer> LOGPROBS = Option.integer("logprobs", S, 0,
            Check.between(0, SamplingParams.MAX_LOGPROBS),
            "top log-probabilities per generated token; in Spark, > 0 adds logprobs, confidence and choice_probs to the result");
    // guided decoding: at most one of the four per request (apply refuses two)
    public static final Option<Constraint> GUIDED_CHOICE = Option.custom("guided_choice", S, Constraint.class, null,
            "a JSON array of non-empty strings, e.g. [\"positive\",\"negative\"], or comma-separated strings",
            v -> Constraint.choice(parseChoices(v)), "the output is exactly one of these strings")
            .defaultShownAs("none");
    public static final Option<Constraint> GUIDED_REGEX = Option.custom("guided_regex", S, Constraint.class, null,
            "a regular expression", Constraint::regex, "the output fully matches this regular expression")
            .defaultShownAs("none");
    public static final Option<Constraint> GUIDED_JSON = Option.custom("guided_json", S, Constraint.class, null,
            "a JSON Schema document (the supported keywords are in the connector guide)", Constraint::json,
            "the output is compact JSON valid under this JSON Schema").defaultShownAs("none");
    public static final Option<Constraint> RETURN_TYPE = Option.custom("return_type", S, Constraint.class, null,
            "a Spark DDL type: STRING, BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, ARRAY<T>, STRUCT<name: T, ...>",
            Constraint::returnType,
            "the output is this type's compact JSON; in Spark (per call) the result gains a typed 'value' field")
            .defaultShownAs("none");

    /** Every sampling option, in the order the docs list them. */
    public static final OptionSet ALL = OptionSet.of(List.of(MAX_TOKENS, MIN_TOKENS, TEMPERATURE, TOP_P, TOP_K, MIN_P,
            REPETITION_PENALTY, PRESENCE_PENALTY, FREQUENCY_PENALTY, REQUEST_SEED, STOP, STOP_TOKEN_IDS, IGNORE_EOS,
            LOGPROBS, GUIDED_CHOICE, GUIDED_REGEX, GUIDED_JSON, RETURN_TYPE));

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
        String guidedBy = null;
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
                case "guided_choice", "guided_regex", "guided_json", "return_type" -> {
                    if (v == null) {
                        continue; // a per-row map may leave a call's constraint as it is
                    }
                    if (guidedBy != null) {
                        throw ConfigException.invalid(k, v, "one of guided_choice, guided_regex, guided_json,"
                                + " return_type per request (" + guidedBy + " is set too)");
                    }
                    guidedBy = k;
                    base.guided(ALL.get(k).parse(v) instanceof Constraint c ? c : null);
                }
                default -> throw new IllegalStateException("sampling option " + k + " is declared but not read");
            }
        }
        return base.build();
    }

    /** A constraint from one of the guided options' values (for callers outside {@link #apply}). */
    public static Constraint parseGuided(String option, String v) {
        return v == null ? null : (Constraint) ALL.get(option).parse(v);
    }

    private static List<String> parseChoices(String v) {
        String allowed = GUIDED_CHOICE.allowed();
        if (v == null || !v.trim().startsWith("[")) {
            List<String> out = new ArrayList<>();
            for (String part : String.valueOf(v).split(",")) {
                out.add(part.trim());
            }
            return out;
        }
        try {
            JsonNode node = StrictJson.read(v); // text after the list is an error
            List<String> out = new ArrayList<>();
            for (JsonNode n : node) {
                if (!n.isTextual()) {
                    throw ConfigException.invalid("guided_choice", v, allowed);
                }
                out.add(n.asText());
            }
            return out;
        } catch (JsonProcessingException e) {
            throw ConfigException.invalid("guided_choice", v, allowed + " (" + e.getOriginalMessage() + ")");
        }
    }

    private static List<String> parseStop(String v) {
        if (v == null || v.isEmpty()) {
            throw ConfigException.invalid("stop", v, "a non-empty string or a JSON array of non-empty strings");
        }
        if (!v.trim().startsWith("[")) {
            return List.of(v);
        }
        try {
            JsonNode node = StrictJson.read(v); // text after the list is an error
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
