package dev.ember.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ConfigException;
import dev.ember.StrictJson;
import dev.ember.guided.ReturnType;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The {@code return_type} option on the Spark side: the Spark type of the result's {@code value} field (parsed by
 * Spark's own DDL parser, after Ember's {@link ReturnType} accepted it), and the generated JSON text turned into
 * that type's Catalyst value. Stateless; thread-safe.
 */
public final class TypedValues {
    private TypedValues() {
    }

    /** The Spark type of {@code ddl}; a {@link ConfigException} naming return_type when Ember cannot enforce it. */
    public static DataType sparkType(String ddl) {
        ReturnType.parse(ddl);
        try {
            return DataType.fromDDL(ddl);
        } catch (Exception e) { // Spark's ParseException is a checked exception (thrown from Scala, undeclared)
            String first = String.valueOf(e.getMessage()).strip().lines().findFirst().orElse("");
            throw ConfigException.invalid("return_type", ddl, "a Spark DDL type; Spark's parser refused it (" + first
                    + "): in Spark write STRING, not TEXT or VARCHAR, and BOOLEAN, not BOOL");
        }
    }

    /** The Catalyst value of {@code json} as {@code type}; throws IllegalArgumentException saying what does not fit. */
    public static Object fromJson(String json, DataType type) {
        JsonNode node;
        try {
            node = StrictJson.read(json); // "12 13" is no INT 12: text after the value is an error
        } catch (Exception e) {
            throw new IllegalArgumentException("the output is not JSON: " + e.getMessage());
        }
        if (node == null) {
            throw new IllegalArgumentException("the output is empty");
        }
        return convert(node, type, "value");
    }

    private static Object convert(JsonNode n, DataType t, String at) {
        if (n.isNull()) {
            return null;
        }
        if (t instanceof StringType) {
            return require(n.isTextual(), n, t, at) ? UTF8String.fromString(n.asText()) : null;
        }
        if (t instanceof BooleanType) {
            return require(n.isBoolean(), n, t, at) ? n.asBoolean() : null;
        }
        if (t instanceof ByteType) {
            return require(n.isIntegralNumber() && n.canConvertToInt() && n.asInt() == (byte) n.asInt(), n, t, at)
                    ? (byte) n.asInt() : null;
        }
        if (t instanceof ShortType) {
            return require(n.isIntegralNumber() && n.canConvertToInt() && n.asInt() == (short) n.asInt(), n, t, at)
                    ? (short) n.asInt() : null;
        }
        if (t instanceof IntegerType) {
            return require(n.isIntegralNumber() && n.canConvertToInt(), n, t, at) ? n.asInt() : null;
        }
        if (t instanceof LongType) {
            return require(n.isIntegralNumber() && n.canConvertToLong(), n, t, at) ? n.asLong() : null;
        }
        // The return type's schema is an unbounded JSON number (any exponent), so a value beyond the type's range
        // can be generated: it is an error, not the infinity Java's conversion would make of it.
        if (t instanceof DoubleType) {
            require(n.isNumber(), n, t, at);
            return inRange(n.asDouble(), n, t, at);
        }
        if (t instanceof FloatType) {
            require(n.isNumber(), n, t, at);
            return inRange((float) n.asDouble(), n, t, at);
        }
        if (t instanceof ArrayType a) {
            require(n.isArray(), n, t, at);
            Object[] values = new Object[n.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = convert(n.get(i), a.elementType(), at + "[" + i + "]");
            }
            return new GenericArrayData(values);
        }
        if (t instanceof StructType s) {
            require(n.isObject(), n, t, at);
            StructField[] fields = s.fields();
            Object[] values = new Object[fields.length];
            for (int i = 0; i < fields.length; i++) {
                JsonNode f = n.get(fields[i].name());
                values[i] = f == null ? null : convert(f, fields[i].dataType(), at + "." + fields[i].name());
            }
            return new GenericInternalRow(values);
        }
        throw new IllegalArgumentException(at + ": type " + t.simpleString() + " is not supported");
    }

    private static <T extends Number> T inRange(T value, JsonNode n, DataType t, String at) {
        if (Double.isInfinite(value.doubleValue())) {
            // a number beyond even a double's range was parsed as Infinity, which is not what the output says
            String number = Double.isInfinite(n.asDouble()) ? "a number" : n.toString();
            throw new IllegalArgumentException(at + ": " + number + " is beyond the range of " + t.simpleString());
        }
        return value;
    }

    private static boolean require(boolean ok, JsonNode n, DataType t, String at) {
        if (!ok) {
            throw new IllegalArgumentException(at + ": " + n + " is not a " + t.simpleString());
        }
        return true;
    }
}
