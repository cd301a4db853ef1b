package dev.ember.spark.read;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import scala.Function1;
import scala.collection.Iterator;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.NoSuchElementException;

/**
 * The rows of one split: its (parts of) files read one after another with the input format's reader function.
 * Rows may be reused by the reader: copy one to keep it. Closes each file's reader when it is done (Spark also
 * closes them when the task completes). Not thread-safe.
 */
final class SplitRows implements java.util.Iterator<InternalRow>, AutoCloseable {
    private final Function1<PartitionedFile, Iterator<InternalRow>> readFile;
    private final PartitionedFile[] files;
    private int nextFile;
    private PartitionedFile currentFile;
    private Iterator<InternalRow> current;

    SplitRows(Function1<PartitionedFile, Iterator<InternalRow>> readFile, PartitionedFile[] files) {
        this.readFile = readFile;
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

    /** The file (and byte range) of the row last returned, for messages. */
    String currentFile() {
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
                throw new UncheckedIOException("cannot close the reader of " + currentFile(), e);
            }
        }
        current = null;
    }
}
