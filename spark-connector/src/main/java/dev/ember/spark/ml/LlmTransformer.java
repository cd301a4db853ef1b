package dev.ember.spark.ml;

import dev.ember.ConfigException;
import dev.ember.option.Option;
import dev.ember.sampling.SamplingOptions;
import dev.ember.sampling.SamplingParams;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.function.EmberFunctions;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Spark ML {@link Transformer} that adds a column of generations ({@link GenerationSchema#STRUCT}) for a string
 * input column: {@code transform} is {@code withColumn(outputCol, EmberFunctions.generate(col(inputCol), options))}.
 * Params: inputCol, outputCol (default {@code generation}), and one param per Ember option a call reads (engine,
 * sampling and per-call connector options of {@link EmberOptions#REGISTRY}), named like the option
 * ({@code max_tokens}, {@code temperature}, {@code model}, ...) and typed like it (IntParam, DoubleParam, ...).
 * Unset params fall back to the session's {@code spark.ember.*} conf. Set them with {@link #setOption} or the typed
 * setters. Savable in pipelines ({@link DefaultParamsWritable}); load with {@link #load(String)} or through
 * {@code PipelineModel.load}.
 */
public final class LlmTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    /** One param per option, by option name; built from the registry, so a new option gets its param. */
    private final Map<String, Param<?>> optionParams = new LinkedHashMap<>();
    private final Param<?>[] allParams;

    public LlmTransformer() {
        this(Identifiable.randomUID("llm"));
    }

    /** The constructor Spark's loader calls. */
    public LlmTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "the string column holding the prompts");
        outputCol = new Param<>(this, "outputCol", "the struct column of generations to add (default generation)");
        List<Param<?>> all = new ArrayList<>(List.of(inputCol, outputCol));
        for (Option<?> o : EmberOptions.REGISTRY.all()) {
            if (EmberOptions.CALL_SCOPES.contains(o.scope())) {
                Param<?> p = param(o);
                optionParams.put(o.name(), p);
                all.add(p);
            }
        }
        allParams = all.toArray(new Param<?>[0]);
        setDefault(outputCol, "generation");
    }

    private Param<?> param(Option<?> o) {
        String doc = o.describe();
        Class<?> t = o.type();
        if (t == Integer.class) {
            return new IntParam(this, o.name(), doc);
        } else if (t == Long.class) {
            return new LongParam(this, o.name(), doc);
        } else if (t == Double.class) {
            return new DoubleParam(this, o.name(), doc);
        } else if (t == Boolean.class) {
            return new BooleanParam(this, o.name(), doc);
        }
        return new Param<String>(this, o.name(), doc);
    }

    /** Spark ML finds params by reflection over getters; the option params are built at run time, so list them. */
    @Override
    public Param<?>[] params() {
        return allParams.clone();
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }

    /** The param of option {@code name} (any spelling the registry accepts); an unknown name suggests one. */
    public Param<?> optionParam(String name) {
        String canonical = EmberOptions.canonical(name);
        Param<?> p = optionParams.get(canonical);
        if (p == null) {
            throw new ConfigException("option '" + canonical + "' is " + EmberOptions.REGISTRY.get(canonical).scope()
                    .description() + "; LlmTransformer does not read it");
        }
        return p;
    }

    /**
     * Sets option {@code name}: {@code value} is the option's type (a number, a boolean, a string) or its string
     * form, checked now against the option's rule so a bad value fails here, naming the option.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public LlmTransformer setOption(String name, Object value) {
        Param p = optionParam(name);
        Option<?> o = EmberOptions.REGISTRY.get(p.name());
        Object typed = o.parse(String.valueOf(value));
        set(p, o.type() == Integer.class || o.type() == Long.class || o.type() == Double.class
                || o.type() == Boolean.class ? typed : String.valueOf(value));
        return this;
    }

    public LlmTransformer setInputCol(String v) { set(inputCol, v); return this; }
    public LlmTransformer setOutputCol(String v) { set(outputCol, v); return this; }
    public LlmTransformer setModel(String v) { return setOption("model", v); }
    public LlmTransformer setMaxTokens(int v) { return setOption("max_tokens", v); }
    public LlmTransformer setTemperature(double v) { return setOption("temperature", v); }
    public LlmTransformer setSystemPrompt(String v) { return setOption("system_prompt", v); }
    /**
     * Sets every option of {@code options} ({@link #setOption}); one option in two spellings with different values
     * fails ({@link EmberOptions#canonicalize}) rather than the map's order choosing.
     */
    public LlmTransformer setOptions(Map<String, String> options) {
        EmberOptions.canonicalize(options).forEach(this::setOption);
        return this;
    }

    public String getInputCol() { return $(inputCol); }
    public String getOutputCol() { return $(outputCol); }
    /** The value of option {@code name}, or null where it is not set. */
    public Object getOption(String name) {
        Param<?> p = optionParam(name);
        return isDefined(p) ? $(p) : null;
    }

    /** The Ember options of this transformer's call: every option param that is set, by option name. */
    public Map<String, String> emberOptions() {
        Map<String, String> o = new LinkedHashMap<>();
        for (Map.Entry<String, Param<?>> e : optionParams.entrySet()) {
            if (isDefined(e.getValue())) {
                o.put(e.getKey(), String.valueOf($(e.getValue())));
            }
        }
        return o;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        return dataset.toDF().withColumn($(outputCol),
                EmberFunctions.generate(dataset.col($(inputCol)), emberOptions()));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        if (!isDefined(inputCol)) {
            throw new IllegalArgumentException("LlmTransformer " + uid + ": set inputCol, the string column of prompts");
        }
        String in = $(inputCol);
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("LlmTransformer " + uid + ": input column '" + in + "' does not exist;"
                    + " columns: " + String.join(", ", schema.fieldNames()));
        }
        DataType type = schema.apply(in).dataType();
        if (!(type instanceof StringType)) {
            throw new IllegalArgumentException("LlmTransformer " + uid + ": input column '" + in + "' must be a string,"
                    + " got " + type.simpleString());
        }
        String out = $(outputCol);
        if (Arrays.asList(schema.fieldNames()).contains(out)) {
            throw new IllegalArgumentException("LlmTransformer " + uid + ": output column '" + out + "' already exists");
        }
        return schema.add(out, generationStruct(), false);
    }

    /**
     * The struct transform's column has: the sampling options (this transformer's over the session's
     * {@code spark.ember.*} conf) decide its typed {@code value} (return_type) and its logprobs, confidence and
     * choice_probs fields. Resolved without the model, so a schema can be asked for before one is set.
     */
    private StructType generationStruct() {
        Map<String, String> conf = scala.jdk.javaapi.CollectionConverters.asJava(
                org.apache.spark.sql.internal.SQLConf.get().getAllConfs());
        Map<String, String> merged = EmberOptions.merge(conf, emberOptions(), System.getenv());
        return GenerationSchema.structFor(SamplingOptions.apply(merged, SamplingParams.builder()));
    }

    @Override
    public LlmTransformer copy(ParamMap extra) {
        return (LlmTransformer) defaultCopy(extra);
    }

    /** The reader {@code PipelineModel.load} finds by reflection. */
    public static MLReader<LlmTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static LlmTransformer load(String path) {
        return read().load(path);
    }
}
