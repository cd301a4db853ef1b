package dev.ember.spark.plan;

import dev.ember.spark.GenerationSchema;
import dev.ember.spark.function.LlmGenerate;
import org.apache.spark.sql.catalyst.expressions.And;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.CaseWhen;
import org.apache.spark.sql.catalyst.expressions.Coalesce;
import org.apache.spark.sql.catalyst.expressions.EqualNullSafe;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.If;
import org.apache.spark.sql.catalyst.expressions.IsNull;
import org.apache.spark.sql.catalyst.expressions.Literal$;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.Not;
import org.apache.spark.sql.catalyst.expressions.Or;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression$;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.types.Metadata;
import scala.Tuple2;
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
 * (a Filter passes its child's columns through) a Project restores the original output. A call in a CASE WHEN, IF or
 * COALESCE branch, or on the right of an AND or OR, generates only the rows that reach it (the node's guard).
 * Idempotent.
 */
public final class ExtractLlmGenerate extends Rule<LogicalPlan> {
    /** The guard of a call every row reaches. */
    static final Expression ALWAYS = Literal$.MODULE$.TrueLiteral();
    private static final Expression NEVER = Literal$.MODULE$.FalseLiteral();

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
            Map<LlmGenerate, Expression> guards = new LinkedHashMap<>();
            for (Expression e : CollectionConverters.asJava(current.expressions())) {
                collectInnermost(e, null, calls, guards);
            }
            LogicalPlan child = current.children().apply(0);
            for (Map.Entry<LlmGenerate, AttributeReference> c : calls.entrySet()) {
                child = new LlmGenerateNode(c.getKey(), c.getValue(), child, guards.get(c.getKey()));
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

    /**
     * Collects the innermost calls under {@code e} and, for each, which rows reach it: {@code guard} is the condition
     * under which {@code e} is evaluated (null: always). A call in a CASE WHEN, IF or COALESCE branch is evaluated
     * only where that branch is taken, and one right of an AND (OR) only where the left is not false (true), as Spark
     * evaluates them; its node generates those rows only, so a guard such as
     * {@code CASE WHEN prompt IS NULL THEN ... ELSE llm_generate(prompt) END} keeps excluded rows from the engine
     * (and from fail_on_error). A call used several times is reached where any use is.
     */
    private static void collectInnermost(Expression e, Expression guard, Map<LlmGenerate, AttributeReference> calls,
                                         Map<LlmGenerate, Expression> guards) {
        if (e instanceof LlmGenerate g && CollectionConverters.asJava(g.children()).stream().noneMatch(ExtractLlmGenerate::contains)) {
            calls.computeIfAbsent(g, k -> new AttributeReference(k.prettyName() + "_result", k.dataType(),
                    false, Metadata.empty(), NamedExpression.newExprId(),
                    CollectionConverters.asScala(List.<String>of()).toSeq()));
            guards.merge(g, usable(guard), ExtractLlmGenerate::either);
            return;
        }
        if (e instanceof CaseWhen cw) {
            Expression noneBefore = null; // no earlier branch's condition is true
            for (Tuple2<Expression, Expression> b : CollectionConverters.asJava(cw.branches())) {
                collectInnermost(b._1(), and(guard, noneBefore), calls, guards);
                collectInnermost(b._2(), and(guard, and(noneBefore, isTrue(b._1()))), calls, guards);
                noneBefore = and(noneBefore, new Not(isTrue(b._1())));
            }
            if (cw.elseValue().isDefined()) {
                collectInnermost(cw.elseValue().get(), and(guard, noneBefore), calls, guards);
            }
            return;
        }
        if (e instanceof If f) {
            collectInnermost(f.predicate(), guard, calls, guards);
            collectInnermost(f.trueValue(), and(guard, isTrue(f.predicate())), calls, guards);
            collectInnermost(f.falseValue(), and(guard, new Not(isTrue(f.predicate()))), calls, guards);
            return;
        }
        // AND and OR evaluate their right side only where the left does not decide: AND where the left is not false,
        // OR where it is not true (Spark's eval and generated code both short-circuit)
        if (e instanceof And a) {
            collectInnermost(a.left(), guard, calls, guards);
            collectInnermost(a.right(), and(guard, new Not(new EqualNullSafe(a.left(), NEVER))), calls, guards);
            return;
        }
        if (e instanceof Or o) {
            collectInnermost(o.left(), guard, calls, guards);
            collectInnermost(o.right(), and(guard, new Not(isTrue(o.left()))), calls, guards);
            return;
        }
        if (e instanceof Coalesce c) {
            Expression allNullBefore = null;
            for (Expression x : CollectionConverters.asJava(c.children())) {
                collectInnermost(x, and(guard, allNullBefore), calls, guards);
                allNullBefore = and(allNullBefore, new IsNull(x));
            }
            return;
        }
        for (Expression c : CollectionConverters.asJava(e.children())) {
            collectInnermost(c, guard, calls, guards);
        }
    }

    /**
     * The guard as the node evaluates it: always true where none, or where it holds a call, a subquery (kept to the
     * plan node that Spark prepares it for) or is non-deterministic.
     */
    private static Expression usable(Expression guard) {
        return guard == null || contains(guard) || SubqueryExpression$.MODULE$.hasSubquery(guard)
                || !guard.deterministic() ? ALWAYS : guard;
    }

    private static Expression either(Expression a, Expression b) {
        return a.equals(ALWAYS) || b.equals(ALWAYS) ? ALWAYS : new Or(a, b);
    }

    private static Expression and(Expression a, Expression b) {
        return a == null ? b : b == null ? a : new And(a, b);
    }

    /** True where {@code condition} is true; false where it is false or null (as a CASE branch is taken). */
    private static Expression isTrue(Expression condition) {
        return new EqualNullSafe(condition, ALWAYS);
    }

    private static Expression replace(Expression e, Map<LlmGenerate, AttributeReference> calls) {
        if (e instanceof LlmGenerate g && calls.containsKey(g)) {
            return calls.get(g);
        }
        return e.children().isEmpty() ? e : e.mapChildren(c -> replace(c, calls));
    }
}
