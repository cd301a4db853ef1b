package dev.ember.spark.executor;

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

        /** Whether the Spark conf sets {@code preload} ({@link EmberOptions#confValue}: any spelling, checked). */
        static boolean preload(Map<String, String> conf) {
            String v = EmberOptions.confValue(conf, EmberOptions.PRELOAD);
            return v != null && EmberOptions.PRELOAD.parse(v);
        }

        @Override
        public void shutdown() {
            EngineRegistry.closeAll();
        }
    }
}
