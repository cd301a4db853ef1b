package dev.ember.spark;

import dev.ember.engine.Engine;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.spark.executor.ModelCache;
import dev.ember.spark.executor.RowInput;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec;
import org.apache.spark.sql.execution.adaptive.QueryStageExec;
import dev.ember.spark.plan.LlmGenerateExec;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared helpers of the connector's Spark tests: sessions on the demo model and direct-engine expectations. */
public final class SparkTestSupport {
    private SparkTestSupport() {
    }

    /** Options every test session sets: the demo model, a small CPU KV cache, short outputs. */
    public static Map<String, String> baseOptions(Path cacheDir) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("model", "demo");
        o.put("cache_dir", cacheDir.toString());
        o.put("cpu_kv_cache_mb", "16");
        o.put("num_threads", "1");
        o.put("max_tokens", "8");
        return o;
    }

    /** A session with Ember's extensions, the UI off, two shuffle partitions (AQE on, Spark's default) and {@code options} as spark.ember.*. */
    public static SparkSession session(String master, Map<String, String> options) {
        SparkSession.Builder b = SparkSession.builder()
                .master(master)
                .appName("ember-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.extensions", EmberExtensions.class.getName());
        options.forEach((k, v) -> b.config(EmberOptions.SPARK_CONF_PREFIX + k, v));
        return b.getOrCreate();
    }

    /** What Engine.generate gives for {@code prompts} on a fresh engine with the settings of {@code options}. */
    public static List<Result> expected(Map<String, String> options, List<String> prompts) {
        EmberSettings settings = EmberSettings.resolve(options);
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(RowInput.of(settings, i, "expected-" + i, prompts.get(i), null, null).request());
        }
        return generate(settings, requests);
    }

    /** What Engine.generate gives for {@code requests} on a fresh engine with {@code settings}. */
    public static List<Result> generate(EmberSettings settings, List<Request> requests) {
        Path local = ModelCache.localize(settings.model(), Path.of(settings.cacheDir()), new Configuration());
        try (Engine engine = Engine.create(settings.engineConfig(local, null))) {
            return engine.generate(requests);
        }
    }

    /** Asserts a result struct row equals an engine result field by field. */
    public static void assertSameResult(Result expected, Row actual, String where) {
        assertEquals(expected.text(), actual.getAs("text"), where + ": text");
        List<Integer> ids = actual.getList(actual.fieldIndex("token_ids"));
        assertArrayEquals(expected.tokenIds(), ids.stream().mapToInt(Integer::intValue).toArray(), where + ": token ids");
        assertEquals(expected.finishReason().wireName(), actual.getAs("finish_reason"), where + ": finish reason");
        assertEquals(expected.promptTokens(), (int) actual.<Integer>getAs("prompt_tokens"), where + ": prompt tokens");
        assertEquals(expected.completionTokens(), (int) actual.<Integer>getAs("completion_tokens"), where + ": completion tokens");
        assertEquals(expected.error(), actual.getAs("error"), where + ": error");
    }

    /** Prompts "prompt 0" ... of varied lengths. */
    public static List<String> prompts(int n) {
        List<String> out = new ArrayList<>(n);
        String[] words = {"the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "again"};
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder("prompt " + i + ":");
            for (int w = 0; w <= i % 7; w++) {
                sb.append(' ').append(words[(i + w) % words.length]);
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** The message of {@code t} and all its causes, for asserting on errors Spark wraps. */
    public static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage()).append('\n');
        }
        return sb.toString();
    }

    /** The LlmGenerateExec operators of an executed plan, top first. */
    public static List<LlmGenerateExec> generateExecs(SparkPlan plan) {
        List<LlmGenerateExec> out = new ArrayList<>();
        if (plan instanceof LlmGenerateExec e) {
            out.add(e);
        }
        if (plan instanceof AdaptiveSparkPlanExec a) {
            out.addAll(generateExecs(a.executedPlan()));
        }
        if (plan instanceof QueryStageExec q) {
            out.addAll(generateExecs(q.plan()));
        }
        for (SparkPlan c : CollectionConverters.asJava(plan.children())) {
            out.addAll(generateExecs(c));
        }
        return out;
    }
}
