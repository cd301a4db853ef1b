package dev.ember.spark.report;

import dev.ember.spark.EmberOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.spark.sql.SparkSession;

import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Progress lines and the job report for a block of code that runs Ember generation:
 * <pre>{@code
 * try (EmberProgress progress = EmberProgress.attach(spark, inputRows)) {
 *     df.withColumn("out", generate(col("prompt"))).write().parquet(out);
 *     progress.report().writeBeside(out, spark.sparkContext().hadoopConfiguration());
 * }
 * }</pre>
 * {@link #attach} registers an {@link EmberProgressListener} that logs every {@code progress_interval_seconds}
 * ({@code spark.ember.progress_interval_seconds} or the given options; default 10); {@link #close()} removes it.
 * The report's cost uses {@code price_per_gpu_hour} from the same places. Not thread-safe.
 */
public final class EmberProgress implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmberProgress.class);
    private static final long LISTENER_BUS_WAIT_MS = 30_000;

    private final SparkSession spark;
    private final EmberProgressListener listener;
    private final double pricePerGpuHour;
    private final String model;
    private final long startNanos = System.nanoTime();
    private boolean closed;

    private EmberProgress(SparkSession spark, EmberProgressListener listener, double pricePerGpuHour, String model) {
        this.spark = spark;
        this.listener = listener;
        this.pricePerGpuHour = pricePerGpuHour;
        this.model = model;
    }

    /** Attaches with the options of the Spark conf; {@code totalRows} negative when unknown. */
    public static EmberProgress attach(SparkSession spark, long totalRows) {
        return attach(spark, totalRows, Map.of(), null);
    }

    /**
     * Attaches a progress listener to {@code spark}'s application.
     *
     * @param totalRows rows the job will answer, negative when unknown (then estimated from finished tasks)
     * @param options   Ember options of the job (the calls' options), merged over {@code spark.ember.*}
     * @param sink      where progress lines go; null: the {@code dev.ember.spark.report} logger at INFO
     */
    public static EmberProgress attach(SparkSession spark, long totalRows, Map<String, String> options,
                                       Consumer<String> sink) {
        Map<String, String> merged = EmberOptions.merge(EmberOptions.entries(spark.sparkContext().getConf()), options,
                System.getenv());
        double interval = intervalSeconds(merged.getOrDefault(EmberOptions.PROGRESS_INTERVAL_SECONDS.name(), "10"));
        double price = price(merged.getOrDefault(EmberOptions.PRICE_PER_GPU_HOUR.name(), "0"));
        EmberProgressListener listener = new EmberProgressListener(totalRows, interval, sink);
        spark.sparkContext().addSparkListener(listener);
        return new EmberProgress(spark, listener, price, merged.get("model"));
    }

    /** The listener (totals so far, the progress line). */
    public EmberProgressListener listener() {
        return listener;
    }

    /** Seconds since {@link #attach}. */
    public double wallSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /**
     * The report of everything generated since {@link #attach}, over the wall time since then. Waits (up to 30 s)
     * until Spark's listener bus has delivered the finished jobs' events, so call it after the job's action.
     */
    public JobReport report() {
        double wall = wallSeconds();
        awaitListenerBus();
        return JobReport.of(model, listener.totals(), wall, pricePerGpuHour);
    }

    private void awaitListenerBus() {
        try {
            // listenerBus is private[spark] in Scala, public in bytecode; it is how Spark's own tests wait for events.
            spark.sparkContext().listenerBus().waitUntilEmpty(LISTENER_BUS_WAIT_MS);
        } catch (TimeoutException e) {
            LOG.warn("Spark's listener bus did not drain in " + LISTENER_BUS_WAIT_MS
                    + " ms; the Ember report may miss the last tasks");
        }
    }

    /** Stops the progress lines and removes the listener. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listener.close();
        spark.sparkContext().removeSparkListener(listener);
    }

    static double intervalSeconds(String v) {
        return EmberOptions.PROGRESS_INTERVAL_SECONDS.parse(v);
    }

    static double price(String v) {
        return EmberOptions.PRICE_PER_GPU_HOUR.parse(v);
    }
}
