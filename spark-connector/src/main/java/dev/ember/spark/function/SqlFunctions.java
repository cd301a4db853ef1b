package dev.ember.spark.function;

import dev.ember.ConfigException;
import dev.ember.spark.EmberSettings;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.sql.types.MapType;
import scala.Function1;
import scala.Tuple3;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SQL functions {@code llm_generate(prompt [, options])} and {@code llm_generate_chat(messages [, options])}.
 * A foldable options map (e.g. {@code map('max_tokens', '64', 'temperature', '0')}) is merged with the Spark
 * conf and validated when the query is analyzed; a map computed per row holds per-row sampling options, and a
 * bad one gives that row an error. Stateless.
 */
public final class SqlFunctions {
    public static final String GENERATE = "llm_generate";
    public static final String GENERATE_CHAT = "llm_generate_chat";

    private SqlFunctions() {
    }

    /** The descriptions {@code SparkSessionExtensions.injectFunction} takes. */
    public static List<Tuple3<FunctionIdentifier, ExpressionInfo, Function1<Seq<Expression>, Expression>>> descriptions() {
        return List.of(
                new Tuple3<>(FunctionIdentifier.apply(GENERATE), new ExpressionInfo(LlmGenerate.class.getName(), null,
                        GENERATE, "_FUNC_(prompt [, options]) - generates text for a string prompt with Ember's engine;"
                        + " options is a map of Ember options (constant: checked at planning) or of per-row sampling"
                        + " options. Returns struct<text, token_ids, finish_reason, prompt_tokens, completion_tokens,"
                        + " error>.", "", "", "", "misc_funcs", "", "", "built-in"),
                        args -> build(GENERATE, LlmGenerate.Kind.TEXT, args)),
                new Tuple3<>(FunctionIdentifier.apply(GENERATE_CHAT), new ExpressionInfo(LlmGenerate.class.getName(),
                        null, GENERATE_CHAT, "_FUNC_(messages [, options]) - generates the answer to chat messages,"
                        + " array<struct<role string, content string>>, rendered with the model's chat template.",
                        "", "", "", "misc_funcs", "", "", "built-in"),
                        args -> build(GENERATE_CHAT, LlmGenerate.Kind.CHAT, args)));
    }

    static Expression build(String name, LlmGenerate.Kind kind, Seq<Expression> args) {
        List<Expression> in = CollectionConverters.asJava(args);
        if (in.isEmpty() || in.size() > 2) {
            throw new ConfigException(name + " takes 1 or 2 arguments (" + (kind == LlmGenerate.Kind.CHAT
                    ? "messages" : "prompt") + " [, map of options]), got " + in.size());
        }
        List<Expression> children = new ArrayList<>(2);
        children.add(in.get(0));
        Map<String, String> callOptions = Map.of();
        if (in.size() == 2) {
            Expression options = in.get(1);
            if (!(options.dataType() instanceof MapType)) {
                throw new ConfigException(name + ": the second argument must be a map of options such as"
                        + " map('max_tokens', '64', 'temperature', '0'), got " + options.dataType().simpleString());
            }
            if (options.foldable()) {
                callOptions = toJava((MapData) options.eval(null), (MapType) options.dataType());
            } else {
                children.add(options);
            }
        }
        EmberSettings settings = CallSettings.resolve(callOptions);
        return LlmGenerate.of(children, settings, kind);
    }

    /**
     * A map value as strings (values of any type are written with toString); an entry with a null value is left
     * out, so {@code map('temperature', CASE WHEN ... END)} falls back to the call's value where it is null.
     * Null for a null map.
     */
    public static Map<String, String> toJava(MapData map, MapType type) {
        if (map == null) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < map.numElements(); i++) {
            Object k = map.keyArray().get(i, type.keyType());
            if (!map.valueArray().isNullAt(i)) {
                out.put(String.valueOf(k), map.valueArray().get(i, type.valueType()).toString());
            }
        }
        return out;
    }
}
