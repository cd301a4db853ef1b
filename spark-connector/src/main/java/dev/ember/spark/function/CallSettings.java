package dev.ember.spark.function;

import dev.ember.ConfigException;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.executor.ModelCache;
import org.apache.spark.sql.internal.SQLConf;
import scala.jdk.javaapi.CollectionConverters;

import java.util.List;
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

    /**
     * The validated settings of a call of {@code kind} with {@code callOptions}; a bad option throws a
     * {@link ConfigException}. A chat call's messages are the whole conversation, so the
     * options that turn a plain prompt into a chat ({@code system_prompt}, {@code chat}) would have no effect there:
     * given to such a call they fail (from the Spark conf or the properties file they are defaults for plain-prompt
     * calls and stay unused).
     */
    static EmberSettings resolve(Map<String, String> callOptions, LlmGenerate.Kind kind) {
        Map<String, String> given = EmberOptions.checkGivenTo("generate()/llm_generate", callOptions,
                EmberOptions.CALL_SCOPES);
        if (kind == LlmGenerate.Kind.CHAT) {
            for (String name : List.of(EmberOptions.SYSTEM_PROMPT.name(), EmberOptions.CHAT.name())) {
                if (given.containsKey(name)) {
                    throw ConfigException.invalid(name, given.get(name), "not set on a chat call (llm_generate_chat,"
                            + " generateChat, generate(prompt, systemPrompt)), whose messages are the whole chat: put a"
                            + " system message in the messages, or use generate(prompt) / llm_generate(prompt) with "
                            + name);
                }
            }
        }
        Map<String, String> conf = CollectionConverters.asJava(SQLConf.get().getAllConfs());
        EmberSettings settings = EmberSettings.resolve(EmberOptions.merge(conf, given, System.getenv()));
        ModelCache.checkLocal(settings.model());
        return settings;
    }
}
