package dev.ember.spark;

import dev.ember.spark.function.SqlFunctions;
import dev.ember.spark.plan.ExtractLlmGenerate;
import dev.ember.spark.plan.LlmGenerateStrategy;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.SparkSessionExtensionsProvider;
import dev.ember.spark.plan.LlmGenerateChecks;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.execution.SparkStrategy;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

import java.util.ArrayList;
import java.util.List;

/**
 * Ember's session extensions: the SQL functions {@code llm_generate} and {@code llm_generate_chat}, the optimizer
 * rule that moves their calls into a batched logical node ({@link ExtractLlmGenerate}), the planner strategy that
 * runs that node as {@code LlmGenerateExec}, and an analysis check ({@link LlmGenerateChecks}) that refuses calls
 * in GROUP BY or inside aggregates with a clear message.
 *
 * <p>Every session gets them as soon as Ember's jar is on the driver's class path: the class is a
 * {@link SparkSessionExtensionsProvider} listed in {@code META-INF/services}, which Spark loads when it builds a
 * session. So SQL resolves {@code llm_generate} with or without a prior DataFrame call, and without
 * {@code spark.sql.extensions} (setting it too is harmless: the rule and the check are idempotent).
 * {@link #install} remains for sessions built before the jar was loaded.
 */
public final class EmberExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit>
        implements SparkSessionExtensionsProvider {

    @Override
    public BoxedUnit apply(SparkSessionExtensions ext) {
        SqlFunctions.descriptions().forEach(ext::injectFunction);
        ext.injectResolutionRule(session -> new LlmGenerateChecks());
        ext.injectOptimizerRule(session -> new ExtractLlmGenerate());
        ext.injectPlannerStrategy(session -> new LlmGenerateStrategy());
        return BoxedUnit.UNIT;
    }

    /** Installs into the active session, if there is one (see {@link #install}). */
    public static void installInActiveSession() {
        SparkSession.getActiveSession().foreach(s -> {
            if (s instanceof org.apache.spark.sql.classic.SparkSession) {
                install(s);
            }
            return BoxedUnit.UNIT;
        });
    }

    /**
     * Adds Ember's functions, rule and strategy to a running session that was built without
     * {@code spark.sql.extensions}; a no-op where they are present. Idempotent.
     */
    public static synchronized void install(SparkSession session) {
        String configured = session.conf().get("spark.sql.extensions", "");
        if (configured.contains(EmberExtensions.class.getName())) {
            return;
        }
        org.apache.spark.sql.classic.SparkSession classic = (org.apache.spark.sql.classic.SparkSession) session;
        var experimental = classic.experimental();
        List<Rule<LogicalPlan>> rules = new ArrayList<>(CollectionConverters.asJava(experimental.extraOptimizations()));
        if (rules.stream().noneMatch(r -> r instanceof ExtractLlmGenerate)) {
            rules.add(new ExtractLlmGenerate());
            experimental.extraOptimizations_$eq(seq(rules));
        }
        List<SparkStrategy> strategies = new ArrayList<>(CollectionConverters.asJava(experimental.extraStrategies()));
        if (strategies.stream().noneMatch(s -> s instanceof LlmGenerateStrategy)) {
            strategies.add(new LlmGenerateStrategy());
            experimental.extraStrategies_$eq(seq(strategies));
        }
        var registry = classic.sessionState().functionRegistry();
        SqlFunctions.descriptions().forEach(d -> {
            // the session registry keys built-in functions by their qualified name, as SparkSessionExtensions does
            var id = builtinIdentifier(d._1());
            if (!registry.functionExists(id)) {
                registry.registerFunction(id, d._2(), d._3());
            }
        });
    }

    /**
     * The key Spark's function registry files a built-in function under: qualified since Spark 4.1
     * ({@code FunctionRegistry.builtinFunctionIdentifier}), the bare name in Spark 4.0.
     */
    private static org.apache.spark.sql.catalyst.FunctionIdentifier builtinIdentifier(
            org.apache.spark.sql.catalyst.FunctionIdentifier bare) {
        try {
            Object registry = org.apache.spark.sql.catalyst.analysis.FunctionRegistry$.MODULE$;
            return (org.apache.spark.sql.catalyst.FunctionIdentifier) registry.getClass()
                    .getMethod("builtinFunctionIdentifier", String.class).invoke(registry, bare.funcName());
        } catch (NoSuchMethodException e) {
            return bare;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Spark's FunctionRegistry.builtinFunctionIdentifier failed", e);
        }
    }

    private static <T> Seq<T> seq(List<T> list) {
        return CollectionConverters.asScala(list).toSeq();
    }
}
