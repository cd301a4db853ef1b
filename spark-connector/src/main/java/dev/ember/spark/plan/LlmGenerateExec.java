package dev.ember.spark.plan;

import dev.ember.spark.EmberMetrics;
import dev.ember.spark.function.LlmGenerate;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SortOrder;
import org.apache.spark.sql.catalyst.plans.physical.Partitioning;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.execution.metric.SQLMetrics;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Physical operator of one {@link LlmGenerate} call: each task leases the executor's shared engine, streams its
 * partition through it with up to {@code maxInFlightPerTask} requests in flight ({@link PartitionGenerator}) and
 * emits each child row followed by its result struct, in input order. Keeps the child's partitioning and
 * ordering. Reports the SQL metrics named in {@link EmberMetrics}. Immutable apart from its metrics.
 */
public final class LlmGenerateExec extends SparkPlan {
    private static final long serialVersionUID = 1L;
    /** Metric keys (the same strings are the metrics' display names: the progress listener's contract). */
    static final List<String> METRICS = List.of(EmberMetrics.ROWS, EmberMetrics.ERROR_ROWS,
            EmberMetrics.PROMPT_TOKENS, EmberMetrics.GENERATED_TOKENS, EmberMetrics.PREEMPTIONS);

    private final LlmGenerate call;
    private final AttributeReference result;
    private final SparkPlan child;
    private final Expression guard; // which rows reach the call (LlmGenerateNode#guard)
    private transient scala.collection.immutable.Map<String, SQLMetric> metrics;

    /** Constructor arguments equal {@link #productElement} (Catalyst's makeCopy relies on it). */
    public LlmGenerateExec(LlmGenerate call, AttributeReference result, SparkPlan child, Expression guard) {
        this.call = Objects.requireNonNull(call);
        this.result = Objects.requireNonNull(result);
        this.child = Objects.requireNonNull(child);
        this.guard = Objects.requireNonNull(guard);
    }

    public LlmGenerate call() {
        return call;
    }

    public SparkPlan child() {
        return child;
    }

    @Override
    public synchronized scala.collection.immutable.Map<String, SQLMetric> metrics() {
        if (metrics == null) {
            Map<String, SQLMetric> m = new LinkedHashMap<>();
            for (String name : METRICS) {
                m.put(name, SQLMetrics.createMetric(sparkContext(), name));
            }
            m.put(EmberMetrics.GENERATION_MS, SQLMetrics.createTimingMetric(sparkContext(), EmberMetrics.GENERATION_MS, -1));
            metrics = scala.collection.immutable.Map.from(CollectionConverters.asScala(m));
        }
        return metrics;
    }

    @Override
    public RDD<InternalRow> doExecute() {
        PartitionGenerator generator = new PartitionGenerator(call, guard, child.output(), output(),
                metrics().apply(EmberMetrics.ROWS), metrics().apply(EmberMetrics.ERROR_ROWS),
                metrics().apply(EmberMetrics.PROMPT_TOKENS), metrics().apply(EmberMetrics.GENERATED_TOKENS),
                metrics().apply(EmberMetrics.PREEMPTIONS), metrics().apply(EmberMetrics.GENERATION_MS));
        return child.execute().toJavaRDD().mapPartitions(generator::generate, true).rdd();
    }

    @Override
    public Seq<Attribute> output() {
        return LlmGenerateNode.appended(child.output(), result);
    }

    @Override
    public AttributeSet producedAttributes() {
        return AttributeSet.apply(result);
    }

    @Override
    public Partitioning outputPartitioning() {
        return child.outputPartitioning();
    }

    @Override
    public Seq<SortOrder> outputOrdering() {
        return child.outputOrdering();
    }

    @Override
    public Seq<SparkPlan> children() {
        return CollectionConverters.asScala(List.of(child)).toSeq();
    }

    @Override
    public SparkPlan withNewChildrenInternal(IndexedSeq<SparkPlan> newChildren) {
        return new LlmGenerateExec(call, result, newChildren.apply(0), guard);
    }

    @Override
    public int productArity() {
        return 4;
    }

    @Override
    public Object productElement(int n) {
        return switch (n) {
            case 0 -> call;
            case 1 -> result;
            case 2 -> child;
            case 3 -> guard;
            default -> throw new IndexOutOfBoundsException(n);
        };
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof LlmGenerateExec;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LlmGenerateExec e && e.call.equals(call) && e.result.equals(result) && e.child.equals(child)
                && e.guard.equals(guard);
    }

    @Override
    public int hashCode() {
        return Objects.hash(call, result, child, guard);
    }
}
