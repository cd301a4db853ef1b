/**
 * {@code spark.read.format("llm")}: a DataSource V2 batch source that reads an input dataset and returns its
 * columns plus one struct column of its prompt column's generation.
 *
 * <pre>{@code
 * Dataset<Row> answers = spark.read().format("llm")
 *     .option("model", "hdfs:///models/qwen2.5-0.5b")      // or a local directory, or "demo"
 *     .option("input_format", "jsonl")                      // InputFormats; default from the extension, else parquet
 *     .option("prompt_column", "question")                  // default "prompt"
 *     .option("max_tokens", "64").option("temperature", "0")
 *     .load("s3a://bucket/questions/");                     // or .option("input", path or table name)
 * // columns: the input's, then "generation" (option output_column): the struct generate() returns
 * }</pre>
 *
 * <p>The pipeline, one class per role:
 * <ul>
 *   <li>{@link dev.ember.spark.read.LlmSource} (registered as {@code llm}) validates the options at
 *       {@code load()} and has {@link dev.ember.spark.read.LlmInput} plan the input as Spark's own file scan;</li>
 *   <li>{@code LlmTable} → {@code LlmScanBuilder} → {@code LlmScan}: a columnar batch scan with one
 *       {@code LlmPartition} per split of that file scan (Spark's split sizes and bin packing,
 *       {@code spark.sql.files.maxPartitionBytes}, bucketing) and the {@link dev.ember.spark.read.LlmMetrics};</li>
 *   <li>{@code LlmReaderFactory}, shipped to the executors with the input format's serializable reader function;
 *       {@code LlmReader} streams the split's rows ({@code SplitReader.Rows}) through a
 *       {@link dev.ember.spark.executor.TaskSession} on the executor's shared engine and returns
 *       {@code ColumnarBatch}es of on-heap vectors: the input columns, then the generation struct.</li>
 * </ul>
 *
 * <p>Options: every Ember option (engine, sampling, connector; see {@link dev.ember.spark.EmberOptions}) as a
 * reader option or as {@code spark.ember.<name>} in the session conf. Reader options named
 * {@code input.<name>} go, without the prefix, to the input's own reader (e.g. {@code input.header=true} for
 * csv). An input column named like the generation column fails the load; so do unknown options, bad values, a
 * missing input or prompt column, a prompt column that is not a string, a local model directory that does not
 * exist, and an input that is not a plain file scan (a view or a query: use {@code generate()} on a DataFrame).
 */
package dev.ember.spark.read;
