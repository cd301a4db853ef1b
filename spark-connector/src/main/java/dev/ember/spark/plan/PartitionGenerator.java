package dev.ember.spark.plan;

import dev.ember.api.ChatMessage;
import dev.ember.api.Result;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.executor.RowInput;
import dev.ember.spark.executor.TaskSession;
import dev.ember.spark.function.LlmGenerate;
import dev.ember.spark.function.SqlFunctions;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BasePredicate;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.Predicate;
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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The per-partition work of {@link LlmGenerateExec}, shipped to the executors: turns each child row into a
 * {@link RowInput} (text or chat, per-row options; skipped where the call's guard is false), runs the partition
 * through a {@link TaskSession} (engine lease, in-flight window, metrics, fail_on_error) and joins each row with its
 * result struct. The session is closed by a
 * task-completion listener, so a killed or failed task aborts its rows. Serializable; each {@link #generate} call
 * is one task's and runs on that task's thread.
 */
final class PartitionGenerator implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Seq<Expression> inputs; // the call's children: input, then the per-row options if any
    private final Expression guard; // which rows reach the call (LlmGenerateNode#guard)
    private final Seq<Attribute> childOutput;
    private final Seq<Attribute> output;
    private final EmberSettings settings;
    private final boolean hasValue; // the result struct carries return_type's typed value field
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

    PartitionGenerator(LlmGenerate call, Expression guard, Seq<Attribute> childOutput, Seq<Attribute> output,
                       SQLMetric rows, SQLMetric errorRows, SQLMetric promptTokens, SQLMetric generatedTokens,
                       SQLMetric preemptions, SQLMetric generationMs) {
        this.inputs = call.children();
        this.guard = guard;
        this.childOutput = childOutput;
        this.output = output;
        this.settings = call.settings();
        this.hasValue = GenerationSchema.valueType(settings) != null;
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
        int partition = task.partitionId();
        // The guard is checked before the inputs are projected, as Spark's CASE/IF/COALESCE evaluates a branch only
        // where it is taken: a row the branch excludes must not evaluate the prompt or options (under ANSI mode
        // CAST(10 / x AS STRING) throws for x = 0 even though CASE WHEN x <> 0 never reaches it).
        BasePredicate reaches = Predicate.create(guard, childOutput);
        reaches.initialize(partition);
        UnsafeProjection inputProjection = UnsafeProjection.create(inputs, childOutput);
        Iterator<InternalRow> copies = TaskSession.keeping(childRows, InternalRow::copy);
        TaskSession.RowInputs<InternalRow> rowInputs = new TaskSession.RowInputs<>() {
            @Override
            public RowInput input(InternalRow row, long index, String requestId) {
                return reaches.eval(row) ? rowInput(index, requestId, inputProjection.apply(row))
                        : RowInput.skipped(index);
            }

            @Override
            public String where(InternalRow row, long index) {
                return "partition " + partition;
            }
        };
        TaskSession<InternalRow> session = TaskSession.inTask(settings,
                () -> SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf()), copies, rowInputs, metrics());
        // registered before anything can fail, so the lease and the in-flight requests are always released
        task.addTaskCompletionListener((TaskCompletionListener) ctx -> session.close());
        UnsafeProjection outputProjection = UnsafeProjection.create(
                CollectionConverters.asJava(output).stream().map(Attribute::dataType).toArray(DataType[]::new));
        JoinedRow joined = new JoinedRow();
        GenericInternalRow resultHolder = new GenericInternalRow(1);
        // a skipped row's result is read by no branch: all fields null
        InternalRow skipped = new GenericInternalRow(GenerationSchema.structFor(settings).size());
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return session.hasNext();
            }

            @Override
            public InternalRow next() {
                TaskSession.Generated<InternalRow> g = session.next();
                resultHolder.update(0, g.result() == null ? skipped
                        : GenerationSchema.toRow(g.typed(), hasValue, logprobs));
                return outputProjection.apply(joined.apply(g.row(), resultHolder));
            }
        };
    }

    /** The task's figures as this operator's SQL metrics (updated per row, so progress shows while it runs). */
    private TaskSession.Metrics metrics() {
        return new TaskSession.Metrics() {
            @Override
            public void answered(Result r) {
                rows.add(1);
                promptTokens.add(r.promptTokens());
                generatedTokens.add(r.completionTokens());
                if (!r.ok()) {
                    errorRows.add(1);
                }
            }

            @Override
            public void finished(long ms, long enginePreemptions) {
                generationMs.add(ms);
                preemptions.add(enginePreemptions);
            }
        };
    }

    /** The input of a row the guard lets through; a malformed chat (null role or content) becomes an error row. */
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
