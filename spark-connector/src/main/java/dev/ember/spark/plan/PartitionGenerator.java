package dev.ember.spark.plan;

import dev.ember.LlmException;
import dev.ember.engine.ChatMessage;
import dev.ember.engine.Engine;
import dev.ember.engine.Result;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.executor.EngineLease;
import dev.ember.spark.executor.EngineRegistry;
import dev.ember.spark.executor.OrderedGenerations;
import dev.ember.spark.executor.RowInput;
import dev.ember.spark.executor.TaskDevice;
import dev.ember.spark.function.LlmGenerate;
import dev.ember.spark.function.SqlFunctions;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;

/**
 * The per-partition work of {@link LlmGenerateExec}, shipped to the executors: leases the engine, turns each child
 * row into a {@link RowInput} as the window needs it (copying the rows it keeps), streams them through
 * {@link OrderedGenerations} and joins each row with its result. The lease and the in-flight requests are
 * released by a task-completion listener, so a killed or failed task aborts its rows. Serializable; each
 * {@link #generate} call is one task's and runs on that task's thread.
 */
final class PartitionGenerator implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Seq<Expression> inputs;
    private final Seq<Attribute> childOutput;
    private final Seq<Attribute> output;
    private final EmberSettings settings;
    private final org.apache.spark.sql.types.DataType valueType; // return_type's Spark type, or null
    private final boolean logprobs; // the result struct carries logprobs and confidence
    private final LlmGenerate.Kind kind;
    private final DataType inputType;
    private final MapType rowOptionsType;
    private final SQLMetric rows;
    private final SQLMetric errorRows;
    private final SQLMetric promptTokens;
    private final SQLMetric generatedTokens;
    private final SQLMetric preemptions;
    private final SQLMetric generationMs;
    private final String callId = "ember-" + UUID.randomUUID().toString().substring(0, 8);

    PartitionGenerator(LlmGenerate call, Seq<Attribute> childOutput, Seq<Attribute> output, SQLMetric rows,
                       SQLMetric errorRows, SQLMetric promptTokens, SQLMetric generatedTokens, SQLMetric preemptions,
                       SQLMetric generationMs) {
        this.inputs = call.children();
        this.childOutput = childOutput;
        this.output = output;
        this.settings = call.settings();
        this.valueType = GenerationSchema.valueType(settings);
        this.logprobs = GenerationSchema.withLogprobs(settings);
        this.kind = call.kind();
        this.inputType = call.input().dataType();
        this.rowOptionsType = call.rowOptions() == null ? null : (MapType) call.rowOptions().dataType();
        this.rows = rows;
        this.errorRows = errorRows;
        this.promptTokens = promptTokens;
        this.generatedTokens = generatedTokens;
        this.preemptions = preemptions;
        this.generationMs = generationMs;
    }

    /** One task's output rows: child row + result struct, in input order. */
    Iterator<InternalRow> generate(Iterator<InternalRow> childRows) {
        TaskContext task = TaskContext.get();
        EngineLease lease = lease();
        Engine engine = lease.engine();
        long preemptionsAtStart = engine.metrics().preemptions();
        long[] startNanos = {0L};
        boolean[] finished = {false};
        List<OrderedGenerations> open = new ArrayList<>(1);
        // registered before anything else can fail, so the lease and the in-flight requests are always released
        task.addTaskCompletionListener((TaskCompletionListener) ctx -> {
            try {
                open.forEach(OrderedGenerations::close);
                preemptions.add(Math.max(0, engine.metrics().preemptions() - preemptionsAtStart));
                if (startNanos[0] != 0 && !finished[0]) {
                    generationMs.add((System.nanoTime() - startNanos[0]) / 1_000_000);
                }
            } finally {
                lease.close();
            }
        });
        // unique per operator, stage, partition, attempt and row, so abort(id) never touches another task's rows
        String idPrefix = callId + "-s" + task.stageId() + "-p" + task.partitionId() + "." + task.attemptNumber() + "-";
        UnsafeProjection inputProjection = UnsafeProjection.create(inputs, childOutput);
        ArrayDeque<InternalRow> kept = new ArrayDeque<>();
        Iterator<RowInput> rowInputs = new Iterator<>() {
            long index;

            @Override
            public boolean hasNext() {
                return childRows.hasNext();
            }

            @Override
            public RowInput next() {
                InternalRow row = childRows.next();
                kept.addLast(row.copy());
                long i = index++;
                return rowInput(i, idPrefix + i, inputProjection.apply(row));
            }
        };
        OrderedGenerations generations = new OrderedGenerations(engine, rowInputs, settings.maxInFlightPerTask(),
                task::killTaskIfInterrupted);
        open.add(generations);
        UnsafeProjection outputProjection = UnsafeProjection.create(
                CollectionConverters.asJava(output).stream().map(Attribute::dataType).toArray(DataType[]::new));
        JoinedRow joined = new JoinedRow();
        GenericInternalRow resultHolder = new GenericInternalRow(1);
        int partition = task.partitionId();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                if (startNanos[0] == 0) {
                    startNanos[0] = System.nanoTime();
                }
                boolean more = generations.hasNext();
                if (!more && !finished[0]) {
                    finished[0] = true;
                    generationMs.add((System.nanoTime() - startNanos[0]) / 1_000_000);
                }
                return more;
            }

            @Override
            public InternalRow next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                OrderedGenerations.Generated g = generations.next();
                InternalRow row = kept.removeFirst();
                Result r = g.result();
                rows.add(1);
                promptTokens.add(r.promptTokens());
                generatedTokens.add(r.completionTokens());
                if (!r.ok()) {
                    errorRows.add(1);
                    if (settings.failOnError()) {
                        throw new LlmException("Ember: row " + g.index() + " of partition " + partition
                                + " failed: " + r.error() + " (fail_on_error=true; with fail_on_error=false the row would get the"
                                + " error in its result's 'error' field instead)");
                    }
                }
                resultHolder.update(0, GenerationSchema.toRow(r, valueType, logprobs));
                return outputProjection.apply(joined.apply(row, resultHolder));
            }
        };
    }

    /**
     * The task's engine lease. A model that cannot be loaded fails the task with the engine's message, naming the
     * model and executor. Local mode does not retry; a cluster retries the task (spark.task.maxFailures, 4 by
     * default), each retry failing fast with the same message (a failed load is not cached), then fails the job.
     */
    private EngineLease lease() {
        try {
            return EngineRegistry.acquire(settings, TaskDevice.gpuOrdinal(settings),
                    SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf()));
        } catch (RuntimeException e) {
            throw new LlmException("Ember could not start its engine for model '" + settings.model() + "' on executor "
                    + SparkEnv.get().executorId() + ": " + e.getMessage(), e);
        }
    }

    /** The row's input; a malformed chat (null role or content) becomes an error row. */
    private RowInput rowInput(long index, String requestId, InternalRow in) {
        Map<String, String> rowOptions = null;
        if (rowOptionsType != null && !in.isNullAt(1)) {
            rowOptions = SqlFunctions.toJava(in.getMap(1), rowOptionsType);
        }
        if (kind == LlmGenerate.Kind.TEXT) {
            String prompt = in.isNullAt(0) ? null : in.getUTF8String(0).toString();
            return RowInput.of(settings, index, requestId, prompt, null, rowOptions);
        }
        if (in.isNullAt(0)) {
            return new RowInput(index, null, "messages is null");
        }
        List<ChatMessage> messages;
        try {
            messages = messages(in.getArray(0));
        } catch (RuntimeException e) {
            return new RowInput(index, null, "invalid messages: " + e.getMessage());
        }
        return RowInput.of(settings, index, requestId, null, messages, rowOptions);
    }

    private List<ChatMessage> messages(ArrayData array) {
        StructType struct = (StructType) ((ArrayType) inputType).elementType();
        int role = struct.fieldIndex("role");
        int content = struct.fieldIndex("content");
        List<ChatMessage> out = new ArrayList<>(array.numElements());
        for (int i = 0; i < array.numElements(); i++) {
            if (array.isNullAt(i)) {
                throw new IllegalArgumentException("message " + i + " is null");
            }
            InternalRow m = array.getStruct(i, struct.size());
            out.add(new ChatMessage(m.isNullAt(role) ? null : m.getUTF8String(role).toString(),
                    m.isNullAt(content) ? null : m.getUTF8String(content).toString()));
        }
        return out;
    }
}
