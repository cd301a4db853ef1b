package dev.ember.guided;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ConfigException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonSchemaCompilerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ByteDfa dfa(String schema) {
        return new ByteDfa(new ByteNfa(JsonSchemaCompiler.compile(schema), "schema"), "schema");
    }

    private static boolean accepts(ByteDfa dfa, String text) {
        return dfa.matches(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Each text: the automaton accepts it exactly when the independent validator does (for compact texts). */
    private static void agree(String schema, List<String> texts) throws Exception {
        ByteDfa dfa = dfa(schema);
        JsonNode s = JSON.readTree(schema);
        for (String t : texts) {
            boolean valid = SchemaValidator.validate(s, t) == null;
            assertEquals(valid, accepts(dfa, t), schema + " on " + t + " (validator: " + SchemaValidator.validate(s, t) + ")");
        }
    }

    @Test
    void objectsWithRequiredAndOptionalProperties() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\","
                + "\"maxLength\":3},\"c\":{\"type\":\"boolean\"}},\"required\":[\"b\"]}";
        agree(schema, List.of("{\"b\":\"x\"}", "{\"a\":1,\"b\":\"\"}", "{\"a\":-12,\"b\":\"abc\",\"c\":true}",
                "{\"b\":\"abcd\"}", "{\"a\":1}", "{}", "{\"b\":\"x\",\"c\":false}", "{\"b\":\"x\",\"d\":1}",
                "{\"a\":01,\"b\":\"x\"}", "{\"b\":\"\\n\\\"\"}", "{\"b\":\"日本語\"}"));
        // order follows the schema: b before a is outside the compact form Ember emits
        assertFalse(accepts(dfa(schema), "{\"b\":\"x\",\"a\":1}"));
        assertFalse(accepts(dfa(schema), "{\"b\": \"x\"}"), "no whitespace between tokens");
    }

    @Test
    void integerAndNumberBounds() throws Exception {
        List<String> ints = List.of("0", "1", "7", "9", "10", "17", "99", "100", "341", "342", "343", "999",
                "1000", "-1", "-5", "-6", "-17", "-100", "007");
        agree("{\"type\":\"integer\",\"minimum\":17,\"maximum\":342}", ints);
        agree("{\"type\":\"integer\",\"minimum\":-5,\"maximum\":9}", ints);
        agree("{\"type\":\"integer\",\"exclusiveMinimum\":-6,\"exclusiveMaximum\":100}", ints);
        agree("{\"type\":\"integer\",\"maximum\":-6}", ints);
        agree("{\"type\":\"integer\",\"minimum\":99}", ints);
        List<String> nums = List.of("0", "0.5", "1", "1.0", "1.00", "1.01", "2", "-0.5", "-1", "-1.0", "-1.5",
                "-2", "10", "9.99", "10.0", "10.001");
        agree("{\"type\":\"number\",\"minimum\":-1,\"maximum\":10}", nums);
        agree("{\"type\":\"number\",\"minimum\":0,\"maximum\":1}", nums);
        agree("{\"type\":\"number\",\"maximum\":-1}", nums);
        // non-canonical spellings of valid values are not emitted: Ember writes each number one way
        ByteDfa bounded = dfa("{\"type\":\"integer\",\"minimum\":-5,\"maximum\":200}");
        assertFalse(accepts(bounded, "1e2") || accepts(bounded, "5.0") || accepts(bounded, "-0"));
        ByteDfa free = dfa("{\"type\":\"number\"}");
        assertTrue(accepts(free, "-12.5e+3") && accepts(free, "0") && !accepts(free, "01") && !accepts(free, "1."));
    }

    @Test
    void boundsUpToOneE18AreSupported() throws Exception {
        // the documented limit is +-1e18 (ReturnType's BIGINT uses 18-digit bounds); 1e15 was the one enforced
        String big = "{\"type\":\"integer\",\"minimum\":-999999999999999999,\"maximum\":999999999999999999}";
        agree(big, List.of("0", "-1", "999999999999999999", "-999999999999999999", "1000000000000000000",
                "1000000000000000", "123456789012345678", "-1234567890123456789"));
        agree("{\"type\":\"integer\",\"maximum\":1000000000000000000}", List.of("1000000000000000000",
                "1000000000000000001", "-5"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> JsonSchemaCompiler.compile("{\"type\":\"integer\",\"maximum\":1000000000000000001}"));
        assertTrue(e.getMessage().contains("1e18"), e.getMessage());
    }

    @Test
    void arraysEnumsAnyOfAndRefs() throws Exception {
        agree("{\"type\":\"array\",\"items\":{\"enum\":[\"x\",1,null]},\"minItems\":1,\"maxItems\":3}",
                List.of("[]", "[\"x\"]", "[1,null]", "[1,1,1]", "[1,1,1,1]", "[2]", "[\"y\"]"));
        agree("{\"anyOf\":[{\"type\":\"string\",\"pattern\":\"^[a-c]+$\"},{\"type\":\"null\"}]}",
                List.of("null", "\"abc\"", "\"abd\"", "\"\"", "1"));
        agree("{\"$defs\":{\"p\":{\"type\":\"object\",\"properties\":{\"n\":{\"const\":\"ok\"}},\"required\":[\"n\"]}},"
                + "\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/p\"}}",
                List.of("[]", "[{\"n\":\"ok\"}]", "[{\"n\":\"no\"}]", "[{\"n\":\"ok\"},{\"n\":\"ok\"}]"));
        agree("{\"type\":[\"integer\",\"null\"],\"minimum\":3}", List.of("null", "3", "2", "\"3\""));
    }

    @Test
    void unsupportedKeywordsAreNamed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> JsonSchemaCompiler.compile("{\"type\":\"string\",\"format\":\"date\"}"));
        assertTrue(e.getMessage().contains("'format'") && e.getMessage().contains("#"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"oneOf\":[]}}}"));
        assertTrue(e.getMessage().contains("'oneOf'") && e.getMessage().contains("#/properties/a"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile(
                "{\"type\":\"object\",\"additionalProperties\":true}"));
        assertTrue(e.getMessage().contains("additionalProperties"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile(
                "{\"$defs\":{\"n\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/n\"}}},\"$ref\":\"#/$defs/n\"}"));
        assertTrue(e.getMessage().contains("recursive"), e.getMessage());
        assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile("{\"type\":\"number\",\"maximum\":1.5}"));
        assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile("{not json"));
        assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile("{\"type\":\"array\"}"));
        assertNull(null);
    }

    @Test
    void enumAndConstHonorTheKeywordsBesideThem() throws Exception {
        // every keyword of a schema applies: an enum value the type or length rules out is not valid output
        agree("{\"type\":\"string\",\"enum\":[\"a\",1,\"abcd\",null]}",
                List.of("\"a\"", "1", "\"abcd\"", "null", "\"b\""));
        agree("{\"type\":\"string\",\"minLength\":2,\"enum\":[\"a\",\"ab\",\"日本\"]}",
                List.of("\"a\"", "\"ab\"", "\"日本\""));
        agree("{\"type\":\"integer\",\"maximum\":5,\"const\":3}", List.of("3", "7"));
        agree("{\"const\":\"x\",\"enum\":[\"x\",\"y\"]}", List.of("\"x\"", "\"y\""));
        ConfigException e = assertThrows(ConfigException.class,
                () -> JsonSchemaCompiler.compile("{\"type\":\"integer\",\"maximum\":5,\"const\":7}"));
        assertTrue(e.getMessage().contains("const"), e.getMessage());
    }

    @Test
    void anyOfBesideOtherKeywordsIsRefused() throws Exception {
        // {"type":"string","maxLength":2,"anyOf":[...]} means both; enforcing only the anyOf would emit "abc" or 5
        ConfigException e = assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile(
                "{\"type\":\"string\",\"maxLength\":2,\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}"));
        assertTrue(e.getMessage().contains("anyOf") && e.getMessage().contains("maxLength"), e.getMessage());
        // annotations beside anyOf constrain nothing (Pydantic writes Optional fields so)
        agree("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}],\"default\":null,\"title\":\"N\"}",
                List.of("null", "3", "\"3\""));
    }

    @Test
    void requiredMustBeAListOfNames() {
        // draft-3 style "required": true on a property, or a bare name, would otherwise make every property optional
        for (String required : List.of("\"a\"", "true", "[1]")) {
            ConfigException e = assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile(
                    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":" + required + "}"),
                    required);
            assertTrue(e.getMessage().contains("required"), e.getMessage());
        }
        ConfigException e = assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"required\":true}}}"));
        assertTrue(e.getMessage().contains("required") && e.getMessage().contains("#/properties/a"), e.getMessage());
    }

    @Test
    void schemaTextWithTrailingContentIsRefused() {
        // a second document (or a stray brace) after the schema was dropped: only the first schema was enforced
        ConfigException e = assertThrows(ConfigException.class,
                () -> JsonSchemaCompiler.compile("{\"type\":\"string\"} {\"type\":\"integer\"}"));
        assertTrue(e.getMessage().contains("guided_json"), e.getMessage());
        assertThrows(ConfigException.class, () -> JsonSchemaCompiler.compile("{\"type\":\"string\"}}"));
    }

    @Test
    void schemaWithADuplicateKeyIsRefused() {
        // {"type":"string","type":"integer"}: a JSON parser keeps one of the two; which one the user meant is unknown
        ConfigException e = assertThrows(ConfigException.class,
                () -> JsonSchemaCompiler.compile("{\"type\":\"string\",\"type\":\"integer\"}"));
        assertTrue(e.getMessage().contains("type"), e.getMessage());
    }

    @Test
    void patternsAreUnanchoredAsJsonSchemaSays() throws Exception {
        // JSON Schema (ECMA-262 semantics): a string is valid when the pattern matches somewhere in it
        List<String> texts = List.of("\"\"", "\"ab\"", "\"xab\"", "\"abx\"", "\"xabx\"", "\"a\"", "\"ba\"");
        agree("{\"type\":\"string\",\"pattern\":\"ab\"}", texts);
        agree("{\"type\":\"string\",\"pattern\":\"^ab\"}", texts);
        agree("{\"type\":\"string\",\"pattern\":\"ab$\"}", texts);
        agree("{\"type\":\"string\",\"pattern\":\"^ab$\"}", texts);
        agree("{\"type\":\"string\",\"pattern\":\"^a$|b\"}", texts);
        agree("{\"type\":\"string\",\"pattern\":\"^(a|b)+$\"}", texts);
    }
}
