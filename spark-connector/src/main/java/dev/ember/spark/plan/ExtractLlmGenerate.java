package dev.ember.spark.plan;

import dev.ember.spark.GenerationSchema;
import dev.ember.spark.function.LlmGenerate;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.types.Metadata;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Optimizer rule that takes {@link LlmGenerate} calls out of a single-input plan node (Project, Filter,
 * Aggregate, ...) and evaluates them below it in {@link LlmGenerateNode}s, one per distinct call, the node's
 * result attribute taking the call's place — as Spark's ExtractPythonUDFs does for Python UDFs. Nested calls
 * (a call whose prompt holds another) become stacked nodes, innermost first. Where the node's output changes
 * (a Filter passes its child's columns through) a Project restores the original output. Idempotent.
 */
public final class ExtractLlmGenerate extends Rule<LogicalPlan> {

    @Override
    public LogicalPlan apply(LogicalPlan plan) {
        LogicalPlan withChildren = plan.children().isEmpty() ? plan : plan.mapChildren(this::apply);
        if (withChildren instanceof LlmGenerateNode || withChildren.children().size() != 1
                || !hasCall(withChildren)) {
            return withChildren;
        }
        return extract(withChildren);
    }

    private static boolean hasCall(LogicalPlan p) {
        for (Expression e : CollectionConverters.asJava(p.expressions())) {
            if (contains(e)) {
                return true;
            }
        }
        return false;
    }

    private static boolean contains(Expression e) {
        return e.find(x -> x instanceof LlmGenerate).isDefined();
    }

    private static LogicalPlan extract(LogicalPlan plan) {
        LogicalPlan current = plan;
        while (hasCall(current)) {
            // innermost calls first: those whose children hold no other call
            Map<LlmGenerate, AttributeReference> calls = new LinkedHashMap<>();
            for (Expression e : CollectionConverters.asJava(current.expressions())) {
                collectInnermost(e, calls);
            }
            LogicalPlan child = current.children().apply(0);
            for (Map.Entry<LlmGenerate, AttributeReference> c : calls.entrySet()) {
                child = new LlmGenerateNode(c.getKey(), c.getValue(), child);
            }
            LogicalPlan withChild = current.withNewChildren(CollectionConverters.asScala(List.of(child)).toSeq());
            current = withChild.mapExpressions(e -> replace(e, calls));
        }
        if (!current.output().equals(plan.output())) {
            List<NamedExpression> keep = new ArrayList<>(CollectionConverters.asJava(plan.output()));
            Seq<NamedExpression> list = CollectionConverters.asScala(keep).toSeq();
            current = new Project(list, current);
        }
        return current;
    }

    private static void collectInnermost(Expression e, Map<LlmGenerate, AttributeReference> calls) {
        if (e instanceof LlmGenerate g && CollectionConverters.asJava(g.children()).stream().noneMatch(ExtractLlmGenerate::contains)) {
            calls.computeIfAbsent(g, k -> new AttributeReference(k.prettyName() + "_result", k.dataType(),
                    false, Metadata.empty(), NamedExpression.newExprId(),
                    CollectionConverters.asScala(List.<String>of()).toSeq()));
            return;
        }
        for (Expression c : CollectionConverters.asJava(e.children())) {
            collectInnermost(c, calls);
        }
    }

    private static Expression replace(Expression e, Map<LlmGenerate, AttributeReference> calls) {
        if (e instanceof LlmGenerate g && calls.containsKey(g)) {
            return calls.get(g);
        }
        return e.children().isEmpty() ? e : e.mapChildren(c -> replace(c, calls));
    }
}
