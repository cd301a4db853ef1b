package dev.ember.spark.read;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.vectorized.ColumnarBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Splits of a DataSource V2 input (e.g. a table of a V2 catalog, or file sources outside
 * {@code spark.sql.sources.useV1SourceList}): each read with the input's own reader factory, row by row, or
 * through the rows of its columnar batches.
 */
final class V2Splits implements SplitReader {
    private static final long serialVersionUID = 1L;

    private final PartitionReaderFactory factory;

    V2Splits(PartitionReaderFactory factory) {
        this.factory = factory;
    }

    @Override
    public Rows open(InputPartition split) {
        return factory.supportColumnarReads(split)
                ? new BatchRows(split, factory.createColumnarReader(split))
                : new ReaderRows(split, factory.createReader(split));
    }

    private abstract static class V2Rows<T> implements Rows {
        final InputPartition split;
        final PartitionReader<T> reader;

        V2Rows(InputPartition split, PartitionReader<T> reader) {
            this.split = split;
            this.reader = reader;
        }

        boolean advance() {
            try {
                return reader.next();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + position(), e);
            }
        }

        @Override
        public String position() {
            return split.toString();
        }

        @Override
        public void close() {
            try {
                reader.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close the reader of " + position(), e);
            }
        }
    }

    private static final class ReaderRows extends V2Rows<InternalRow> {
        private Boolean hasRow;

        ReaderRows(InputPartition split, PartitionReader<InternalRow> reader) {
            super(split, reader);
        }

        @Override
        public boolean hasNext() {
            if (hasRow == null) {
                hasRow = advance();
            }
            return hasRow;
        }

        @Override
        public InternalRow next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            hasRow = null;
            return reader.get();
        }
    }

    private static final class BatchRows extends V2Rows<ColumnarBatch> {
        private Iterator<InternalRow> rows;
        private boolean done;

        BatchRows(InputPartition split, PartitionReader<ColumnarBatch> reader) {
            super(split, reader);
        }

        @Override
        public boolean hasNext() {
            while (!done && (rows == null || !rows.hasNext())) {
                if (advance()) {
                    rows = reader.get().rowIterator();
                } else {
                    done = true;
                }
            }
            return !done;
        }

        @Override
        public InternalRow next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return rows.next();
        }
    }
}
