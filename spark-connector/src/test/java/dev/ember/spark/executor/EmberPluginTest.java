package dev.ember.spark.executor;

import dev.ember.engine.Engine;
import dev.ember.spark.SparkTestSupport;
import dev.ember.spark.function.EmberFunctions;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** spark.plugins=EmberPlugin: preload at executor start, the preloaded engine serves the queries, shutdown closes it. */
class EmberPluginTest {

    @Test
    void preloadsTheConfEngineAndClosesItAtShutdown(@TempDir Path cacheDir) {
        EngineRegistry.closeAll();
        Map<String, String> options = SparkTestSupport.baseOptions(cacheDir);
        options.put("preload", "true");
        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName("ember-plugin-test")
                .config("spark.ui.enabled", "false")
                .config("spark.plugins", EmberPlugin.class.getName())
                .config(prefixed(options))
                .getOrCreate();
        try {
            Map<EngineKey, Engine> loaded = EngineRegistry.engines();
            assertEquals(1, loaded.size(), "the plugin loaded the engine before any query: " + loaded.keySet());
            EngineKey key = loaded.keySet().iterator().next();
            assertTrue(key.model().startsWith("demo (cache "), "the demo model, keyed with its cache: " + key.model());
            Engine preloaded = loaded.get(key);
            assertEquals(0, EngineRegistry.leases(key), "the preload lease was given back");

            List<Row> rows = spark.createDataFrame(List.of(new Prompt("hello"), new Prompt("world")), Prompt.class)
                    .select(EmberFunctions.generate(col("prompt")).getField("completion_tokens").alias("n"))
                    .collectAsList();
            assertEquals(2, rows.size());
            assertTrue(rows.get(0).getInt(0) > 0);
            assertEquals(1, EngineRegistry.engines().size(), "the query used the preloaded engine");
            assertSame(preloaded, EngineRegistry.engines().get(key));
        } finally {
            spark.stop();
        }
        assertTrue(EngineRegistry.engines().isEmpty(), "executor shutdown closed the engines");
    }

    private static Map<String, Object> prefixed(Map<String, String> options) {
        Map<String, Object> out = new java.util.HashMap<>();
        options.forEach((k, v) -> out.put("spark.ember." + k, v));
        return out;
    }

    /** A bean for createDataFrame. */
    public static final class Prompt {
        private String prompt;

        public Prompt() {
        }

        Prompt(String prompt) {
            this.prompt = prompt;
        }

        public String getPrompt() {
            return prompt;
        }

        public void setPrompt(String prompt) {
            this.prompt = prompt;
        }
    }
}
