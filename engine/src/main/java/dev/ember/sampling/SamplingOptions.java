package dev.ember.sampling;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ConfigException;
import dev.ember.guided.Constraint;
import dev.ember.guided.ReturnType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.ember.OptionValues.parseBoolean;
import static dev.ember.OptionValues.parseDouble;
import static dev.ember.OptionValues.parseInt;
import static dev.ember.OptionValues.parseLong;

/**
 * Sampling parameters by their snake_case option names, as the command line, the Spark functions and
 * {@code conf/engine.properties} spell them. {@link #OPTIONS} documents each with its default;
 * {@link #apply} parses string values onto a {@link SamplingParams.Builder}, failing with the option's
 * name, the value and what is allowed. Stateless and thread-safe.
 */
public final class SamplingOptions {
    /** Every sampling option name with its default and meaning. */
    public static final Map<String, String> OPTIONS;

    static {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("max_tokens", "most tokens to generate, >= 1 (default 16)");
        o.put("min_tokens", "EOS and stop ids suppressed until this many tokens, 0..max_tokens (default 0)");
        o.put("temperature", "0 = greedy; otherwise logits are divided by it (default 1.0)");
        o.put("top_p", "nucleus mass in (0, 1]; 1 disables (default 1.0)");
        o.put("top_k", "keep the k most likely tokens; 0 or -1 disables (default 0)");
        o.put("min_p", "drop tokens below min_p times the top probability, [0, 1]; 0 disables (default 0)");
        o.put("repetition_penalty", "HF-style penalty on tokens of prompt and output, > 0; 1 disables (default 1.0)");
        o.put("presence_penalty", "subtracted once from logits of tokens in the output (default 0)");
        o.put("frequency_penalty", "subtracted per occurrence in the output (default 0)");
        o.put("request_seed", "this request's sampling seed (default: derived from the job seed and the prompt)");
        o.put("stop", "a stop string, or a JSON array of them; the match is cut from the text (default none)");
        o.put("stop_token_ids", "comma-separated token ids that end generation (default none)");
        o.put("ignore_eos", "true | false: keep generating past EOS (default false)");
        o.put("logprobs", "top log-probabilities per generated token, 0..20 (default 0)");
        o.put("guided_choice", "the output is exactly one of these strings: a JSON array of strings, or"
                + " comma-separated (default none)");
        o.put("guided_regex", "the output fully matches this regular expression (default none)");
        o.put("guided_json", "the output is compact JSON valid under this JSON Schema (default none)");
        o.put("return_type", "a Spark DDL type (STRING, INT, ARRAY<STRING>, STRUCT<label: STRING, score: INT>, ...):"
                + " the output is its compact JSON, constrained by the derived JSON Schema (default none)");
        OPTIONS = Collections.unmodifiableMap(o);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private SamplingOptions() {
    }

    /** Whether {@code name} is a sampling option. */
    public static boolean isOption(String name) {
        return OPTIONS.containsKey(name);
    }

    /**
     * Applies the sampling options of {@code options} onto {@code base} and builds; other keys are ignored,
     * so callers check unknown names themselves (they know which other names they accept).
     */
    public static SamplingParams apply(Map<String, String> options, SamplingParams.Builder base) {
        String guidedBy = null;
        for (Map.Entry<String, String> e : options.entrySet()) {
            String k = e.getKey();
            String v = e.getValue() == null ? null : e.getValue().trim();
            if (!OPTIONS.containsKey(k)) {
                continue;
            }
            switch (k) {
                case "max_tokens" -> base.maxTokens(parseInt(k, v));
                case "min_tokens" -> base.minTokens(parseInt(k, v));
                case "temperature" -> base.temperature(parseDouble(k, v));
                case "top_p" -> base.topP(parseDouble(k, v));
                case "top_k" -> base.topK(parseInt(k, v));
                case "min_p" -> base.minP(parseDouble(k, v));
                case "repetition_penalty" -> base.repetitionPenalty(parseDouble(k, v));
                case "presence_penalty" -> base.presencePenalty(parseDouble(k, v));
                case "frequency_penalty" -> base.frequencyPenalty(parseDouble(k, v));
                case "request_seed" -> base.seed(parseLong(k, v));
                case "stop" -> base.stop(parseStop(e.getValue()));
                case "stop_token_ids" -> base.stopTokenIds(parseIds(k, v));
                case "ignore_eos" -> base.ignoreEos(parseBoolean(k, v));
                case "logprobs" -> base.logprobs(parseInt(k, v));
                case "guided_choice", "guided_regex", "guided_json", "return_type" -> {
                    if (guidedBy != null) {
                        throw ConfigException.invalid(k, v, "one of guided_choice, guided_regex, guided_json, return_type per"
                                + " request (" + guidedBy + " is set too)");
                    }
                    guidedBy = k;
                    base.guided(parseGuided(k, e.getValue()));
                }
                default -> throw new IllegalStateException("unhandled sampling option " + k);
            }
        }
        return base.build();
    }

    /** A constraint from its option; a null value clears it (a per-row map may turn a default off). */
    public static Constraint parseGuided(String option, String v) {
        if (v == null) {
            return null;
        }
        return switch (option) {
            case "guided_regex" -> Constraint.regex(v);
            case "guided_json" -> Constraint.json(v);
            case "return_type" -> Constraint.json(ReturnType.parse(v).jsonSchema());
            case "guided_choice" -> Constraint.choice(parseChoices(v));
            default -> throw new IllegalArgumentException("not a guided option: " + option);
        };
    }

    private static List<String> parseChoices(String v) {
        String allowed = "a JSON array of non-empty strings, e.g. [\"positive\",\"negative\"],"
                + " or comma-separated strings";
        if (!v.trim().startsWith("[")) {
            List<String> out = new ArrayList<>();
            for (String part : v.split(",")) {
                out.add(part.trim());
            }
            return out;
        }
        try {
            JsonNode node = JSON.readTree(v);
            if (node == null || !node.isArray()) {
                throw ConfigException.invalid("guided_choice", v, allowed);
            }
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

    private static Set<Integer> parseIds(String option, String v) {
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
