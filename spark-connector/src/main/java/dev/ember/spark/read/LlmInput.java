package dev.ember.spark.read;

import dev.ember.ConfigException;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.InputFormats;
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
import org.apache.spark.sql.execution.datasources.v2.BatchScanExec;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import scala.Function1;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The driver's plan of a {@code format("llm")} read: the validated settings, and the input dataset planned by
 * Spark as one scan whose splits become the input partitions. A file source plans as a
 * {@link FileSourceScanExec}: its splits are the {@code FilePartition}s of Spark's own bin packing, read on the
 * executors by the file format's serializable reader function ({@code buildReaderWithPartitionValues}, the one
 * Spark ships itself). A DataSource V2 input plans as a {@link BatchScanExec}: its input partitions, read by its
 * own reader factory. Driver-only; not serializable.
 */
final class LlmInput {
    /** Reader options with this prefix go, without it, to the input's own reader (e.g. {@code input.header}). */
    static final String INPUT_OPTION_PREFIX = "input.";
    /** {@code inputFormat=table} reads {@code input} as a table name. */
    static final String TABLE_FORMAT = "table";

    private final SparkSession spark;
    private final EmberSettings settings;
    private final SparkPlan scan; // a FileSourceScanExec or a BatchScanExec
    private final StructType inputSchema;
    private final int promptOrdinal;

    private LlmInput(SparkSession spark, EmberSettings settings, SparkPlan scan, StructType inputSchema,
                     int promptOrdinal) {
        this.spark = spark;
        this.settings = settings;
        this.scan = scan;
        this.inputSchema = inputSchema;
        this.promptOrdinal = promptOrdinal;
    }

    /**
     * Validates the reader's options (merged with the session's {@code spark.ember.*} conf) and plans the input.
     * Fails with a {@link ConfigException} naming the option: unknown option, bad value, no input, a local model
     * directory that does not exist, an input that is not a file scan, a missing or non-string prompt column, an
     * input column named like the generation column ({@code output_column}).
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
                throw new ConfigException("format(\"llm\") reads one input: give it as option '" + EmberOptions.INPUT.name()
                        + "' or load(path), not load(path1, path2, ...)");
            } else {
                call.put(k, e.getValue());
            }
        }
        if (path != null) {
            if (call.keySet().stream().anyMatch(EmberOptions.INPUT.name()::equalsIgnoreCase)) {
                throw new ConfigException("format(\"llm\") got both load(\"" + path + "\") and option '"
                        + EmberOptions.INPUT.name() + "'; give the input once");
            }
            call.put(EmberOptions.INPUT.name(), path);
        }
        Map<String, String> sparkConf = CollectionConverters.asJava(spark.conf().getAll());
        EmberSettings settings = EmberSettings.resolve(EmberOptions.merge(sparkConf,
                EmberOptions.checkGivenTo("format(\"llm\")", call, EmberOptions.READER_SCOPES), System.getenv()));
        if (settings.input() == null || settings.input().isBlank()) {
            throw ConfigException.invalid(EmberOptions.INPUT.name(), settings.input(), "the input dataset: a path"
                    + " (.option(\"input\", path) or .load(path)) or a table name");
        }
        checkModel(settings.model());
        SparkPlan scan = scanOf(read(spark, settings, inputOptions), settings);
        StructType inputSchema;
        if (scan instanceof FileSourceScanExec fileScan) { // the reader function's rows: data, then partition values
            List<StructField> fields = new ArrayList<>(List.of(fileScan.requiredSchema().fields()));
            fields.addAll(List.of(fileScan.relation().partitionSchema().fields()));
            inputSchema = new StructType(fields.toArray(new StructField[0]));
        } else {
            inputSchema = ((BatchScanExec) scan).scan().readSchema();
        }
        checkNoClash(inputSchema, settings.outputColumn());
        return new LlmInput(spark, settings, scan, inputSchema, promptOrdinal(inputSchema, settings.promptColumn()));
    }

    EmberSettings settings() {
        return settings;
    }

    /** The kind of the input's scan, e.g. "file scan Parquet" or "V2 scan ParquetScan". */
    String scanName() {
        return scan instanceof FileSourceScanExec fileScan ? "file scan " + fileScan.relation().fileFormat()
                : "V2 scan " + ((BatchScanExec) scan).scan().getClass().getSimpleName();
    }

    String promptColumn() {
        return inputSchema.fields()[promptOrdinal].name();
    }

    /**
     * The input's columns, then the generation struct column ({@code output_column}): the same struct as
     * {@code generate()}'s ({@link GenerationSchema#structFor}), so no input column can clash with a result field.
     */
    StructType outputSchema() {
        return inputSchema.add(settings.outputColumn(), GenerationSchema.structFor(settings), false);
    }

    /** One partition per split of Spark's own scan of the input (the same bin packing and bucketing). */
    InputPartition[] partitions() {
        List<InputPartition> splits = new ArrayList<>();
        if (scan instanceof FileSourceScanExec fileScan) {
            for (Partition p : fileScan.inputRDD().partitions()) {
                splits.add((FilePartition) p);
            }
        } else {
            splits.addAll(CollectionConverters.asJava(((BatchScanExec) scan).inputPartitions()));
        }
        InputPartition[] out = new InputPartition[splits.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new LlmPartition(i, splits.get(i));
        }
        return out;
    }

    /** The executors' reader factory: how to read a split as rows, and the session's Hadoop conf. */
    LlmReaderFactory readerFactory() {
        SplitReader splits = scan instanceof FileSourceScanExec fileScan ? fileSplits(fileScan)
                : new V2Splits(((BatchScanExec) scan).readerFactory());
        var hadoopConf = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(new SerializableConfiguration(
                ((org.apache.spark.sql.classic.SparkSession) spark).sessionState().newHadoopConf()));
        return new LlmReaderFactory(settings, splits, inputSchema, outputSchema(), promptOrdinal, hadoopConf);
    }

    // The file format's row reader (returning_batch=false: rows, not columnar batches), as Spark's file scan builds it.
    private static FileSplits fileSplits(FileSourceScanExec scan) {
        HadoopFsRelation relation = scan.relation();
        SparkSession session = relation.sparkSession();
        scala.collection.immutable.Map<String, String> readOptions =
                relation.options().updated(FileFormat$.MODULE$.OPTION_RETURNING_BATCH(), "false");
        Function1<PartitionedFile, Iterator<InternalRow>> readFile = relation.fileFormat().buildReaderWithPartitionValues(
                session, relation.dataSchema(), relation.partitionSchema(), scan.requiredSchema(),
                scan.pushedDownFilters(), readOptions,
                // what FileSourceScanExec does (Spark 4.0 has no HadoopFsRelation.getHadoopConf)
                relation.sparkSession().sessionState().newHadoopConfWithOptions(relation.options()));
        return new FileSplits(readFile);
    }

    private static void checkModel(String model) {
        ModelCache.checkLocal(model);
    }

    private static Dataset<Row> read(SparkSession spark, EmberSettings settings, Map<String, String> inputOptions) {
        String input = settings.input().trim();
        String given = settings.inputFormat();
        boolean table = given == null ? isTable(spark, input) : TABLE_FORMAT.equalsIgnoreCase(given.trim());
        String format = table ? TABLE_FORMAT : InputFormats.resolve(given, input);
        try {
            return table ? spark.table(input) : InputFormats.read(spark, input, format, inputOptions);
        } catch (Exception e) { // AnalysisException (path not found, unknown format) is a checked exception
            throw new ConfigException("format(\"llm\") cannot read input '" + input + "' as "
                    + (table ? "a table" : format + " (option " + EmberOptions.INPUT_FORMAT.name() + ": "
                    + InputFormats.DESCRIPTION + ", or table)") + ": " + e.getMessage(), e);
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

    private static SparkPlan scanOf(Dataset<Row> input, EmberSettings settings) {
        SparkPlan plan = input.queryExecution().sparkPlan();
        if (plan instanceof FileSourceScanExec
                || plan instanceof BatchScanExec batch && batch.runtimeFilters().isEmpty()) {
            return plan;
        }
        throw new ConfigException("format(\"llm\") reads an input split by split, but input '" + settings.input()
                + "' plans as " + plan.nodeName() + " rather than one scan (a view or a query?); load it as a"
                + " DataFrame and use generate() on its prompt column instead");
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
            throw ConfigException.invalid(EmberOptions.PROMPT_COLUMN.name(), promptColumn, "a string column of the input;"
                    + " its columns are " + describe(schema));
        }
        if (!(fields[found].dataType() instanceof StringType)) {
            throw ConfigException.invalid(EmberOptions.PROMPT_COLUMN.name(), promptColumn, "a string column; column '"
                    + fields[found].name() + "' has type " + fields[found].dataType().simpleString()
                    + " (cast it to string in the input, or choose another column)");
        }
        return found;
    }

    private static void checkNoClash(StructType inputSchema, String outputColumn) {
        for (StructField f : inputSchema.fields()) {
            if (f.name().equalsIgnoreCase(outputColumn)) {
                throw new ConfigException("format(\"llm\"): the input already has a column '" + f.name() + "', the name"
                        + " of the generation column; choose another with option '" + EmberOptions.OUTPUT_COLUMN.name()
                        + "' (e.g. .option(\"" + EmberOptions.OUTPUT_COLUMN.name() + "\", \"" + outputColumn + "_1\"))");
            }
        }
    }

    private static String describe(StructType schema) {
        return java.util.Arrays.stream(schema.fields())
                .map(f -> f.name() + " " + f.dataType().simpleString().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
    }
}
