package dev.ember.spark.plan;

import dev.ember.spark.function.LlmGenerate;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Logical node that evaluates one {@link LlmGenerate} call over its child in batches: its output is the child's
 * output followed by {@code result}, the call's struct. Made by {@link ExtractLlmGenerate}, planned as
 * {@link LlmGenerateExec} by {@link LlmGenerateStrategy}. Immutable.
 */
public final class LlmGenerateNode extends LogicalPlan implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final LlmGenerate call;
    private final AttributeReference result;
    private final LogicalPlan child;
    private final Expression guard;

    /**
     * Constructor arguments equal {@link #productElement} (Catalyst's makeCopy relies on it).
     *
     * @param guard which rows reach the call (it sits in a CASE, IF or COALESCE branch, see {@link ExtractLlmGenerate});
     *              true for all. A product element, so its columns count among the node's references.
     */
    public LlmGenerateNode(LlmGenerate call, AttributeReference result, LogicalPlan child, Expression guard) {
        this.call = Objects.requireNonNull(call);
        this.result = Objects.requireNonNull(result);
        this.child = Objects.requireNonNull(child);
        this.guard = Objects.requireNonNull(guard);
    }

    public LlmGenerate call() {
        return call;
    }

    public AttributeReference result() {
        return result;
    }

    public LogicalPlan child() {
        return child;
    }

    public Expression guard() {
        return guard;
    }

    @Override
    public Seq<Attribute> output() {
        return appended(child.output(), result);
    }

    static Seq<Attribute> appended(Seq<Attribute> in, Attribute last) {
        List<Attribute> out = new ArrayList<>(CollectionConverters.asJava(in));
        out.add(last);
        return CollectionConverters.asScala(out).toSeq();
    }

    @Override
    public AttributeSet producedAttributes() {
        return AttributeSet.apply(result);
    }

    @Override
    public Seq<LogicalPlan> children() {
        return CollectionConverters.asScala(List.of(child)).toSeq();
    }

    @Override
    public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> newChildren) {
        return new LlmGenerateNode(call, result, newChildren.apply(0), guard);
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
        return that instanceof LlmGenerateNode;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LlmGenerateNode n && n.call.equals(call) && n.result.equals(result) && n.child.equals(child)
                && n.guard.equals(guard);
    }

    @Override
    public int hashCode() {
        return Objects.hash(call, result, child, guard);
    }
}
