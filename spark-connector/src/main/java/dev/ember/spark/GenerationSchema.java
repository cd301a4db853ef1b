package dev.ember.spark;

import dev.ember.arrow.ArrowResults;
import dev.ember.api.FinishReason;
import dev.ember.api.Result;
import dev.ember.guided.Constraint;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayBasedMapData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The generation result as Spark sees it: a struct of text, token_ids, finish_reason, prompt_tokens,
 * completion_tokens and error, field for field the engine's Arrow schema ({@link ArrowResults#SCHEMA}).
 */
public final class GenerationSchema {
    /** struct&lt;text string, token_ids array&lt;int&gt;, finish_reason string, prompt_tokens int, completion_tokens int, error string&gt;. */
    public static final StructType STRUCT = new StructType(new StructField[]{
            DataTypes.createStructField(ArrowResults.TEXT, DataTypes.StringType, true),
            DataTypes.createStructField(ArrowResults.TOKEN_IDS, DataTypes.createArrayType(DataTypes.IntegerType, true), true),
            DataTypes.createStructField(ArrowResults.FINISH_REASON, DataTypes.StringType, true),
            DataTypes.createStructField(ArrowResults.PROMPT_TOKENS, DataTypes.IntegerType, true),
            DataTypes.createStructField(ArrowResults.COMPLETION_TOKENS, DataTypes.IntegerType, true),
            DataTypes.createStructField(ArrowResults.ERROR, DataTypes.StringType, true),
    });

    /** Name of the typed field a {@code return_type} call adds. */
    public static final String VALUE = "value";
    /** Per generated token, its log-probability: fields a call with {@code logprobs > 0} adds. */
    public static final String LOGPROBS = "logprobs";
    /** exp(sum of the tokens' logprobs): the probability of this output (for a guided call, among valid outputs). */
    public static final String CONFIDENCE = "confidence";
    /**
     * map&lt;string, double&gt;: for a {@code guided_choice} row, each choice's probability among the valid outputs
     * ({@code dev.ember.guided.ChoiceProbabilities} says exactly what is computed); null for other rows.
     */
    public static final String CHOICE_PROBS = "choice_probs";

    private GenerationSchema() {
    }

    /**
     * The result struct of a call: {@link #STRUCT}, plus a {@code value} field of the return type when the call
     * sets {@code return_type}.
     */
    public static StructType structFor(EmberSettings settings) {
        return structFor(settings.sampling());
    }

    /** {@link #structFor(EmberSettings)} from a call's sampling settings alone (all the struct depends on). */
    public static StructType structFor(dev.ember.sampling.SamplingParams sampling) {
        Constraint c = sampling.guided();
        DataType valueType = c == null || c.returnType() == null ? null : TypedValues.sparkType(c.returnType());
        StructType s = valueType == null ? STRUCT : STRUCT.add(VALUE, valueType, true);
        if (sampling.logprobs() > 0) {
            s = s.add(LOGPROBS, DataTypes.createArrayType(DataTypes.FloatType, false), true)
                    .add(CONFIDENCE, DataTypes.DoubleType, true)
                    .add(CHOICE_PROBS, DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), true);
        }
        return s;
    }

    /** Whether the call asks for log-probabilities (option logprobs > 0). */
    public static boolean withLogprobs(EmberSettings settings) {
        return settings.sampling().logprobs() > 0;
    }

    /** The Spark type of the call's {@code return_type}, or null. */
    public static DataType valueType(EmberSettings settings) {
        Constraint c = settings.sampling().guided();
        return c == null || c.returnType() == null ? null : TypedValues.sparkType(c.returnType());
    }

    /** The choices' probabilities as a Spark map, in the constraint's order; null when the row has none. */
    private static MapData choiceProbs(java.util.Map<String, Double> probs) {
        if (probs.isEmpty()) {
            return null;
        }
        UTF8String[] keys = new UTF8String[probs.size()];
        double[] values = new double[probs.size()];
        int i = 0;
        for (java.util.Map.Entry<String, Double> e : probs.entrySet()) {
            keys[i] = UTF8String.fromString(e.getKey());
            values[i++] = e.getValue();
        }
        return new ArrayBasedMapData(new GenericArrayData(keys), UnsafeArrayData.fromPrimitiveArray(values));
    }

    /** A result and its text as the call's return type (null without one, or where the result has an error). */
    public record Typed(Result result, Object value) {
    }

    /**
     * {@code r} with its value parsed once, or, when the call has a return type and {@code r}'s text does not convert
     * to it, {@code r} with that as its error (text kept, as for a guided output the engine found incomplete) and no
     * value: such a row is an error row for fail_on_error and the metrics, not only in its struct.
     */
    public static Typed typed(Result r, DataType valueType) {
        if (valueType == null || !r.ok() || r.text() == null) {
            return new Typed(r, null);
        }
        String problem;
        if (valueType instanceof NumericType && r.finishReason() == FinishReason.LENGTH) {
            // The engine finds a guided output complete when its automaton accepts, and a number accepts after every
            // digit: "32412" cut by max_tokens is a valid number, not the one the model was writing. (A string,
            // array or struct ends with its closing character, so only a top-level number can be cut this way.)
            problem = "generation reached its length limit (max_tokens or the model's context) inside the number '"
                    + r.text() + "', which could have gone on; raise max_tokens";
        } else {
            try {
                return new Typed(r, TypedValues.fromJson(r.text(), valueType));
            } catch (IllegalArgumentException e) {
                problem = e.getMessage();
            }
        }
        return new Typed(r.withError("return_type " + valueType.simpleString() + ": " + problem), null);
    }

    /**
     * One result as a row of {@link #structFor}: with {@code hasValue} (the call has a return type) the typed
     * {@code value} field follows, from {@link #typed}, which made a text that does not convert the row's error.
     */
    public static InternalRow toRow(Typed t, boolean hasValue, boolean logprobs) {
        Result r = t.result();
        String error = r.error();
        Object value = t.value();
        Object[] fields = {
                r.text() == null ? null : UTF8String.fromString(r.text()),
                UnsafeArrayData.fromPrimitiveArray(r.tokenIds()),
                UTF8String.fromString(r.finishReason().wireName()),
                r.promptTokens(),
                r.completionTokens(),
                error == null ? null : UTF8String.fromString(error),
        };
        java.util.List<Object> all = new java.util.ArrayList<>(java.util.Arrays.asList(fields));
        if (hasValue) {
            all.add(value);
        }
        if (logprobs) {
            float[] lp = new float[r.logprobs().size()];
            double sum = 0;
            for (int i = 0; i < lp.length; i++) {
                lp[i] = r.logprobs().get(i).logprob();
                sum += lp[i];
            }
            all.add(UnsafeArrayData.fromPrimitiveArray(lp));
            all.add(lp.length == 0 ? null : Math.exp(sum));
            all.add(choiceProbs(r.choiceProbs()));
        }
        return new GenericInternalRow(all.toArray());
    }
}
