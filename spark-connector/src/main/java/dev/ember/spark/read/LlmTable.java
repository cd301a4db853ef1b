package dev.ember.spark.read;

import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.util.EnumSet;
import java.util.Set;

/** The generated view of one planned input: its columns plus the generation columns; batch reads only. */
final class LlmTable implements SupportsRead {
    private final LlmInput input;

    LlmTable(LlmInput input) {
        this.input = input;
    }

    @Override
    public String name() {
        return "llm(" + input.settings().input() + ")";
    }

    @Override
    public StructType schema() {
        return input.outputSchema();
    }

    @Override
    public Set<TableCapability> capabilities() {
        return EnumSet.of(TableCapability.BATCH_READ);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
        return new LlmScanBuilder(input);
    }
}
