package dev.ember.spark.function;

import dev.ember.ConfigException;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.executor.ModelCache;
import org.apache.spark.sql.internal.SQLConf;
import scala.jdk.javaapi.CollectionConverters;

import java.util.Map;

/**
 * Resolves a call's options on the driver, at analysis time: the call's options over the session's
 * {@code spark.ember.*} conf over the properties file ({@link EmberOptions#merge}), validated by
 * {@link EmberSettings#resolve}. A local model directory that does not exist or would not load fails here, once,
 * instead of in every task ({@link ModelCache#checkLocal}). Stateless.
 */
public final class CallSettings {
    private CallSettings() {
    }

    /** The validated settings of a call with {@code callOptions}; a bad option throws a {@link ConfigException}. */
    public static EmberSettings resolve(Map<String, String> callOptions) {
        Map<String, String> conf = CollectionConverters.asJava(SQLConf.get().getAllConfs());
        EmberSettings settings = EmberSettings.resolve(EmberOptions.merge(conf,
                EmberOptions.checkGivenTo("generate()/llm_generate", callOptions, EmberOptions.CALL_SCOPES),
                System.getenv()));
        ModelCache.checkLocal(settings.model());
        return settings;
    }
}
