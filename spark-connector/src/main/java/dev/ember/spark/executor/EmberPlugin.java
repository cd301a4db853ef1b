package dev.ember.spark.executor;

import dev.ember.ConfigException;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.apache.spark.deploy.SparkHadoopUtil;

import java.util.Map;
import java.util.TreeMap;

/**
 * {@code spark.plugins=dev.ember.spark.executor.EmberPlugin}: closes the executor's engines when the executor
 * shuts down, and with {@code spark.ember.preload=true} loads the engine of the Spark conf's options (model,
 * engine options) when the executor starts, so the first task does not pay for the load.
 */
public final class EmberPlugin implements SparkPlugin {
    private static final Logger LOG = LoggerFactory.getLogger(EmberPlugin.class);

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new Executor();
    }

    static final class Executor implements ExecutorPlugin {
        @Override
        public void init(PluginContext ctx, Map<String, String> extraConf) {
            Map<String, String> conf = EmberOptions.entries(ctx.conf());
            if (!preload(conf)) {
                return;
            }
            EmberSettings settings = EmberSettings.resolve(EmberOptions.merge(conf, Map.of(), System.getenv()));
            Integer gpu = TaskDevice.gpuOrdinal(settings, ctx.resources());
            try (EngineLease lease = EngineRegistry.acquire(settings, gpu,
                    SparkHadoopUtil.get().newConfiguration(ctx.conf()))) {
                LOG.info("Ember preloaded engine {} on executor {}", lease.key().describe(), ctx.executorID());
            }
        }

        /**
         * Whether the Spark conf sets {@code preload}, in any spelling the registry accepts
         * ({@code spark.ember.PRELOAD}); a value other than true or false fails naming the option. Other entries are
         * left to the queries' own checks: a typo elsewhere must not stop an executor that preloads nothing.
         */
        static boolean preload(Map<String, String> conf) {
            boolean preload = false;
            for (Map.Entry<String, String> e : new TreeMap<>(conf).entrySet()) {
                if (!e.getKey().startsWith(EmberOptions.SPARK_CONF_PREFIX)) {
                    continue;
                }
                String name = e.getKey().substring(EmberOptions.SPARK_CONF_PREFIX.length());
                boolean isPreload;
                try {
                    isPreload = EmberOptions.canonical(name).equals(EmberOptions.PRELOAD.name());
                } catch (ConfigException unknown) {
                    continue;
                }
                if (isPreload) {
                    preload |= EmberOptions.PRELOAD.parse(e.getValue());
                }
            }
            return preload;
        }

        @Override
        public void shutdown() {
            EngineRegistry.closeAll();
        }
    }
}
