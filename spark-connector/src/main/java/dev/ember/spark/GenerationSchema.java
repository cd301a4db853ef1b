package dev.ember.spark;

import dev.ember.arrow.ArrowResults;
import dev.ember.engine.Result;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
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

    private GenerationSchema() {
    }

    /** One result as a row of {@link #STRUCT}. */
    public static InternalRow toRow(Result r) {
        return new GenericInternalRow(new Object[]{
                r.text() == null ? null : UTF8String.fromString(r.text()),
                UnsafeArrayData.fromPrimitiveArray(r.tokenIds()),
                UTF8String.fromString(r.finishReason().wireName()),
                r.promptTokens(),
                r.completionTokens(),
                r.error() == null ? null : UTF8String.fromString(r.error()),
        });
    }
}
