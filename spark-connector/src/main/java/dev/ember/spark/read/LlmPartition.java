package dev.ember.spark.read;

import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.execution.datasources.FilePartition;

/** One split of the input: the (parts of) files Spark's own file scan would read in one task. */
record LlmPartition(FilePartition files) implements InputPartition {

    int index() {
        return files.index();
    }

    @Override
    public String[] preferredLocations() {
        return files.preferredLocations();
    }
}
