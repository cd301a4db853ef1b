package dev.ember.spark.read;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.util.Map;

/**
 * {@code spark.read.format("llm")}: reads an input dataset split by split and returns its columns plus one struct
 * column ({@code output_column}, default {@code generation}) holding its prompt column's generation, the struct
 * {@code generate()} returns, generated on the executors by the shared engine. Options are checked when the DataFrame is loaded
 * (see {@link LlmInput#plan}); the scan is columnar, one input partition per split of the input.
 *
 * <p>Spark creates one provider per {@code load()}; it plans the input once for both {@link #inferSchema} and
 * {@link #getTable}.
 */
public final class LlmSource implements TableProvider, DataSourceRegister {
    /** The name for {@code format(...)}. */
    public static final String SHORT_NAME = "llm";

    private Map<String, String> plannedOptions;
    private LlmTable planned;

    @Override
    public String shortName() {
        return SHORT_NAME;
    }

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        return table(options.asCaseSensitiveMap()).schema();
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        return table(properties);
    }

    private synchronized LlmTable table(Map<String, String> options) {
        if (planned == null || !plannedOptions.equals(options)) {
            planned = new LlmTable(LlmInput.plan(SparkSession.active(), options));
            plannedOptions = Map.copyOf(options);
        }
        return planned;
    }
}
