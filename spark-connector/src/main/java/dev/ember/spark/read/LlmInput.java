package dev.ember.spark.read;

import dev.ember.ConfigException;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.executor.ModelCache;
import org.apache.spark.Partition;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.datasources.FileFormat$;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import scala.Function1;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The driver's plan of a {@code format("llm")} read: the validated settings, and the input dataset planned as
 * Spark's own file scan ({@link FileSourceScanExec}), whose splits become the input partitions and whose file
 * format's reader function ({@code buildReaderWithPartitionValues}, serializable, the one Spark ships to
 * executors itself) reads them on the executors. Driver-only; not serializable.
 */
final class LlmInput {
    /** Reader options with this prefix go, without it, to the input's own reader (e.g. {@code input.header}). */
    static final String INPUT_OPTION_PREFIX = "input.";
    /** {@code inputFormat=table} reads {@code input} as a table name. */
    static final String TABLE_FORMAT = "table";

    private final EmberSettings settings;
    private final FileSourceScanExec scan;
    private final StructType inputSchema;
    private final int promptOrdinal;

    private LlmInput(EmberSettings settings, FileSourceScanExec scan, StructType inputSchema, int promptOrdinal) {
        this.settings = settings;
        this.scan = scan;
        this.inputSchema = inputSchema;
        this.promptOrdinal = promptOrdinal;
    }

    /**
     * Validates the reader's options (merged with the session's {@code spark.ember.*} conf) and plans the input.
     * Fails with a {@link ConfigException} naming the option: unknown option, bad value, no input, a local model
     * directory that does not exist, an input that is not a file scan, a missing or non-string prompt column, an
     * input column named like a generation column.
     */
    static LlmInput plan(SparkSession spark, Map<String, String> options) {
        Map<String, String> call = new LinkedHashMap<>();
        Map<String, String> inputOptions = new LinkedHashMap<>();
        String path = null;
        for (Map.Entry<String, String> e : options.entrySet()) {
            String k = e.getKey();
            if (k.regionMatches(true, 0, INPUT_OPTION_PREFIX, 0, INPUT_OPTION_PREFIX.length())) {
                inputOptions.put(k.substring(INPUT_OPTION_PREFIX.length()), e.getValue());
            } else if (k.equalsIgnoreCase("path")) {
                path = e.getValue();
            } else if (k.equalsIgnoreCase("paths")) {
                throw new ConfigException("format(\"llm\") reads one input: give it as option '" + EmberOptions.INPUT
                        + "' or load(path), not load(path1, path2, ...)");
            } else {
                call.put(k, e.getValue());
            }
        }
        if (path != null) {
            if (call.keySet().stream().anyMatch(EmberOptions.INPUT::equalsIgnoreCase)) {
                throw new ConfigException("format(\"llm\") got both load(\"" + path + "\") and option '"
                        + EmberOptions.INPUT + "'; give the input once");
            }
            call.put(EmberOptions.INPUT, path);
        }
        Map<String, String> sparkConf = CollectionConverters.asJava(spark.conf().getAll());
        EmberSettings settings = EmberSettings.resolve(EmberOptions.merge(sparkConf, call, System.getenv()));
        if (settings.input() == null || settings.input().isBlank()) {
            throw ConfigException.invalid(EmberOptions.INPUT, settings.input(), "the input dataset: a path"
                    + " (.option(\"input\", path) or .load(path)) or a table name");
        }
        checkModel(settings.model());
        FileSourceScanExec scan = fileScan(read(spark, settings, inputOptions), settings);
        List<StructField> fields = new ArrayList<>(List.of(scan.requiredSchema().fields()));
        fields.addAll(List.of(scan.relation().partitionSchema().fields()));
        StructType inputSchema = new StructType(fields.toArray(new StructField[0]));
        checkNoClash(inputSchema);
        return new LlmInput(settings, scan, inputSchema, promptOrdinal(inputSchema, settings.promptColumn()));
    }

    EmberSettings settings() {
        return settings;
    }

    String promptColumn() {
        return inputSchema.fields()[promptOrdinal].name();
    }

    /** The input's columns, then the generation columns. */
    StructType outputSchema() {
        List<StructField> fields = new ArrayList<>(List.of(inputSchema.fields()));
        fields.addAll(List.of(GenerationSchema.STRUCT.fields()));
        return new StructType(fields.toArray(new StructField[0]));
    }

    /** One partition per split of Spark's own file scan of the input (the same bin packing and bucketing). */
    InputPartition[] partitions() {
        Partition[] splits = scan.inputRDD().partitions();
        InputPartition[] out = new InputPartition[splits.length];
        for (int i = 0; i < splits.length; i++) {
            out[i] = new LlmPartition((FilePartition) splits[i]);
        }
        return out;
    }

    /** The executors' reader factory: the format's row reader function (not batches) and the Hadoop conf. */
    LlmReaderFactory readerFactory() {
        HadoopFsRelation relation = scan.relation();
        SparkSession session = relation.sparkSession();
        scala.collection.immutable.Map<String, String> readOptions =
                relation.options().updated(FileFormat$.MODULE$.OPTION_RETURNING_BATCH(), "false");
        Function1<PartitionedFile, Iterator<InternalRow>> readFile = relation.fileFormat().buildReaderWithPartitionValues(
                session, relation.dataSchema(), relation.partitionSchema(), scan.requiredSchema(),
                scan.pushedDownFilters(), readOptions, relation.getHadoopConf(session, relation.options()));
        var hadoopConf = JavaSparkContext.fromSparkContext(session.sparkContext())
                .broadcast(new SerializableConfiguration(relation.getHadoopConf(session)));
        return new LlmReaderFactory(settings, readFile, inputSchema, promptOrdinal, hadoopConf);
    }

    private static void checkModel(String model) {
        if (ModelCache.isLocalPath(model) && !Files.isDirectory(Path.of(model))) {
            throw ConfigException.invalid("model", model, "an existing checkpoint directory (config.json,"
                    + " *.safetensors, tokenizer.json), a Hadoop URI (hdfs://, s3a://, file://) or '"
                    + EmberSettings.DEMO_MODEL + "'; this directory does not exist");
        }
    }

    private static Dataset<Row> read(SparkSession spark, EmberSettings settings, Map<String, String> inputOptions) {
        String input = settings.input().trim();
        String format = settings.inputFormat().trim();
        boolean table = TABLE_FORMAT.equalsIgnoreCase(format) || isTable(spark, input);
        try {
            return table ? spark.table(input) : spark.read().format(format).options(inputOptions).load(input);
        } catch (Exception e) { // AnalysisException (path not found, unknown format) is a checked exception
            throw new ConfigException("format(\"llm\") cannot read input '" + input + "' as "
                    + (table ? "a table" : format + " (option " + EmberOptions.INPUT_FORMAT + ")") + ": "
                    + e.getMessage(), e);
        }
    }

    // A name without path separators that the catalog knows is a table; anything else is a path.
    private static boolean isTable(SparkSession spark, String input) {
        if (input.contains("/") || input.contains("\\") || input.contains(":")) {
            return false;
        }
        try {
            return spark.catalog().tableExists(input);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static FileSourceScanExec fileScan(Dataset<Row> input, EmberSettings settings) {
        SparkPlan plan = input.queryExecution().sparkPlan();
        if (plan instanceof FileSourceScanExec scan) {
            return scan;
        }
        throw new ConfigException("format(\"llm\") reads a file-based input split by split, but input '"
                + settings.input() + "' plans as " + plan.nodeName() + " rather than one file scan (a view, a query"
                + " or a non-file source); load it as a DataFrame and use generate() on its prompt column instead");
    }

    private static int promptOrdinal(StructType schema, String promptColumn) {
        StructField[] fields = schema.fields();
        int found = -1;
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].name().equals(promptColumn)) {
                found = i;
                break;
            }
            if (found < 0 && fields[i].name().equalsIgnoreCase(promptColumn)) {
                found = i;
            }
        }
        if (found < 0) {
            throw ConfigException.invalid(EmberOptions.PROMPT_COLUMN, promptColumn, "a string column of the input;"
                    + " its columns are " + describe(schema));
        }
        if (!(fields[found].dataType() instanceof StringType)) {
            throw ConfigException.invalid(EmberOptions.PROMPT_COLUMN, promptColumn, "a string column; column '"
                    + fields[found].name() + "' has type " + fields[found].dataType().simpleString()
                    + " (cast it to string in the input, or choose another column)");
        }
        return found;
    }

    private static void checkNoClash(StructType inputSchema) {
        for (StructField f : inputSchema.fields()) {
            for (String generated : GenerationSchema.STRUCT.fieldNames()) {
                if (f.name().equalsIgnoreCase(generated)) {
                    throw new ConfigException("format(\"llm\"): input column '" + f.name() + "' has the name of a"
                            + " generation column (" + String.join(", ", GenerationSchema.STRUCT.fieldNames())
                            + "); rename it in the input, or load the input as a DataFrame and use generate()");
                }
            }
        }
    }

    private static String describe(StructType schema) {
        return java.util.Arrays.stream(schema.fields())
                .map(f -> f.name() + " " + f.dataType().simpleString().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
    }
}
