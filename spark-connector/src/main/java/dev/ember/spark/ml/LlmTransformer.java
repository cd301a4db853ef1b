package dev.ember.spark.ml;

import dev.ember.spark.GenerationSchema;
import dev.ember.spark.function.EmberFunctions;
import org.apache.spark.ml.Transformer;
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

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Spark ML {@link Transformer} that adds a column of generations ({@link GenerationSchema#STRUCT}) for a string
 * input column: {@code transform} is {@code withColumn(outputCol, EmberFunctions.generate(col(inputCol), options))}.
 * Params: inputCol, outputCol (default {@code generation}), model, maxTokens, temperature, topP, topK,
 * requestSeed, stop, systemPrompt, and {@code options} (any other Ember option; the named params win). Unset
 * params fall back to the session's {@code spark.ember.*} conf. Savable in pipelines
 * ({@link DefaultParamsWritable}); load with {@link #load(String)} or through {@code PipelineModel.load}.
 */
public final class LlmTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> model;
    private final IntParam maxTokens;
    private final DoubleParam temperature;
    private final DoubleParam topP;
    private final IntParam topK;
    private final LongParam requestSeed;
    private final Param<String> stop;
    private final Param<String> systemPrompt;
    private final StringMapParam options;

    public LlmTransformer() {
        this(Identifiable.randomUID("llm"));
    }

    /** The constructor Spark's loader calls. */
    public LlmTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "the string column holding the prompts");
        outputCol = new Param<>(this, "outputCol", "the struct column of generations to add (default generation)");
        model = new Param<>(this, "model", "checkpoint directory, Hadoop URI or 'demo' (default: spark.ember.model)");
        maxTokens = new IntParam(this, "maxTokens", "most tokens to generate, >= 1 (option max_tokens)");
        temperature = new DoubleParam(this, "temperature", "0 = greedy (option temperature)");
        topP = new DoubleParam(this, "topP", "nucleus mass in (0, 1] (option top_p)");
        topK = new IntParam(this, "topK", "keep the k most likely tokens; 0 disables (option top_k)");
        requestSeed = new LongParam(this, "requestSeed", "every row's sampling seed (option request_seed)");
        stop = new Param<>(this, "stop", "a stop string or a JSON array of them (option stop)");
        systemPrompt = new Param<>(this, "systemPrompt", "a system message; the prompt becomes the user turn");
        options = new StringMapParam(this, "options", "any other Ember options by name; the named params win");
        setDefault(outputCol, "generation");
        setDefault(options, Map.of());
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> model() { return model; }
    public IntParam maxTokens() { return maxTokens; }
    public DoubleParam temperature() { return temperature; }
    public DoubleParam topP() { return topP; }
    public IntParam topK() { return topK; }
    public LongParam requestSeed() { return requestSeed; }
    public Param<String> stop() { return stop; }
    public Param<String> systemPrompt() { return systemPrompt; }
    public StringMapParam options() { return options; }

    public LlmTransformer setInputCol(String v) { set(inputCol, v); return this; }
    public LlmTransformer setOutputCol(String v) { set(outputCol, v); return this; }
    public LlmTransformer setModel(String v) { set(model, v); return this; }
    public LlmTransformer setMaxTokens(int v) { set(maxTokens, v); return this; }
    public LlmTransformer setTemperature(double v) { set(temperature, v); return this; }
    public LlmTransformer setTopP(double v) { set(topP, v); return this; }
    public LlmTransformer setTopK(int v) { set(topK, v); return this; }
    public LlmTransformer setRequestSeed(long v) { set(requestSeed, v); return this; }
    public LlmTransformer setStop(String v) { set(stop, v); return this; }
    public LlmTransformer setSystemPrompt(String v) { set(systemPrompt, v); return this; }
    public LlmTransformer setOptions(Map<String, String> v) { set(options, new LinkedHashMap<>(v)); return this; }

    public String getInputCol() { return $(inputCol); }
    public String getOutputCol() { return $(outputCol); }
    public int getMaxTokens() { return (Integer) $(maxTokens); }
    public double getTemperature() { return (Double) $(temperature); }
    public Map<String, String> getOptions() { return $(options); }

    /** The Ember options of this transformer's call: {@code options}, then the named params that are set. */
    public Map<String, String> emberOptions() {
        Map<String, String> o = new LinkedHashMap<>($(options));
        put(o, "model", model);
        put(o, "max_tokens", maxTokens);
        put(o, "temperature", temperature);
        put(o, "top_p", topP);
        put(o, "top_k", topK);
        put(o, "request_seed", requestSeed);
        put(o, "stop", stop);
        put(o, "systemPrompt", systemPrompt);
        return o;
    }

    private void put(Map<String, String> o, String option, Param<?> p) {
        if (isDefined(p)) {
            o.put(option, String.valueOf($(p)));
        }
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
        return schema.add(out, GenerationSchema.STRUCT, false);
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
