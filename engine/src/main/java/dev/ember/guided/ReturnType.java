package dev.ember.guided;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ember.ConfigException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A Spark DDL type ({@code STRING}, {@code INT}, {@code ARRAY<STRING>}, {@code STRUCT<label: STRING, score: INT>})
 * parsed into a small type tree, and the JSON Schema whose compact JSON texts encode exactly its values: integers
 * within the type's range, every struct field required and in order, no nulls. The engine uses it for the
 * command line's {@code --return-type}; the Spark connector for the {@code return_type} option (and parses the
 * JSON back into the typed value). Supported: STRING, BOOLEAN, TINYINT, SMALLINT, INT/INTEGER, BIGINT/LONG,
 * FLOAT/REAL, DOUBLE, ARRAY&lt;T&gt;, STRUCT&lt;name: T, ...&gt; (field names may be back-quoted). Immutable.
 */
public sealed interface ReturnType {
    enum Primitive { STRING, BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE }

    record Scalar(Primitive kind) implements ReturnType {
    }

    record Array(ReturnType element) implements ReturnType {
    }

    record Field(String name, ReturnType type) {
    }

    record Struct(List<Field> fields) implements ReturnType {
    }

    /** Parses a DDL type; a {@link ConfigException} names the option {@code return_type} and what is allowed. */
    static ReturnType parse(String ddl) {
        if (ddl == null || ddl.isBlank()) {
            throw ConfigException.invalid("return_type", ddl, "a Spark DDL type such as STRING, INT, ARRAY<STRING>"
                    + " or STRUCT<label: STRING, score: INT>");
        }
        DdlParser p = new DdlParser(ddl);
        ReturnType t = p.type();
        p.skipSpaces();
        if (!p.done()) {
            throw p.error("unexpected text");
        }
        return t;
    }

    /** The JSON Schema (as JSON text) whose compact texts encode this type's values. */
    default String jsonSchema() {
        return schemaOf(this).toString();
    }

    private static ObjectNode schemaOf(ReturnType t) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode s = json.createObjectNode();
        if (t instanceof Scalar sc) {
            switch (sc.kind()) {
                case STRING -> s.put("type", "string");
                case BOOLEAN -> s.put("type", "boolean");
                case TINYINT -> s.put("type", "integer").put("minimum", Byte.MIN_VALUE).put("maximum", Byte.MAX_VALUE);
                case SMALLINT -> s.put("type", "integer").put("minimum", Short.MIN_VALUE).put("maximum", Short.MAX_VALUE);
                case INT -> s.put("type", "integer").put("minimum", Integer.MIN_VALUE).put("maximum", Integer.MAX_VALUE);
                // the schema compiler takes bounds up to 1e18: BIGINT keeps to that (18 digits)
                case BIGINT -> s.put("type", "integer").put("minimum", -999_999_999_999_999_999L)
                        .put("maximum", 999_999_999_999_999_999L);
                case FLOAT, DOUBLE -> s.put("type", "number");
            }
        } else if (t instanceof Array a) {
            s.put("type", "array");
            s.set("items", schemaOf(a.element()));
        } else {
            Struct st = (Struct) t;
            s.put("type", "object");
            ObjectNode props = s.putObject("properties");
            var required = s.putArray("required");
            for (Field f : st.fields()) {
                props.set(f.name(), schemaOf(f.type()));
                required.add(f.name());
            }
        }
        return s;
    }

    /** Recursive-descent parser of the DDL subset. */
    final class DdlParser {
        private final String text;
        private int pos;

        DdlParser(String text) {
            this.text = text;
        }

        boolean done() {
            return pos >= text.length();
        }

        void skipSpaces() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        ReturnType type() {
            skipSpaces();
            String word = word().toUpperCase(Locale.ROOT);
            return switch (word) {
                case "STRING", "VARCHAR", "TEXT" -> new Scalar(Primitive.STRING);
                case "BOOLEAN", "BOOL" -> new Scalar(Primitive.BOOLEAN);
                case "TINYINT", "BYTE" -> new Scalar(Primitive.TINYINT);
                case "SMALLINT", "SHORT" -> new Scalar(Primitive.SMALLINT);
                case "INT", "INTEGER" -> new Scalar(Primitive.INT);
                case "BIGINT", "LONG" -> new Scalar(Primitive.BIGINT);
                case "FLOAT", "REAL" -> new Scalar(Primitive.FLOAT);
                case "DOUBLE" -> new Scalar(Primitive.DOUBLE);
                case "ARRAY" -> {
                    expect('<');
                    ReturnType e = type();
                    expect('>');
                    yield new Array(e);
                }
                case "STRUCT" -> {
                    expect('<');
                    List<Field> fields = new ArrayList<>();
                    skipSpaces();
                    while (true) {
                        skipSpaces();
                        String name = fieldName();
                        skipSpaces();
                        expect(':');
                        ReturnType ft = type();
                        for (Field f : fields) {
                            if (f.name().equals(name)) {
                                throw error("field '" + name + "' appears twice");
                            }
                        }
                        fields.add(new Field(name, ft));
                        skipSpaces();
                        if (pos < text.length() && text.charAt(pos) == ',') {
                            pos++;
                            continue;
                        }
                        break;
                    }
                    expect('>');
                    yield new Struct(fields);
                }
                case "" -> throw error("a type is missing");
                default -> throw error("type '" + word + "' is not supported");
            };
        }

        private String word() {
            int start = pos;
            while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
                pos++;
            }
            return text.substring(start, pos);
        }

        private String fieldName() {
            if (pos < text.length() && text.charAt(pos) == '`') {
                int end = text.indexOf('`', pos + 1);
                if (end < 0) {
                    throw error("unclosed back-quote");
                }
                String name = text.substring(pos + 1, end);
                pos = end + 1;
                return name;
            }
            String name = word();
            if (name.isEmpty()) {
                throw error("a field name is missing");
            }
            return name;
        }

        private void expect(char c) {
            skipSpaces();
            if (pos >= text.length() || text.charAt(pos) != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        ConfigException error(String what) {
            return ConfigException.invalid("return_type", text, "a Spark DDL type of STRING, BOOLEAN, TINYINT, SMALLINT,"
                    + " INT, BIGINT, FLOAT, DOUBLE, ARRAY<T>, STRUCT<name: T, ...> (" + what + " at character " + pos + ")");
        }
    }
}
