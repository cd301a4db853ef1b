package dev.ember.spark.function;

import dev.ember.ConfigException;
import dev.ember.spark.EmberExtensions;
import dev.ember.spark.EmberSettings;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.classic.ExpressionUtils;
import org.apache.spark.sql.functions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * LLM generation as DataFrame functions. Each returns a column of {@link dev.ember.spark.GenerationSchema#STRUCT}
 * (text, token_ids, finish_reason, prompt_tokens, completion_tokens, error). The call's options (any Ember option:
 * model, engine, sampling, connector) are merged with the session's {@code spark.ember.*} conf and validated when
 * the function is called, on the driver, so a bad option fails before any task runs.
 *
 * <p>The calls are evaluated by a batched operator that streams each partition through the executor's shared
 * engine; that needs {@code spark.sql.extensions=dev.ember.spark.EmberExtensions}, and where it is not set these
 * functions install Ember's rules into the active session themselves ({@link EmberExtensions#install}).
 * The same calls exist in SQL as {@code llm_generate(prompt [, map])} and {@code llm_generate_chat(messages [, map])}.
 * Over Spark Connect (a client session) the calls are sent as those SQL functions and resolved by the server.
 */
public final class EmberFunctions {
    private EmberFunctions() {
    }

    /** Generates from a string prompt column with the session's options. */
    public static Column generate(Column prompt) {
        return generate(prompt, Map.of());
    }

    /** Generates from a string prompt column; {@code options} override the session's {@code spark.ember.*} conf. */
    public static Column generate(Column prompt, Map<String, String> options) {
        return call(LlmGenerate.Kind.TEXT, prompt, null, options);
    }

    /**
     * Generates from a string prompt column with per-row sampling options: {@code rowOptions} is a
     * {@code map<string, string>} column (e.g. {@code map(lit("temperature"), col("t"))}); a row whose options are
     * invalid gets the error in its result instead of failing the job.
     */
    public static Column generate(Column prompt, Map<String, String> options, Column rowOptions) {
        return call(LlmGenerate.Kind.TEXT, prompt, rowOptions, options);
    }

    /** Generates the answer to a chat of a system message and a user message, both string columns. */
    public static Column generate(Column prompt, Column systemPrompt) {
        return generate(prompt, systemPrompt, Map.of());
    }

    /**
     * Generates the answer to a chat of a system message ({@code systemPrompt}; a null value leaves the system
     * message out) and a user message ({@code prompt}), rendered with the model's chat template.
     */
    public static Column generate(Column prompt, Column systemPrompt, Map<String, String> options) {
        Column user = message("user", prompt);
        Column messages = functions.when(systemPrompt.isNull(), functions.array(user))
                .otherwise(functions.array(message("system", systemPrompt), user));
        return generateChat(messages, options);
    }

    /** Generates from chat messages: an {@code array<struct<role: string, content: string>>} column. */
    public static Column generateChat(Column messages) {
        return generateChat(messages, Map.of());
    }

    /** Generates from chat messages with options over the session's conf. */
    public static Column generateChat(Column messages, Map<String, String> options) {
        return call(LlmGenerate.Kind.CHAT, messages, null, options);
    }

    /** Chat generation with a per-row {@code map<string, string>} column of sampling options. */
    public static Column generateChat(Column messages, Map<String, String> options, Column rowOptions) {
        return call(LlmGenerate.Kind.CHAT, messages, rowOptions, options);
    }

    /** One chat message struct (role, content) from a column. */
    public static Column message(String role, Column content) {
        return functions.struct(functions.lit(role).as("role"), content.cast("string").as("content"));
    }

    private static Column call(LlmGenerate.Kind kind, Column input, Column rowOptions, Map<String, String> options) {
        if (!classicSessionInUse()) {
            return sqlCall(kind, input, rowOptions, options);
        }
        return Classic.call(kind, input, rowOptions, options);
    }

    /**
     * Spark Connect: a client cannot build Ember's Catalyst expression, so the call is sent as the SQL function
     * ({@code llm_generate(input [, map])}), which the server's Ember extensions resolve, check and plan the same way
     * (options are checked on the server at analysis, still before any task). SQL takes one map: constant call options
     * or a per-row map, not both.
     */
    static Column sqlCall(LlmGenerate.Kind kind, Column input, Column rowOptions, Map<String, String> options) {
        String name = kind == LlmGenerate.Kind.CHAT ? SqlFunctions.GENERATE_CHAT : SqlFunctions.GENERATE;
        if (rowOptions != null && !options.isEmpty()) {
            throw new ConfigException("over Spark Connect, " + name + " takes either call options or a per-row"
                    + " options map, not both: set the call options as spark.ember.* on the server (or in the"
                    + " session conf) and pass the per-row map alone");
        }
        if (rowOptions != null) {
            return functions.call_function(name, input, rowOptions);
        }
        if (options.isEmpty()) {
            return functions.call_function(name, input);
        }
        List<Column> entries = new ArrayList<>();
        new java.util.TreeMap<>(options).forEach((k, v) -> {
            entries.add(functions.lit(k));
            entries.add(functions.lit(v));
        });
        return functions.call_function(name, input, functions.map(entries.toArray(new Column[0])));
    }

    /**
     * True unless the active session is a Spark Connect one or classic Spark SQL is not on the class path (a Connect
     * client's). Names the classic session by string: this class must load where that class does not exist.
     */
    private static boolean classicSessionInUse() {
        Class<?> classic;
        try {
            classic = Class.forName("org.apache.spark.sql.classic.SparkSession", false,
                    EmberFunctions.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            return false;
        }
        return !SparkSession.getActiveSession().exists(s -> !classic.isInstance(s));
    }

    /**
     * The calls in a classic session: Ember's Catalyst expression. Kept apart so that a Spark Connect client, whose
     * class path has no classic Spark SQL (no Catalyst), can load {@link EmberFunctions}: this class, whose
     * verification loads Catalyst classes, is loaded only where a classic session is in use.
     */
    private static final class Classic {
        static Column call(LlmGenerate.Kind kind, Column input, Column rowOptions, Map<String, String> options) {
            EmberExtensions.installInActiveSession();
            EmberSettings settings = CallSettings.resolve(options, kind);
            List<Expression> children = new ArrayList<>(2);
            children.add(ExpressionUtils.expression(input));
            if (rowOptions != null) {
                children.add(ExpressionUtils.expression(rowOptions));
            }
            return ExpressionUtils.column(LlmGenerate.of(children, settings, kind));
        }
    }
}
