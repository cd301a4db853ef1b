package dev.ember.spark.function;

import dev.ember.ConfigException;
import dev.ember.spark.EmberSettings;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.NullType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
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

    private static final String OPTIONS_ARGUMENT = ""
            + "      * options - optional map<string, string> of Ember options (snake_case names, see the connector\n"
            + "          guide's table). A constant map is checked when the query is analyzed (model, engine, sampling\n"
            + "          and per-call options: map('model', '/models/qwen', 'max_tokens', '64', 'temperature', '0'));\n"
            + "          a map computed per row holds per-row sampling options, and a bad one gives that row an error.\n"
            + "          Options not given come from spark.ember.* in the Spark conf.\n  ";
    private static final String RESULT_NOTE = "\n"
            + "    Returns struct<text string, token_ids array<int>, finish_reason string, prompt_tokens int,\n"
            + "    completion_tokens int, error string>; a bad row (null, empty or too long prompt) gets a null text\n"
            + "    and its message in error, or fails the query with fail_on_error=true. Not allowed in GROUP BY or\n"
            + "    inside aggregate functions: generate in a subquery first.\n  ";

    /** The descriptions {@code SparkSessionExtensions.injectFunction} takes; DESCRIBE FUNCTION EXTENDED shows them. */
    public static List<Tuple3<FunctionIdentifier, ExpressionInfo, Function1<Seq<Expression>, Expression>>> descriptions() {
        return List.of(
                new Tuple3<>(FunctionIdentifier.apply(GENERATE), info(GENERATE,
                        "_FUNC_(prompt [, options]) - Generates text for a string prompt with Ember's engine, batched"
                                + " per partition on the executor's shared engine.",
                        "\n    Arguments:\n"
                                + "      * prompt - a string column: the prompt (rendered through the model's chat template\n"
                                + "          with the chat or system_prompt option).\n" + OPTIONS_ARGUMENT,
                        "\n    Examples:\n"
                                + "      > SELECT _FUNC_(question, map('max_tokens', '64', 'temperature', '0')).text FROM questions;\n"
                                + "      > SELECT r.text, r.finish_reason FROM (SELECT _FUNC_(question) AS r FROM questions);\n"
                                + "      > SELECT _FUNC_(question, map('temperature', CAST(t AS STRING))) FROM questions;\n  "),
                        args -> build(GENERATE, LlmGenerate.Kind.TEXT, args)),
                new Tuple3<>(FunctionIdentifier.apply(GENERATE_CHAT), info(GENERATE_CHAT,
                        "_FUNC_(messages [, options]) - Generates the answer to chat messages, rendered with the"
                                + " model's chat template.",
                        "\n    Arguments:\n"
                                + "      * messages - array<struct<role string, content string>>, e.g.\n"
                                + "          array(named_struct('role', 'user', 'content', question)).\n" + OPTIONS_ARGUMENT,
                        "\n    Examples:\n"
                                + "      > SELECT _FUNC_(array(named_struct('role', 'system', 'content', 'Be brief.'),\n"
                                + "          named_struct('role', 'user', 'content', question))).text FROM questions;\n  "),
                        args -> build(GENERATE_CHAT, LlmGenerate.Kind.CHAT, args)));
    }

    private static ExpressionInfo info(String name, String usage, String arguments, String examples) {
        // ExpressionInfo requires the arguments and examples blocks to start with "\n    Arguments:" / "Examples:"
        return new ExpressionInfo(LlmGenerate.class.getName(), null, name, usage, arguments, examples, RESULT_NOTE,
                "misc_funcs", "", "", "built-in");
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
            String problem = mapTypeProblem((MapType) options.dataType());
            if (problem != null) {
                throw new ConfigException(name + ": the options map " + problem);
            }
            if (options.foldable()) {
                callOptions = toJava((MapData) options.eval(null), (MapType) options.dataType());
            } else {
                children.add(options);
            }
        }
        EmberSettings settings = CallSettings.resolve(callOptions, kind);
        return LlmGenerate.of(children, settings, kind);
    }

    /**
     * Why a map of {@code type} cannot hold Ember options, or null: keys are option names (strings), values strings,
     * numbers or booleans, which {@link #toJava} writes as their text. Any other value (an array for {@code stop}, a
     * struct, a date) would be written as an object's toString, not as the option's syntax.
     */
    public static String mapTypeProblem(MapType type) {
        DataType v = type.valueType();
        boolean scalar = v instanceof StringType || v instanceof NumericType || v instanceof BooleanType
                || v instanceof NullType;
        // map() is map<void, void>: no options
        if ((type.keyType() instanceof StringType || type.keyType() instanceof NullType) && scalar) {
            return null;
        }
        return "must be a map<string, string> (numbers and booleans are read as their text), got "
                + type.simpleString() + "; write a list option such as stop as a JSON array in a string: '[\"a\", \"b\"]'";
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
