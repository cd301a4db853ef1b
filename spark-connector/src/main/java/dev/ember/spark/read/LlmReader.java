package dev.ember.spark.read;

import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.executor.RowInput;
import dev.ember.spark.executor.TaskSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.execution.RowToColumnConverter;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

import java.util.Iterator;
import java.util.List;

/**
 * Reads one split and generates its prompts: the split's rows go through a {@link TaskSession} (engine lease,
 * {@code max_in_flight_per_task} rows in flight, the window kept full across batch boundaries, metrics,
 * fail_on_error) and come back in input order, up to {@code max_in_flight_per_task} rows per {@link ColumnarBatch}:
 * the input's columns, then the generation struct ({@link GenerationSchema#structFor}), in reused on-heap vectors.
 *
 * <p>Owns the vectors, the split's row reader and the session; {@link #close()} (idempotent) aborts what is in
 * flight and frees all of it. A batch stays valid until the next call to {@link #next()}. Not thread-safe.
 */
final class LlmReader implements PartitionReader<ColumnarBatch> {
    /** A split row kept until its result comes back, with where it was read (for messages). */
    private record SplitRow(InternalRow row, String position) {
    }

    private final LlmPartition partition;
    private final int batchRows;
    private final boolean hasValue; // the result struct carries return_type's typed value field
    private final boolean logprobs;
    private final SplitReader.Rows rows;
    private final LlmTaskMetrics metrics = new LlmTaskMetrics();
    private final RowToColumnConverter converter;
    private final OnHeapColumnVector[] vectors;
    private final ColumnarBatch batch;
    private final TaskSession<SplitRow> session;
    private final JoinedRow joined = new JoinedRow();
    private final GenericInternalRow generation = new GenericInternalRow(1);
    private boolean closed;

    LlmReader(LlmReaderFactory spec, LlmPartition partition) {
        EmberSettings settings = spec.settings;
        this.partition = partition;
        this.batchRows = settings.maxInFlightPerTask();
        this.hasValue = GenerationSchema.valueType(settings) != null;
        this.logprobs = GenerationSchema.withLogprobs(settings);
        this.converter = new RowToColumnConverter(spec.outputSchema);
        this.vectors = OnHeapColumnVector.allocateColumns(Math.min(batchRows, 4096), spec.outputSchema);
        this.batch = new ColumnarBatch(vectors);
        try {
            this.rows = spec.splits.open(partition.split());
        } catch (RuntimeException e) {
            batch.close();
            throw e;
        }
        int promptOrdinal = spec.promptOrdinal;
        // the position is the reader's right after the row was read
        Iterator<SplitRow> copies = TaskSession.keeping(rows, row -> new SplitRow(row.copy(), rows.position()));
        TaskSession.RowInputs<SplitRow> inputs = new TaskSession.RowInputs<>() {
            @Override
            public RowInput input(SplitRow r, long index, String requestId) {
                InternalRow row = r.row();
                String prompt = row.isNullAt(promptOrdinal) ? null : row.getUTF8String(promptOrdinal).toString();
                return RowInput.of(settings, index, requestId, prompt, null, null);
            }

            @Override
            public String where(SplitRow r, long index) {
                return "input split " + partition.index() + " (" + r.position() + ")";
            }
        };
        this.session = TaskSession.inTask(settings, () -> spec.hadoopConf.value().value(), copies, inputs, metrics);
    }

    @Override
    public boolean next() {
        if (closed) {
            return false;
        }
        batch.setNumRows(0);
        for (OnHeapColumnVector v : vectors) {
            v.reset();
        }
        int n = 0;
        while (n < batchRows && session.hasNext()) {
            TaskSession.Generated<SplitRow> g = session.next();
            generation.update(0, GenerationSchema.toRow(g.typed(), hasValue, logprobs));
            converter.convert(joined.apply(g.row().row(), generation), vectors);
            n++;
        }
        batch.setNumRows(n);
        return n > 0;
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
        List<AutoCloseable> resources = List.of(session, rows, batch); // the session aborts the rows in flight
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
        if (failure != null) {
            throw failure;
        }
    }
}
