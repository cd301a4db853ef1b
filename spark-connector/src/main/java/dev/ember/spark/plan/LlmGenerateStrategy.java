package dev.ember.spark.plan;

import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.SparkStrategy;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.List;

/** Plans an {@link LlmGenerateNode} as an {@link LlmGenerateExec}. Stateless. */
public final class LlmGenerateStrategy extends SparkStrategy {
    @Override
    public Seq<SparkPlan> apply(LogicalPlan plan) {
        if (plan instanceof LlmGenerateNode n) {
            SparkPlan exec = new LlmGenerateExec(n.call(), n.result(), planLater(n.child()), n.guard());
            return CollectionConverters.asScala(List.of(exec)).toSeq();
        }
        return CollectionConverters.asScala(List.<SparkPlan>of()).toSeq();
    }
}
