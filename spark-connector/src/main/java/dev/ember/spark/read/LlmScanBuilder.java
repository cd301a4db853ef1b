package dev.ember.spark.read;

import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;

/** Builds the scan; nothing is pushed down (every input row is generated, so filter the input beforehand). */
final class LlmScanBuilder implements ScanBuilder {
    private final LlmInput input;

    LlmScanBuilder(LlmInput input) {
        this.input = input;
    }

    @Override
    public Scan build() {
        return new LlmScan(input);
    }
}
