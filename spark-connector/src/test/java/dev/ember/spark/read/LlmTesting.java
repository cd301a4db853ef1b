package dev.ember.spark.read;

import dev.ember.engine.Engine;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.SparkTestSupport;
import dev.ember.spark.executor.ModelCache;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/** Shared fixtures of the format("llm") tests: the session, the demo model's options, the engine's own answers. */
final class LlmTesting {
    private LlmTesting() {
    }

    /** local[2], no UI; the models' cache directory comes from the session conf (spark.ember.cache_dir). */
    static SparkSession session(Path tmp) {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("ember-llm-source-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.warehouse.dir", tmp.resolve("warehouse").toString())
                .config(EmberOptions.SPARK_CONF_PREFIX + EmberOptions.CACHE_DIR.name(), tmp.resolve("models").toString())
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }

    /** The demo model with a small KV cache and context, plus {@code keyValues}. */
    static Map<String, String> options(String... keyValues) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("model", "demo");
        o.put("cpu_kv_cache_mb", "16");
        o.put("max_model_len", "64");
        o.put("num_threads", "1");
        for (int i = 0; i < keyValues.length; i += 2) {
            o.put(keyValues[i], keyValues[i + 1]);
        }
        return o;
    }

    static String prompt(int i) {
        String[] words = {"the cat", "a dog sat on", "hello world, this is", "once upon a time", "zebra"};
        return words[i % words.length] + " number " + i + " " + "and more ".repeat(i % 3);
    }

    /** The engine's own answers for {@code prompts} under {@code options}, from a separate engine. */
    static List<Result> generate(Path tmp, Map<String, String> options, List<String> prompts) {
        Map<String, String> o = new LinkedHashMap<>(options);
        o.put(EmberOptions.CACHE_DIR.name(), tmp.resolve("models").toString());
        EmberSettings settings = EmberSettings.resolve(o);
        Path model = ModelCache.localize(settings.model(), Path.of(settings.cacheDir()), new Configuration());
        try (Engine engine = Engine.create(settings.engineConfig(model, null))) {
            List<Request> requests = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                requests.add(Request.ofText("expected-" + i, prompts.get(i), settings.samplingParams(Map.of())));
            }
            return engine.generate(requests);
        }
    }

    /** The generation struct of {@code row}, at column {@code column}, equals {@code expected} field by field. */
    static void assertResult(Result expected, Row row, int column, String what) {
        SparkTestSupport.assertSameResult(expected, row.getStruct(column), what);
    }
}
