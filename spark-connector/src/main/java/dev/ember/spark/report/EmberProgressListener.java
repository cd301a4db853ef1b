package dev.ember.spark.report;

import dev.ember.spark.EmberMetrics;
import dev.ember.spark.EmberOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.TaskInfo;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Driver-side progress of Ember generation: sums the accumulator updates named by {@link EmberMetrics} (the SQL
 * metrics of the generate operator and of the {@code format("llm")} scan) and logs a line every
 * {@code progressIntervalSeconds}: rows done of the total (the caller's, or "~N" estimated from the finished tasks of
 * each Ember stage times its task count), generated tokens per second and the time left.
 *
 * <p>Running tasks count with the latest values their executor's heartbeat carried, finished tasks with their
 * final values; both are kept per task id and a task's final values replace its heartbeat values, so nothing
 * counts twice. A failed or killed task counts nothing (its rows are generated again by the retry), as in the SQL
 * metrics themselves. Updates are by metric name, so every Ember operator of every job of the application is
 * counted while the listener is registered.
 *
 * <p>Register it with {@link EmberProgress#attach} (scoped to a block of code, with a known total), or for a whole
 * application with {@code spark.extraListeners=dev.ember.spark.report.EmberProgressListener}. Thread-safe: the
 * listener bus and the timer thread meet under the instance's lock.
 */
public final class EmberProgressListener extends SparkListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmberProgressListener.class);
    static final List<String> METRICS = List.of(EmberMetrics.ROWS, EmberMetrics.ERROR_ROWS,
            EmberMetrics.PROMPT_TOKENS, EmberMetrics.GENERATED_TOKENS, EmberMetrics.PREEMPTIONS,
            EmberMetrics.GENERATION_MS);
    private static final int ROWS = 0;
    private static final int ERROR_ROWS = 1;
    private static final int PROMPT_TOKENS = 2;
    private static final int GENERATED_TOKENS = 3;
    private static final int PREEMPTIONS = 4;
    private static final int GENERATION_MS = 5;

    private record Launch(String executorId, long launchTimeMs) {
    }

    private final Map<Long, Launch> launches = new HashMap<>();
    private final Map<Long, long[]> running = new HashMap<>();
    private final long[] finished = new long[METRICS.size()];
    private final Map<String, BusyIntervals> busy = new TreeMap<>();
    // per stage: its task count, and {finished Ember tasks, their rows}: the total-rows estimate when none is given
    private final Map<Integer, Integer> stageTasks = new HashMap<>();
    private final Map<Integer, long[]> stageDone = new HashMap<>();
    // the rows of the completed Ember stages, and how many: a completed stage's estimate is its rows
    private long completedStageRows;
    private long completedEmberStages;
    private long firstLaunchMs = Long.MAX_VALUE;
    private long totalRows;
    private String lastCounts;

    private final Consumer<String> sink;
    private final ScheduledExecutorService timer;

    /**
     * A listener that logs a line every {@code intervalSeconds} to {@code sink} (null: the
     * {@code dev.ember.spark.report} logger at INFO); {@code intervalSeconds <= 0} logs nothing.
     *
     * @param totalRows rows the job will answer, or a negative number when unknown (then estimated per stage)
     */
    public EmberProgressListener(long totalRows, double intervalSeconds, Consumer<String> sink) {
        this.totalRows = totalRows;
        this.sink = sink != null ? sink : LOG::info;
        if (intervalSeconds > 0) {
            long periodMs = Math.max(1, Math.round(intervalSeconds * 1000));
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ember-progress");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleAtFixedRate(this::logProgress, periodMs, periodMs, TimeUnit.MILLISECONDS);
        } else {
            timer = null;
        }
    }

    /** For {@code spark.extraListeners}: total unknown, interval from {@code spark.ember.progress_interval_seconds}. */
    public EmberProgressListener(SparkConf conf) {
        this(-1, EmberProgress.intervalSeconds(java.util.Objects.requireNonNullElse(EmberOptions.confValue(
                EmberOptions.entries(conf), EmberOptions.PROGRESS_INTERVAL_SECONDS), "10")), null);
    }

    /** Sets the rows the job will answer (negative: unknown). */
    public synchronized void setTotalRows(long totalRows) {
        this.totalRows = totalRows;
    }

    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted stageSubmitted) {
        stageTasks.put(stageSubmitted.stageInfo().stageId(), stageSubmitted.stageInfo().numTasks());
    }

    /**
     * Folds a completed stage into {@link #completedStageRows}, so per-stage entries last only while a stage runs,
     * not for the application's life (a streaming query submits stages for days). A stage resubmitted after a failed
     * attempt comes back with the missing tasks only, and its estimate adds to the rows its first attempt folded.
     */
    @Override
    public synchronized void onStageCompleted(SparkListenerStageCompleted stageCompleted) {
        int stageId = stageCompleted.stageInfo().stageId();
        stageTasks.remove(stageId);
        long[] done = stageDone.remove(stageId);
        if (done != null) {
            completedStageRows += done[1];
            completedEmberStages++;
        }
    }

    @Override
    public synchronized void onTaskStart(SparkListenerTaskStart taskStart) {
        TaskInfo info = taskStart.taskInfo();
        launches.put(info.taskId(), new Launch(info.executorId(), info.launchTime()));
    }

    @Override
    public synchronized void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t
                : CollectionConverters.asJava(update.accumUpdates())) {
            long taskId = (Long) t._1();
            // A heartbeat taken before the task ended can arrive after its end event: the final values win. Only
            // started, unended tasks are in launches (as Spark's own status listener keeps live tasks), so no set of
            // ended task ids has to grow for the application's life.
            Launch launch = launches.get(taskId);
            if (launch == null) {
                continue;
            }
            long[] values = emberValues(t._4());
            if (values != null) {
                long[] current = running.computeIfAbsent(taskId, id -> new long[METRICS.size()]);
                for (int i = 0; i < values.length; i++) {
                    current[i] = Math.max(current[i], values[i]);
                }
                firstLaunchMs = Math.min(firstLaunchMs, launch.launchTimeMs());
            }
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        TaskInfo info = taskEnd.taskInfo();
        long taskId = info.taskId();
        running.remove(taskId);
        launches.remove(taskId);
        if (!info.successful()) {
            return;
        }
        long[] values = emberValues(info.accumulables());
        if (values == null) {
            return;
        }
        for (int i = 0; i < values.length; i++) {
            finished[i] += values[i];
        }
        long[] done = stageDone.computeIfAbsent(taskEnd.stageId(), id -> new long[2]);
        done[0]++;
        done[1] += values[ROWS];
        firstLaunchMs = Math.min(firstLaunchMs, info.launchTime());
        long end = info.finishTime() > 0 ? info.finishTime() : System.currentTimeMillis();
        busy.computeIfAbsent(info.executorId(), e -> new BusyIntervals()).add(end - values[GENERATION_MS], end);
    }

    @Override
    public void onApplicationEnd(SparkListenerApplicationEnd applicationEnd) {
        close();
    }

    /** The totals now. */
    public synchronized EmberTotals totals() {
        long[] sum = finished.clone();
        for (long[] v : running.values()) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += v[i];
            }
        }
        Map<String, Double> engineSeconds = new TreeMap<>();
        busy.forEach((executor, iv) -> engineSeconds.put(executor, iv.unionMs() / 1000.0));
        double active = firstLaunchMs == Long.MAX_VALUE ? 0
                : Math.max(0, System.currentTimeMillis() - firstLaunchMs) / 1000.0;
        return new EmberTotals(sum[ROWS], sum[ERROR_ROWS], sum[PROMPT_TOKENS], sum[GENERATED_TOKENS],
                sum[PREEMPTIONS], sum[GENERATION_MS], engineSeconds, active);
    }

    /** The progress line for the totals now. */
    public synchronized String progressLine() {
        return totalRows >= 0 ? progressLine(totals(), totalRows) : progressLine(totals(), estimatedTotalRows(), true);
    }

    /**
     * When no total was given: the rows the Ember stages seen so far will answer, estimated from each stage's
     * finished tasks (their rows per task times the stage's task count; a completed stage counts its rows); -1
     * before any Ember task finished.
     */
    public synchronized long estimatedTotalRows() {
        long total = completedStageRows;
        for (Map.Entry<Integer, long[]> e : stageDone.entrySet()) {
            long[] done = e.getValue();
            int tasks = stageTasks.getOrDefault(e.getKey(), (int) done[0]);
            total += Math.round((double) done[1] / done[0] * Math.max(tasks, done[0]));
        }
        return stageDone.isEmpty() && completedEmberStages == 0 ? -1 : total;
    }

    static String progressLine(EmberTotals t, long totalRows) {
        return progressLine(t, totalRows, false);
    }

    static String progressLine(EmberTotals t, long totalRows, boolean estimated) {
        StringBuilder sb = new StringBuilder("Ember progress: ");
        if (totalRows >= 0) {
            totalRows = estimated ? Math.max(totalRows, t.rows()) : totalRows;
            sb.append(String.format("%,d / %s%,d rows (%.1f%%)", t.rows(), estimated ? "~" : "", totalRows,
                    totalRows == 0 ? 100.0 : 100.0 * t.rows() / totalRows));
        } else {
            sb.append(String.format("%,d rows", t.rows()));
        }
        sb.append(String.format(", %,d error rows, %,d generated tokens, %.1f tok/s, elapsed %s", t.errorRows(),
                t.generatedTokens(), t.generatedTokensPerSecond(), duration(t.activeSeconds())));
        if (totalRows >= 0) {
            double rate = t.rowsPerSecond();
            long left = Math.max(0, totalRows - t.rows());
            sb.append(", ETA ").append(left == 0 ? "0s" : rate > 0 ? duration(left / rate) : "unknown");
        }
        return sb.toString();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        return String.format("%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60);
    }

    /** Logs the progress line when something changed since the last one, or when Ember tasks are running. */
    void logProgress() {
        try {
            String line;
            synchronized (this) {
                EmberTotals t = totals();
                String counts = t.rows() + "/" + t.errorRows() + "/" + t.generatedTokens();
                if (firstLaunchMs == Long.MAX_VALUE || counts.equals(lastCounts) && running.isEmpty()) {
                    return;
                }
                lastCounts = counts;
                line = totalRows >= 0 ? progressLine(t, totalRows) : progressLine(t, estimatedTotalRows(), true);
            }
            sink.accept(line);
        } catch (RuntimeException e) {
            // The timer thread must survive a bad sink; the next tick tries again.
            LOG.warn("Ember progress line failed: " + e);
        }
    }

    /** Stops the timer. Idempotent; the listener still counts events while registered. */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** The Ember metric values of a task's accumulables, by {@link #METRICS} index; null when it has none. */
    private static long[] emberValues(scala.collection.immutable.Seq<AccumulableInfo> accumulables) {
        long[] values = null;
        for (AccumulableInfo a : CollectionConverters.asJava(accumulables)) {
            if (a.name().isEmpty() || a.update().isEmpty()) {
                continue;
            }
            int i = METRICS.indexOf(a.name().get());
            if (i >= 0 && a.update().get() instanceof Number n) {
                if (values == null) {
                    values = new long[METRICS.size()];
                }
                // Timing SQL metrics start at -1 ("not set"); several operators in one task add up.
                values[i] += Math.max(0, n.longValue());
            }
        }
        return values;
    }
}
