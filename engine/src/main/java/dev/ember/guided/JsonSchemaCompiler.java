package dev.ember.guided;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ember.ConfigException;
import dev.ember.StrictJson;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a JSON Schema into an {@link Rx} that matches exactly the compact JSON texts the schema accepts, within
 * this subset:
 * <ul>
 *   <li>{@code type}: object, string, integer, number, boolean, null, array, or a list of them;</li>
 *   <li>object: {@code properties}, {@code required}; properties appear in the schema's order, each optional one
 *       may be left out; {@code additionalProperties} may only be {@code false}, which is also the default;</li>
 *   <li>string: {@code enum}, {@code const}, {@code pattern} (matched anywhere in the string unless anchored with
 *       {@code ^}/{@code $}, as JSON Schema says; characters that would need an escape are left out),
 *       {@code minLength}, {@code maxLength} (in code points);</li>
 *   <li>integer: {@code minimum}, {@code maximum}, {@code exclusiveMinimum}, {@code exclusiveMaximum};
 *       number: {@code minimum}, {@code maximum} with whole-number bounds (a bounded number has no exponent);</li>
 *   <li>array: {@code items} (required), {@code minItems}, {@code maxItems};</li>
 *   <li>{@code enum} and {@code const} of any JSON values (only those the keywords beside them also allow, as every
 *       keyword of a schema applies), {@code anyOf} (with no other constraining keyword beside it), {@code $ref}
 *       to {@code #/$defs/...} or
 *       {@code #/definitions/...} (not recursive);</li>
 *   <li>annotations that constrain nothing: title, description, examples, default, $schema, $id, $comment.</li>
 * </ul>
 * <b>Whitespace policy</b>: none. The output is compact JSON ({@code {"a":1,"b":[true,null]}}): no spaces,
 * newlines or indentation between tokens, which is also the fewest tokens. Inside strings every code point but
 * {@code "}, {@code \} and control characters may appear as itself, and the escapes
 * {@code \" \\ \/ \b \f \n \r \t} (no {@code \\u} escapes, so a string's length in the schema's sense is its
 * number of characters and escapes).
 *
 * <p>Any other keyword is a {@link ConfigException} naming it and its location: never silently ignored.
 */
final class JsonSchemaCompiler {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties",
            "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum", "items", "minItems", "maxItems", "anyOf", "$ref", "$defs", "definitions");
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "examples", "default", "$schema",
            "$id", "$comment");
    /** Every string code point except '"', '\' and the control characters. */
    static final int[] STRING_SAFE = CharRanges.complement(new int[] {0, 0x1F, '"', '"', '\\', '\\'});
    private static final Rx STRING_CHAR = Rx.alt(List.of(new Rx.CharSet(STRING_SAFE),
            Rx.concat(Rx.literal("\\"), new Rx.CharSet(CharRanges.normalize(new int[] {'"', '"', '\\', '\\', '/', '/',
                    'b', 'b', 'f', 'f', 'n', 'n', 'r', 'r', 't', 't'})))));
    private static final Rx DIGIT = new Rx.CharSet(new int[] {'0', '9'});
    private static final Rx DIGITS = new Rx.Repeat(DIGIT, 1, -1);
    private static final Rx FRACTION = Rx.optional(Rx.concat(Rx.literal("."), DIGITS));
    private static final Rx ZERO_FRACTION = Rx.optional(Rx.concat(Rx.literal("."), new Rx.Repeat(Rx.literal("0"), 1, -1)));

    private final JsonNode root;
    private final Deque<String> refsInProgress = new ArrayDeque<>();

    private JsonSchemaCompiler(JsonNode root) {
        this.root = root;
    }

    /** Parses {@code schemaJson} and compiles it; errors name the option {@code guided_json}. */
    static Rx compile(String schemaJson) {
        JsonNode root;
        try {
            // text after the schema and a key twice in one object ({"type":"string","type":"integer"}) are errors
            root = StrictJson.readUniqueKeys(schemaJson);
        } catch (JsonProcessingException e) {
            throw ConfigException.invalid("guided_json", RegexParser.quote(String.valueOf(schemaJson)),
                    "a JSON Schema document (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw ConfigException.invalid("guided_json", RegexParser.quote(String.valueOf(schemaJson)),
                    "a JSON Schema object such as {\"type\":\"object\",\"properties\":{...}}");
        }
        return new JsonSchemaCompiler(root).schema(root, "#");
    }

    /** Throws when the schema uses a keyword outside the supported subset; for planning-time checks. */
    static void check(String schemaJson) {
        compile(schemaJson);
    }

    private Rx schema(JsonNode s, String at) {
        if (s.isBoolean()) {
            throw error(at, "boolean schemas (true/false) are not supported; give an object schema");
        }
        if (!s.isObject()) {
            throw error(at, "a schema must be a JSON object, not " + s);
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYWORDS.contains(k) && !ANNOTATIONS.contains(k)) {
                throw new ConfigException("guided_json: unsupported JSON Schema keyword '" + k + "' at " + at
                        + "; Ember enforces only " + String.join(", ", new java.util.TreeSet<>(KEYWORDS))
                        + " (and the annotations " + String.join(", ", new java.util.TreeSet<>(ANNOTATIONS)) + ")");
            }
        }
        JsonNode required = s.get("required");
        if (required != null && !isListOfNames(required)) {
            // draft 3's "required": true on a property, or a bare name, would otherwise leave every property optional
            throw error(at + "/required", "required must be an array of property names, not " + required);
        }
        if (s.has("$ref")) {
            if (s.size() > 1 && hasConstraintBesides(s, "$ref")) {
                throw error(at, "$ref beside other keywords is not supported; move them into the referenced schema");
            }
            return ref(s.get("$ref").asText(), at);
        }
        if (s.has("const")) {
            return values("const", List.of(s.get("const")), s, at);
        }
        if (s.has("enum")) {
            JsonNode e = s.get("enum");
            if (!e.isArray() || e.isEmpty()) {
                throw error(at + "/enum", "enum must be a non-empty array");
            }
            List<JsonNode> values = new ArrayList<>();
            e.forEach(values::add);
            return values("enum", values, s, at);
        }
        if (s.has("anyOf")) {
            JsonNode a = s.get("anyOf");
            if (!a.isArray() || a.isEmpty()) {
                throw error(at + "/anyOf", "anyOf must be a non-empty array of schemas");
            }
            if (hasConstraintBesides(s, "anyOf")) {
                // the schema means anyOf AND those keywords; the automaton of the options alone would allow more
                throw error(at, "anyOf beside other keywords (" + constraintsBesides(s, "anyOf") + ") is not supported;"
                        + " move them into each anyOf option");
            }
            List<Rx> options = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                options.add(schema(a.get(i), at + "/anyOf/" + i));
            }
            return Rx.alt(options);
        }
        JsonNode type = s.get("type");
        if (type == null) {
            throw error(at, "a schema needs 'type' (or enum, const, anyOf, $ref): Ember cannot enforce 'any JSON value'");
        }
        if (type.isArray()) {
            List<Rx> options = new ArrayList<>();
            for (JsonNode t : type) {
                options.add(typed(t.asText(), s, at));
            }
            if (options.isEmpty()) {
                throw error(at + "/type", "type must not be an empty list");
            }
            return Rx.alt(options);
        }
        return typed(type.asText(), s, at);
    }

    /**
     * The values of a {@code const} or {@code enum} that also satisfy the keywords beside it (a schema's keywords all
     * apply: {"type":"string","enum":["a",1]} allows only "a"), each as its compact JSON.
     */
    private Rx values(String keyword, List<JsonNode> values, JsonNode s, String at) {
        Rx others = null;
        if (hasConstraintBesides(s, keyword)) {
            ObjectNode rest = ((ObjectNode) s).deepCopy();
            rest.remove(keyword);
            if (!rest.has("type") && !rest.has("enum") && !rest.has("anyOf") && !rest.has("$ref")) {
                throw error(at, "keywords beside " + keyword + " need a 'type' (or enum, anyOf, $ref) to apply to;"
                        + " give one or leave them out");
            }
            others = schema(rest, at);
        }
        ByteDfa othersDfa = others == null ? null : new ByteDfa(new ByteNfa(others, "guided_json at " + at), at);
        List<Rx> options = new ArrayList<>();
        for (JsonNode v : values) {
            String text = compact(v);
            if (othersDfa == null || othersDfa.matches(text.getBytes(StandardCharsets.UTF_8))) {
                options.add(Rx.literal(text));
            }
        }
        if (options.isEmpty()) {
            throw error(at + "/" + keyword, "no " + keyword + " value satisfies the other keywords of its schema,"
                    + " so no output is valid");
        }
        return Rx.alt(options);
    }

    private static boolean isListOfNames(JsonNode n) {
        if (!n.isArray()) {
            return false;
        }
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasConstraintBesides(JsonNode s, String keyword) {
        return !constraintsBesides(s, keyword).isEmpty();
    }

    /** The keywords of {@code s} other than {@code keyword} that constrain the value, comma-separated. */
    private static String constraintsBesides(JsonNode s, String keyword) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals(keyword) && !ANNOTATIONS.contains(k) && !k.equals("$defs") && !k.equals("definitions")) {
                out.add(k);
            }
        }
        return String.join(", ", out);
    }

    private Rx typed(String type, JsonNode s, String at) {
        return switch (type) {
            case "object" -> object(s, at);
            case "string" -> string(s, at);
            case "integer" -> integer(s, at);
            case "number" -> number(s, at);
            case "boolean" -> Rx.alt(List.of(Rx.literal("true"), Rx.literal("false")));
            case "null" -> Rx.literal("null");
            case "array" -> array(s, at);
            default -> throw error(at + "/type", "unknown type '" + type
                    + "'; allowed: object, string, integer, number, boolean, null, array");
        };
    }

    private Rx ref(String ref, String at) {
        String name;
        JsonNode defs;
        if (ref.startsWith("#/$defs/")) {
            name = ref.substring("#/$defs/".length());
            defs = root.get("$defs");
        } else if (ref.startsWith("#/definitions/")) {
            name = ref.substring("#/definitions/".length());
            defs = root.get("definitions");
        } else {
            throw error(at + "/$ref", "$ref '" + ref + "' is not supported; only '#/$defs/NAME' and '#/definitions/NAME'");
        }
        JsonNode target = defs == null ? null : defs.get(name);
        if (target == null) {
            throw error(at + "/$ref", "$ref '" + ref + "' names no schema");
        }
        if (refsInProgress.contains(ref)) {
            throw error(at + "/$ref", "$ref '" + ref + "' is recursive; a recursive schema is not a regular language"
                    + " and cannot be enforced (unroll it to a fixed depth)");
        }
        refsInProgress.push(ref);
        try {
            return schema(target, ref);
        } finally {
            refsInProgress.pop();
        }
    }

    private Rx object(JsonNode s, String at) {
        JsonNode extra = s.get("additionalProperties");
        if (extra != null && !(extra.isBoolean() && !extra.asBoolean())) {
            throw error(at + "/additionalProperties", "only additionalProperties: false is supported (the default)");
        }
        Map<String, JsonNode> props = new LinkedHashMap<>();
        JsonNode p = s.get("properties");
        if (p != null) {
            if (!p.isObject()) {
                throw error(at + "/properties", "properties must be an object");
            }
            p.fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue()));
        }
        Set<String> required = new java.util.HashSet<>();
        JsonNode r = s.get("required");
        if (r != null) {
            for (JsonNode n : r) {
                if (!props.containsKey(n.asText())) {
                    throw error(at + "/required", "required property '" + n.asText() + "' is not in properties");
                }
                required.add(n.asText());
            }
        }
        List<String> names = new ArrayList<>(props.keySet());
        List<Rx> members = new ArrayList<>();
        for (String name : names) {
            members.add(Rx.concat(literal(JSON.getNodeFactory().textNode(name)), Rx.literal(":"),
                    schema(props.get(name), at + "/properties/" + name)));
        }
        // after[i]: members i.. when one was written before (each prefixed by ','); first[i]: when none was
        Rx after = Rx.EMPTY;
        Rx first = Rx.EMPTY;
        for (int i = names.size() - 1; i >= 0; i--) {
            Rx member = members.get(i);
            boolean req = required.contains(names.get(i));
            Rx withComma = Rx.concat(Rx.literal(","), member);
            Rx newFirst = req ? Rx.concat(member, after)
                    : Rx.alt(List.of(Rx.concat(member, after), first));
            after = Rx.concat(req ? withComma : Rx.optional(withComma), after);
            first = newFirst;
        }
        return Rx.concat(Rx.literal("{"), first, Rx.literal("}"));
    }

    private Rx string(JsonNode s, String at) {
        int min = nonNegative(s, "minLength", at, 0);
        int max = nonNegative(s, "maxLength", at, -1);
        if (max >= 0 && max < min) {
            throw error(at, "maxLength " + max + " is below minLength " + min);
        }
        if (max > RegexParser.MAX_REPEAT || min > RegexParser.MAX_REPEAT) {
            throw error(at, "string lengths above " + RegexParser.MAX_REPEAT + " cannot be enforced");
        }
        if (s.has("pattern")) {
            if (s.has("minLength") || s.has("maxLength")) {
                throw error(at, "pattern together with minLength/maxLength is not supported; put the lengths in the pattern");
            }
            // unanchored, as JSON Schema says: "ab" allows "xaby"; write ^...$ for a whole-string match
            Rx body = onlySafe(RegexParser.parseSearch("guided_json pattern at " + at, s.get("pattern").asText(),
                    STRING_SAFE));
            return Rx.concat(Rx.literal("\""), body, Rx.literal("\""));
        }
        return Rx.concat(Rx.literal("\""), new Rx.Repeat(STRING_CHAR, min, max), Rx.literal("\""));
    }

    /** The pattern's characters limited to those a JSON string holds unescaped. */
    private static Rx onlySafe(Rx rx) {
        if (rx instanceof Rx.CharSet cs) {
            return new Rx.CharSet(CharRanges.intersect(cs.ranges(), STRING_SAFE));
        }
        if (rx instanceof Rx.Concat c) {
            return new Rx.Concat(c.parts().stream().map(JsonSchemaCompiler::onlySafe).toList());
        }
        if (rx instanceof Rx.Alt a) {
            return new Rx.Alt(a.options().stream().map(JsonSchemaCompiler::onlySafe).toList());
        }
        Rx.Repeat r = (Rx.Repeat) rx;
        return new Rx.Repeat(onlySafe(r.body()), r.min(), r.max());
    }

    private Rx integer(JsonNode s, String at) {
        Long lo = wholeBound(s, "minimum", at);
        Long hi = wholeBound(s, "maximum", at);
        Long exLo = wholeBound(s, "exclusiveMinimum", at);
        Long exHi = wholeBound(s, "exclusiveMaximum", at);
        if (exLo != null) {
            lo = lo == null ? exLo + 1 : Math.max(lo, exLo + 1);
        }
        if (exHi != null) {
            hi = hi == null ? exHi - 1 : Math.min(hi, exHi - 1);
        }
        if (lo != null && hi != null && lo > hi) {
            throw error(at, "no integer lies in [" + lo + ", " + hi + "]");
        }
        List<Rx> options = new ArrayList<>();
        if (hi == null || hi >= 0) {
            options.addAll(NumberRanges.naturals(lo == null ? 0 : Math.max(lo, 0), hi));
        }
        if (lo == null || lo < 0) {
            // -n for n in [max(1, -hi), -lo]
            long nLo = hi == null ? 1 : Math.max(1, -hi);
            Long nHi = lo == null ? null : -lo;
            for (Rx n : NumberRanges.naturals(nLo, nHi)) {
                options.add(Rx.concat(Rx.literal("-"), n));
            }
        }
        return Rx.alt(options);
    }

    private Rx number(JsonNode s, String at) {
        if (s.has("exclusiveMinimum") || s.has("exclusiveMaximum")) {
            throw error(at, "exclusiveMinimum/exclusiveMaximum are supported for integers only");
        }
        Long lo = wholeBound(s, "minimum", at);
        Long hi = wholeBound(s, "maximum", at);
        if (lo == null && hi == null) {
            Rx exponent = Rx.optional(Rx.concat(new Rx.CharSet(new int[] {'E', 'E', 'e', 'e'}),
                    Rx.optional(new Rx.CharSet(new int[] {'+', '+', '-', '-'})), DIGITS));
            return Rx.concat(Rx.optional(Rx.literal("-")), Rx.alt(NumberRanges.naturals(0, null)), FRACTION, exponent);
        }
        if (lo != null && hi != null && lo > hi) {
            throw error(at, "no number lies in [" + lo + ", " + hi + "]");
        }
        List<Rx> options = new ArrayList<>();
        if (hi == null || hi >= 0) {
            options.addAll(unsignedUpTo(lo == null ? 0 : Math.max(lo, 0), hi));
        }
        if (lo == null || lo < 0) {
            // x = -y, y in [max(0, -hi), -lo]
            for (Rx y : unsignedUpTo(hi == null ? 0 : Math.max(0, -hi), lo == null ? null : -lo)) {
                options.add(Rx.concat(Rx.literal("-"), y));
            }
        }
        return Rx.alt(options);
    }

    /** Decimals y = n.f with whole-number bounds lo <= y <= hi: n in [lo, hi - 1] with any fraction, or n = hi. */
    private static List<Rx> unsignedUpTo(long lo, Long hi) {
        List<Rx> out = new ArrayList<>();
        if (hi == null) {
            for (Rx n : NumberRanges.naturals(lo, null)) {
                out.add(Rx.concat(n, FRACTION));
            }
            return out;
        }
        if (hi - 1 >= lo) {
            for (Rx n : NumberRanges.naturals(lo, hi - 1)) {
                out.add(Rx.concat(n, FRACTION));
            }
        }
        out.add(Rx.concat(Rx.literal(Long.toString(hi)), ZERO_FRACTION));
        return out;
    }

    private Rx array(JsonNode s, String at) {
        JsonNode items = s.get("items");
        if (items == null) {
            throw error(at, "an array schema needs 'items': Ember cannot enforce arrays of any JSON value");
        }
        if (items.isArray()) {
            throw error(at + "/items", "tuple items (an array of schemas) are not supported; give one schema");
        }
        int min = nonNegative(s, "minItems", at, 0);
        int max = nonNegative(s, "maxItems", at, -1);
        if (max >= 0 && max < min) {
            throw error(at, "maxItems " + max + " is below minItems " + min);
        }
        if (max > RegexParser.MAX_REPEAT || min > RegexParser.MAX_REPEAT) {
            throw error(at, "array sizes above " + RegexParser.MAX_REPEAT + " cannot be enforced");
        }
        if (max == 0) {
            return Rx.literal("[]");
        }
        Rx item = schema(items, at + "/items");
        Rx rest = new Rx.Repeat(Rx.concat(Rx.literal(","), item), Math.max(min - 1, 0), max < 0 ? -1 : max - 1);
        Rx body = Rx.concat(item, rest);
        return Rx.concat(Rx.literal("["), min == 0 ? Rx.optional(body) : body, Rx.literal("]"));
    }

    private static Rx literal(JsonNode value) {
        return Rx.literal(compact(value));
    }

    private static String compact(JsonNode value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON literal", e);
        }
    }

    private static int nonNegative(JsonNode s, String key, String at, int absent) {
        JsonNode n = s.get(key);
        if (n == null) {
            return absent;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0) {
            throw error(at + "/" + key, key + " must be a non-negative integer, not " + n);
        }
        return n.asInt();
    }

    private static Long wholeBound(JsonNode s, String key, String at) {
        JsonNode n = s.get(key);
        if (n == null) {
            return null;
        }
        if (!n.isNumber() || !n.canConvertToLong() || n.asDouble() != Math.rint(n.asDouble())) {
            throw error(at + "/" + key, key + " must be a whole number (fractional bounds are not supported), not " + n);
        }
        long v = n.asLong();
        if (Math.abs(v) > 1_000_000_000_000_000_000L) {
            throw error(at + "/" + key, key + " " + v + " is beyond the supported +-1e18");
        }
        return v;
    }

    private static ConfigException error(String at, String what) {
        return new ConfigException("guided_json: " + what + " (at " + at + ")");
    }
}
