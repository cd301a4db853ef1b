package dev.ember.spark.read;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;

import java.io.Serializable;
import java.util.Iterator;

/**
 * How an executor reads one split of the input as rows of the input schema: {@link FileSplits} for Spark's file
 * sources (V1 file scans), {@link V2Splits} for DataSource V2 inputs. Serializable; shipped in the reader factory.
 */
interface SplitReader extends Serializable {
    /** Opens {@code split} (the input's own partition); the caller closes the rows. */
    Rows open(InputPartition split);

    /** A split's rows. A row may be reused by the next call to {@code next()}: copy one to keep it. */
    interface Rows extends Iterator<InternalRow>, AutoCloseable {
        /** Where the row last returned comes from (a file and byte range), for messages. */
        String position();

        @Override
        void close();
    }
}
