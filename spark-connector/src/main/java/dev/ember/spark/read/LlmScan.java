package dev.ember.spark.read;

import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.StructType;

/**
 * The columnar batch scan: one {@link LlmPartition} per split of the input's file scan, read by
 * {@link LlmReader}s, reporting the {@link LlmMetrics}.
 */
final class LlmScan implements Scan, Batch {
    private final LlmInput input;

    LlmScan(LlmInput input) {
        this.input = input;
    }

    @Override
    public StructType readSchema() {
        return input.outputSchema();
    }

    @Override
    public String description() {
        return "Ember llm [model=" + input.settings().model() + ", input=" + input.settings().input()
                + " (" + input.scanName() + "), promptColumn=" + input.promptColumn() + "]";
    }

    @Override
    public Batch toBatch() {
        return this;
    }

    @Override
    public ColumnarSupportMode columnarSupportMode() {
        return ColumnarSupportMode.SUPPORTED;
    }

    @Override
    public CustomMetric[] supportedCustomMetrics() {
        return LlmMetrics.all();
    }

    @Override
    public InputPartition[] planInputPartitions() {
        return input.partitions();
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
        return input.readerFactory();
    }
}
