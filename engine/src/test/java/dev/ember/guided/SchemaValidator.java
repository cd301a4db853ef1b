package dev.ember.guided;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.math.BigDecimal;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A JSON Schema checker for tests, written from the JSON Schema semantics and independent of the automaton that
 * constrains generation: it parses the text with Jackson and walks the schema. Covers the subset Ember enforces.
 */
final class SchemaValidator {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private SchemaValidator() {
    }

    /** Null when {@code text} is valid JSON under {@code schema}; otherwise why not. */
    static String validate(JsonNode schema, String text) {
        JsonNode value;
        try {
            value = JSON.readTree(text);
        } catch (Exception e) {
            return "not JSON: " + e.getMessage();
        }
        if (value == null) {
            return "empty";
        }
        return check(schema, schema, value, "$");
    }

    private static String check(JsonNode root, JsonNode s, JsonNode v, String at) {
        if (s.has("$ref")) {
            String ref = s.get("$ref").asText();
            String[] parts = ref.substring(2).split("/");
            return check(root, root.get(parts[0]).get(parts[1]), v, at);
        }
        if (s.has("const") && !equal(s.get("const"), v)) {
            return at + ": not the const";
        }
        if (s.has("enum")) {
            boolean any = false;
            for (JsonNode e : s.get("enum")) {
                any |= equal(e, v);
            }
            if (!any) {
                return at + ": not in enum";
            }
        }
        if (s.has("anyOf")) {
            for (JsonNode option : s.get("anyOf")) {
                if (check(root, option, v, at) == null) {
                    return null;
                }
            }
            return at + ": matches no anyOf option";
        }
        JsonNode type = s.get("type");
        if (type == null) {
            return null;
        }
        if (type.isArray()) {
            for (JsonNode t : type) {
                if (checkType(root, t.asText(), s, v, at) == null) {
                    return null;
                }
            }
            return at + ": none of the types " + type;
        }
        return checkType(root, type.asText(), s, v, at);
    }

    private static String checkType(JsonNode root, String type, JsonNode s, JsonNode v, String at) {
        switch (type) {
            case "null":
                return v.isNull() ? null : at + ": not null";
            case "boolean":
                return v.isBoolean() ? null : at + ": not a boolean";
            case "string": {
                if (!v.isTextual()) {
                    return at + ": not a string";
                }
                String str = v.asText();
                int len = str.codePointCount(0, str.length());
                if (s.has("minLength") && len < s.get("minLength").asInt()) {
                    return at + ": shorter than minLength";
                }
                if (s.has("maxLength") && len > s.get("maxLength").asInt()) {
                    return at + ": longer than maxLength";
                }
                if (s.has("pattern") && !Pattern.compile(s.get("pattern").asText()).matcher(str).find()) {
                    return at + ": does not match pattern";
                }
                return null;
            }
            case "integer":
            case "number": {
                if (!v.isNumber() || (type.equals("integer") && !isWhole(v))) {
                    return at + ": not a " + type;
                }
                BigDecimal x = v.decimalValue();
                if (s.has("minimum") && x.compareTo(s.get("minimum").decimalValue()) < 0) {
                    return at + ": below minimum";
                }
                if (s.has("maximum") && x.compareTo(s.get("maximum").decimalValue()) > 0) {
                    return at + ": above maximum";
                }
                if (s.has("exclusiveMinimum") && x.compareTo(s.get("exclusiveMinimum").decimalValue()) <= 0) {
                    return at + ": not above exclusiveMinimum";
                }
                if (s.has("exclusiveMaximum") && x.compareTo(s.get("exclusiveMaximum").decimalValue()) >= 0) {
                    return at + ": not below exclusiveMaximum";
                }
                return null;
            }
            case "array": {
                if (!v.isArray()) {
                    return at + ": not an array";
                }
                if (s.has("minItems") && v.size() < s.get("minItems").asInt()) {
                    return at + ": fewer than minItems";
                }
                if (s.has("maxItems") && v.size() > s.get("maxItems").asInt()) {
                    return at + ": more than maxItems";
                }
                for (int i = 0; i < v.size(); i++) {
                    String e = check(root, s.get("items"), v.get(i), at + "[" + i + "]");
                    if (e != null) {
                        return e;
                    }
                }
                return null;
            }
            case "object": {
                if (!v.isObject()) {
                    return at + ": not an object";
                }
                JsonNode props = s.path("properties");
                Set<String> seen = new HashSet<>();
                for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
                    String name = it.next();
                    seen.add(name);
                    if (!props.has(name)) {
                        return at + ": additional property " + name;
                    }
                    String e = check(root, props.get(name), v.get(name), at + "." + name);
                    if (e != null) {
                        return e;
                    }
                }
                for (JsonNode r : s.path("required")) {
                    if (!seen.contains(r.asText())) {
                        return at + ": missing required " + r.asText();
                    }
                }
                return null;
            }
            default:
                return at + ": unknown type " + type;
        }
    }

    private static boolean isWhole(JsonNode v) {
        return v.isIntegralNumber() || v.decimalValue().stripTrailingZeros().scale() <= 0;
    }

    private static boolean equal(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }
}
