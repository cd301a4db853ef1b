package dev.ember.spark.read;

import org.apache.spark.sql.connector.read.InputPartition;

/**
 * One split of the input: the input's own partition (a {@code FilePartition} of a file scan, or a V2 source's
 * partition), read in one task.
 *
 * @param index the split's position among the input's splits (for messages)
 */
record LlmPartition(int index, InputPartition split) implements InputPartition {

    @Override
    public String[] preferredLocations() {
        return split.preferredLocations();
    }
}
