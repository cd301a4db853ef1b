package dev.ember.spark.read;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import scala.Function1;
import scala.collection.Iterator;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.NoSuchElementException;

/**
 * Splits of a file source ({@link FilePartition}s): their (parts of) files read one after another with the file
 * format's reader function from {@code buildReaderWithPartitionValues}, the one Spark's own file scan ships to
 * executors (rows, partition values appended).
 */
final class FileSplits implements SplitReader {
    private static final long serialVersionUID = 1L;

    private final Function1<PartitionedFile, Iterator<InternalRow>> readFile;

    FileSplits(Function1<PartitionedFile, Iterator<InternalRow>> readFile) {
        this.readFile = readFile;
    }

    @Override
    public Rows open(InputPartition split) {
        return new FileRows(((FilePartition) split).files());
    }

    /** Closes each file's reader when it is done (Spark also closes them when the task completes). */
    private final class FileRows implements Rows {
        private final PartitionedFile[] files;
        private int nextFile;
        private PartitionedFile currentFile;
        private Iterator<InternalRow> current;

        FileRows(PartitionedFile[] files) {
            this.files = files;
        }

        @Override
        public boolean hasNext() {
            while (current == null || !current.hasNext()) {
                closeCurrent();
                if (nextFile >= files.length) {
                    return false;
                }
                currentFile = files[nextFile++];
                current = readFile.apply(currentFile);
            }
            return true;
        }

        @Override
        public InternalRow next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current.next();
        }

        @Override
        public String position() {
            return currentFile == null ? "no file"
                    : currentFile.filePath() + " [" + currentFile.start() + ", +" + currentFile.length() + ")";
        }

        @Override
        public void close() {
            closeCurrent();
            nextFile = files.length;
        }

        private void closeCurrent() {
            if (current instanceof Closeable c) {
                try {
                    c.close();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot close the reader of " + position(), e);
                }
            }
            current = null;
        }
    }
}
