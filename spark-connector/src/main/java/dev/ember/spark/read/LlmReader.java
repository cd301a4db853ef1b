package dev.ember.spark.read;

import dev.ember.LlmException;
import dev.ember.arrow.ArrowResults;
import dev.ember.engine.Result;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.executor.EngineLease;
import dev.ember.spark.executor.EngineRegistry;
import dev.ember.spark.executor.OrderedGenerations;
import dev.ember.spark.executor.RowInput;
import dev.ember.spark.executor.TaskDevice;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.execution.RowToColumnConverter;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;

/**
 * Reads one split and generates its prompts: the split's rows stream through {@link OrderedGenerations} on the
 * executor's shared engine ({@code maxInFlightPerTask} rows submitted at a time, the window kept full across
 * batch boundaries) and come back in input order, {@code maxInFlightPerTask} rows per {@link ColumnarBatch}. The
 * input columns are copied into reused on-heap vectors; the generation columns are the Arrow vectors of
 * {@link ArrowResults#toRoot}, wrapped as {@link ArrowColumnVector}s without a copy.
 *
 * <p>Owns a child of Spark's Arrow root allocator, the current batch's Arrow root, the engine lease and the
 * in-flight requests; {@link #close()} (idempotent) aborts what is in flight and frees all of it, and fails if
 * Arrow memory leaked. A batch stays valid until the next call to {@link #next()}. Not thread-safe.
 */
final class LlmReader implements PartitionReader<ColumnarBatch> {
    private record InputRow(long index, InternalRow row, String position) {
    }

    private final LlmReaderFactory spec;
    private final LlmPartition partition;
    private final EmberSettings settings;
    private final int batchRows;
    private final String requestPrefix = "llm-" + UUID.randomUUID() + "-";
    private final SplitReader.Rows rows;
    private final ArrayDeque<InputRow> inFlight = new ArrayDeque<>();
    private final LlmTaskMetrics metrics = new LlmTaskMetrics();
    private final RowToColumnConverter converter;
    private final OnHeapColumnVector[] inputVectors;
    // The one batch's columns: the input vectors, then the current Arrow root's vectors (replaced per batch).
    private final ColumnVector[] columns;
    private final ColumnarBatch batch;
    private final BufferAllocator allocator;
    private EngineLease lease;
    private OrderedGenerations generations;
    private VectorSchemaRoot root;
    private long nextIndex;
    private boolean closed;

    LlmReader(LlmReaderFactory spec, LlmPartition partition) {
        this.spec = spec;
        this.partition = partition;
        this.settings = spec.settings;
        this.batchRows = settings.maxInFlightPerTask();
        this.converter = new RowToColumnConverter(spec.inputSchema);
        this.inputVectors = OnHeapColumnVector.allocateColumns(Math.min(batchRows, 4096), spec.inputSchema);
        this.columns = new ColumnVector[inputVectors.length + ArrowResults.SCHEMA.getFields().size()];
        System.arraycopy(inputVectors, 0, columns, 0, inputVectors.length);
        this.batch = new ColumnarBatch(columns);
        this.allocator = ArrowUtils.rootAllocator().newChildAllocator(
                "ember llm reader (split " + partition.index() + ")", 0, Long.MAX_VALUE);
        try {
            this.rows = spec.splits.open(partition.split());
        } catch (RuntimeException e) {
            for (OnHeapColumnVector v : inputVectors) {
                v.close();
            }
            allocator.close();
            throw e;
        }
    }

    @Override
    public boolean next() {
        if (closed) {
            return false;
        }
        closeRoot();
        if (generations == null) {
            if (!rows.hasNext()) {
                return false; // an empty split needs no engine
            }
            lease = EngineRegistry.acquire(settings, TaskDevice.gpuOrdinal(settings), spec.hadoopConf.value().value());
            generations = new OrderedGenerations(lease.engine(), new Inputs(), settings.maxInFlightPerTask());
        }
        for (WritableColumnVector v : inputVectors) {
            v.reset();
        }
        List<Result> results = new ArrayList<>(batchRows);
        while (results.size() < batchRows && generations.hasNext()) {
            OrderedGenerations.Generated g = generations.next();
            InputRow in = inFlight.removeFirst();
            if (in.index() != g.index()) {
                throw new IllegalStateException("row " + g.index() + " came back for input row " + in.index());
            }
            Result r = g.result();
            metrics.answered(r);
            if (r.error() != null && settings.failOnError()) {
                throw new LlmException("format(\"llm\") with " + EmberOptions.FAIL_ON_ERROR.name() + "=true: row " + in.index()
                        + " of input split " + partition.index() + " (" + in.position() + ") failed: " + r.error()
                        + "; set " + EmberOptions.FAIL_ON_ERROR.name() + "=false to get such rows with their message in the"
                        + " 'error' column");
            }
            converter.convert(in.row(), inputVectors);
            results.add(r);
        }
        if (results.isEmpty()) {
            return false;
        }
        root = ArrowResults.toRoot(results, allocator);
        List<FieldVector> generated = root.getFieldVectors();
        for (int i = 0; i < generated.size(); i++) {
            columns[inputVectors.length + i] = new ArrowColumnVector(generated.get(i));
        }
        batch.setNumRows(results.size());
        return true;
    }

    @Override
    public ColumnarBatch get() {
        return batch;
    }

    @Override
    public CustomTaskMetric[] currentMetricsValues() {
        return metrics.values();
    }

    /** Spark 4.1+ hands a retried reader its earlier values (no @Override: Spark 4.0's interface lacks it). */
    public void initMetricsValues(CustomTaskMetric[] metrics) {
        this.metrics.addPrior(metrics);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<AutoCloseable> resources = new ArrayList<>();
        if (generations != null) {
            resources.add(generations); // aborts the rows still in flight
        }
        if (lease != null) {
            resources.add(lease);
        }
        resources.add(rows);
        resources.add(this::closeRoot);
        for (OnHeapColumnVector v : inputVectors) {
            resources.add(v);
        }
        resources.add(allocator); // throws if an Arrow buffer leaked
        RuntimeException failure = null;
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException re ? re
                            : new IllegalStateException("closing the llm reader of split " + partition.index() + " failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        inFlight.clear();
        if (failure != null) {
            throw failure;
        }
    }

    private void closeRoot() {
        if (root != null) {
            root.close();
            root = null;
            for (int i = inputVectors.length; i < columns.length; i++) {
                columns[i] = null;
            }
        }
    }

    /** The split's rows as generation inputs; each row pulled is copied and queued until its result comes back. */
    private final class Inputs implements Iterator<RowInput> {
        private final int promptOrdinal = spec.promptOrdinal;

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public RowInput next() {
            InternalRow row = rows.next().copy();
            long index = nextIndex++;
            inFlight.addLast(new InputRow(index, row, rows.position()));
            metrics.started();
            String prompt = row.isNullAt(promptOrdinal) ? null : row.getUTF8String(promptOrdinal).toString();
            return RowInput.of(settings, index, requestPrefix + index, prompt, null, null);
        }
    }
}
