package dev.ember.spark.read;

import dev.ember.spark.EmberSettings;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Shipped to the executors: the settings, how to read a split as rows of {@code inputSchema}, the output schema
 * (input columns, then the generation struct), the prompt column's ordinal and the session's Hadoop conf (for models
 * behind a Hadoop URI). Creates columnar readers only.
 */
final class LlmReaderFactory implements PartitionReaderFactory {
    private static final long serialVersionUID = 1L;

    final EmberSettings settings;
    final SplitReader splits;
    final StructType inputSchema;
    final StructType outputSchema;
    final int promptOrdinal;
    final Broadcast<SerializableConfiguration> hadoopConf;

    LlmReaderFactory(EmberSettings settings, SplitReader splits, StructType inputSchema, StructType outputSchema,
                     int promptOrdinal, Broadcast<SerializableConfiguration> hadoopConf) {
        this.settings = settings;
        this.splits = splits;
        this.inputSchema = inputSchema;
        this.outputSchema = outputSchema;
        this.promptOrdinal = promptOrdinal;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public boolean supportColumnarReads(InputPartition partition) {
        return true;
    }

    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
        throw new UnsupportedOperationException("format(\"llm\") reads columnar batches only");
    }

    @Override
    public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
        return new LlmReader(this, (LlmPartition) partition);
    }
}
