package dev.ember.spark.plan;

import dev.ember.ConfigException;
import dev.ember.spark.function.LlmGenerate;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import scala.runtime.BoxedUnit;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Analysis check: an {@code llm_generate} call as a grouping key or inside an aggregate function fails with a message
 * that says what to do, instead of Spark's INTERNAL_ERROR (the call is non-deterministic for the optimizer's sake,
 * see {@link LlmGenerate}, and Spark cannot group by such an expression). Generate in a subquery, then aggregate.
 * Stateless.
 */
public final class LlmGenerateChecks extends Rule<LogicalPlan> {

    /**
     * Runs as an analyzer resolution rule: Spark's own check of non-deterministic grouping keys comes before the
     * extended check rules and reports an INTERNAL_ERROR, so this must see the plan first. Returns it unchanged.
     */
    @Override
    public LogicalPlan apply(LogicalPlan plan) {
        plan.foreach(node -> {
            if (node instanceof Aggregate a) {
                for (Expression g : CollectionConverters.asJava(a.groupingExpressions())) {
                    if (hasCall(g)) {
                        throw refused("GROUP BY");
                    }
                }
                for (var e : CollectionConverters.asJava(a.aggregateExpressions())) {
                    if (((Expression) e).find(x -> x instanceof AggregateExpression && hasCall(x)).isDefined()) {
                        throw refused("an aggregate function");
                    }
                }
            }
            return BoxedUnit.UNIT;
        });
        return plan;
    }

    private static boolean hasCall(Expression e) {
        return e.find(x -> x instanceof LlmGenerate).isDefined();
    }

    private static ConfigException refused(String where) {
        return new ConfigException("llm_generate cannot be used in " + where + ": generate in a subquery first, then"
                + " aggregate its result, e.g. SELECT r.finish_reason, count(*) FROM (SELECT llm_generate(prompt) AS r"
                + " FROM t) GROUP BY r.finish_reason");
    }
}
