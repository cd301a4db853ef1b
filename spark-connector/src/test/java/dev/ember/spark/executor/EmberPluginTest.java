package dev.ember.spark.executor;

import dev.ember.engine.Engine;
import dev.ember.spark.SparkTestSupport;
import dev.ember.spark.function.EmberFunctions;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import dev.ember.ConfigException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.plugin.PluginContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    /** The plugin reads preload like every other option: any spelling of the name, a checked value. */
    @Test
    void preloadIsReadInAnySpellingAndABadValueIsNamed(@TempDir Path cacheDir) {
        EngineRegistry.closeAll();
        try {
            SparkConf conf = new SparkConf(false);
            SparkTestSupport.baseOptions(cacheDir).forEach((k, v) -> conf.set("spark.ember." + k, v));
            conf.set("spark.ember.PRELOAD", "true");
            new EmberPlugin.Executor().init(context(conf), Map.of());
            assertEquals(1, EngineRegistry.engines().size(), "spark.ember.PRELOAD=true was ignored");

            EngineRegistry.closeAll();
            SparkConf bad = conf.clone().remove("spark.ember.PRELOAD").set("spark.ember.preload", "yes");
            ConfigException e = assertThrows(ConfigException.class,
                    () -> new EmberPlugin.Executor().init(context(bad), Map.of()));
            assertTrue(e.getMessage().contains("'preload'") && e.getMessage().contains("'yes'"), e.getMessage());
            assertTrue(EngineRegistry.engines().isEmpty());
        } finally {
            EngineRegistry.closeAll();
        }
    }

    private static PluginContext context(SparkConf conf) {
        return new PluginContext() {
            @Override
            public com.codahale.metrics.MetricRegistry metricRegistry() {
                return new com.codahale.metrics.MetricRegistry();
            }

            @Override
            public SparkConf conf() {
                return conf;
            }

            @Override
            public String executorID() {
                return "test";
            }

            @Override
            public String hostname() {
                return "localhost";
            }

            @Override
            public java.util.Map<String, org.apache.spark.resource.ResourceInformation> resources() {
                return Map.of();
            }

            @Override
            public void send(Object message) {
            }

            @Override
            public Object ask(Object message) {
                return null;
            }
        };
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
