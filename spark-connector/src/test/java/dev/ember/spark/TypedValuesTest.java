package dev.ember.spark;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A generated JSON text becomes the return type's value, or an IllegalArgumentException (the row's error): never a
 * value other than the one the text denotes.
 */
class TypedValuesTest {
    private static String refused(String json, String ddl) {
        DataType t = TypedValues.sparkType(ddl);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TypedValues.fromJson(json, t),
                json + " as " + ddl + " must be refused, not read as some value");
        return e.getMessage();
    }

    @Test
    void valuesThatFitAreRead() {
        assertEquals(12, TypedValues.fromJson("12", DataTypes.IntegerType));
        assertEquals(1.5f, TypedValues.fromJson("1.5", DataTypes.FloatType));
        assertEquals(-2.5e300, TypedValues.fromJson("-2.5e300", DataTypes.DoubleType));
        InternalRow r = (InternalRow) TypedValues.fromJson("{\"a\":1,\"b\":\"x\"}", TypedValues.sparkType("STRUCT<a: INT, b: STRING>"));
        assertEquals(1, r.getInt(0));
        assertEquals("x", r.getUTF8String(1).toString());
    }

    @Test
    void aNumberBeyondFloatOrDoubleIsAnErrorNotInfinity() {
        // the return type's schema is an unbounded JSON number: the guide lets the model write any exponent
        assertTrue(refused("1e39", "FLOAT").contains("1e39") || refused("1e39", "FLOAT").contains("1.0E39"),
                refused("1e39", "FLOAT"));
        refused("-3.5e38", "FLOAT");
        String beyondDouble = refused("1e400", "DOUBLE");
        assertTrue(beyondDouble.equals("value: a number is beyond the range of double"), beyondDouble);
        refused("[1, 1e999]", "ARRAY<DOUBLE>");
    }

    @Test
    void textAfterTheValueIsAnErrorNotIgnored() {
        // "12 13" is not the JSON of an INT; reading its first token would give a value the output does not denote
        refused("12 13", "INT");
        refused("{\"a\":1} {\"a\":2}", "STRUCT<a: INT>");
        refused("\"yes\" no", "STRING");
    }

    @Test
    void aTypeEmberReadsButSparkDoesNotFailsNamingReturnType() {
        // Ember's DDL reader takes TEXT, VARCHAR and BOOL (the engine's command line does); Spark's parser does not,
        // and its ParseException is a checked exception that a catch of RuntimeException let through unnamed
        for (String ddl : new String[]{"TEXT", "VARCHAR", "BOOL", "STRUCT<ok: BOOL>"}) {
            Exception e = assertThrows(Exception.class, () -> TypedValues.sparkType(ddl), ddl);
            assertTrue(e instanceof dev.ember.ConfigException && e.getMessage().startsWith("option 'return_type' is '"
                    + ddl + "'"), ddl + ": " + e);
        }
    }
}
