package dev.ember.spark.report;

import dev.ember.spark.EmberMetrics;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listener against real Spark events: tasks update accumulators named like the Ember SQL metrics, slowly, so
 * the executor heartbeats (every 100 ms here) carry running values before the tasks end.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmberProgressTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("EmberProgressTest")
                .config("spark.ui.enabled", "false")
                .config("spark.executor.heartbeatInterval", "100ms")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void countsRunningTasksFromHeartbeatsAndFinishedTasksOnceAndWritesTheReport(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        LongAccumulator rows = jsc.sc().longAccumulator(EmberMetrics.ROWS);
        LongAccumulator tokens = jsc.sc().longAccumulator(EmberMetrics.GENERATED_TOKENS);
        LongAccumulator genMs = jsc.sc().longAccumulator(EmberMetrics.GENERATION_MS);
        LongAccumulator other = jsc.sc().longAccumulator("not ember");
        org.apache.spark.util.CollectionAccumulator<long[]> spans = jsc.sc().collectionAccumulator("task spans");
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        int n = 40;
        try (EmberProgress progress = EmberProgress.attach(spark, n, Map.of("progress_interval_seconds", "0.2",
                "price_per_gpu_hour", "3.6"), lines::add)) {
            CompletableFuture<Void> job = CompletableFuture.runAsync(() ->
                    jsc.parallelize(IntStream.range(0, n).boxed().toList(), 2).foreachPartition(it -> {
                        long t0 = System.currentTimeMillis();
                        while (it.hasNext()) {
                            it.next();
                            Thread.sleep(50);
                            rows.add(1);
                            tokens.add(3);
                            other.add(1000);
                        }
                        long t1 = System.currentTimeMillis();
                        genMs.add(t1 - t0);
                        spans.add(new long[] {t0, t1});
                    }));
            long seenRunning = 0;
            while (!job.isDone()) {
                seenRunning = Math.max(seenRunning, progress.listener().totals().rows());
                Thread.sleep(20);
            }
            job.get();
            assertTrue(seenRunning > 0 && seenRunning <= n, "heartbeats carried running rows: " + seenRunning);

            JobReport report = progress.report();
            assertEquals(n, report.rows(), "each row once, heartbeat values replaced by final ones");
            assertEquals(3L * n, report.generatedTokens());
            assertEquals(0, report.errorRows());
            assertEquals(1, report.engineSecondsByExecutor().size(), "local mode: one executor, 'driver'");
            double engineSeconds = report.engineSecondsByExecutor().values().iterator().next();
            // two tasks of ~1 s each on one engine: busy for the union of their spans (~1 s when they overlap), not the
            // sum. The report places a span at Spark's task end, a few ms after the task's own clock stopped
            List<long[]> taskSpans = spans.value();
            assertEquals(2, taskSpans.size());
            long[] a = taskSpans.get(0);
            long[] b = taskSpans.get(1);
            long overlap = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
            double union = (a[1] - a[0] + b[1] - b[0] - overlap) / 1000.0;
            assertEquals(union, engineSeconds, 0.3, "busy union; task spans " + java.util.Arrays.toString(a) + " "
                    + java.util.Arrays.toString(b));
            assertTrue(report.taskGenerationSeconds() >= engineSeconds);
            assertEquals(report.deviceHours() * 3.6, report.estimatedCost(), 1e-12);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("Ember progress: ") && l.contains("/ 40 rows")),
                    "progress lines: " + lines);

            String file = report.writeBeside(dir.toString(), spark.sparkContext().hadoopConfiguration());
            JobReport back = JobReport.fromJson(Files.readString(Path.of(file.replace("file:", ""))));
            assertEquals(report, back);
        }
    }

    @Test
    void withoutATotalTheRowsAreEstimatedFromEachStagesFinishedTasks() throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        LongAccumulator rows = jsc.sc().longAccumulator(EmberMetrics.ROWS);
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        EmberProgressListener listener = new EmberProgressListener(-1, 0.1, lines::add);
        spark.sparkContext().addSparkListener(listener);
        try {
            assertEquals(-1, listener.estimatedTotalRows());
            // 4 tasks of 10 rows on 2 slots: once the first two end, 20 rows in 2 of 4 tasks -> ~40
            jsc.parallelize(IntStream.range(0, 40).boxed().toList(), 4).foreachPartition(it -> {
                while (it.hasNext()) {
                    it.next();
                    Thread.sleep(40);
                    rows.add(1);
                }
            });
            spark.sparkContext().listenerBus().waitUntilEmpty();
            assertEquals(40, listener.estimatedTotalRows());
            assertTrue(listener.progressLine().startsWith("Ember progress: 40 / ~40 rows (100.0%)"), listener.progressLine());
            assertTrue(lines.stream().anyMatch(l -> l.contains(" / ~40 rows") && l.contains("ETA")
                            && !l.startsWith("Ember progress: 40 ")), "an estimate while running: " + lines);
        } finally {
            spark.sparkContext().removeSparkListener(listener);
            listener.close();
        }
    }

    @Test
    void extraListenersConstructorReadsTheIntervalFromTheSparkConf() {
        new EmberProgressListener(new org.apache.spark.SparkConf()
                .set("spark.ember.progress_interval_seconds", "0.5")).close();
        dev.ember.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(dev.ember.ConfigException.class,
                () -> new EmberProgressListener(new org.apache.spark.SparkConf()
                        .set("spark.ember.progress_interval_seconds", "0")));
        assertTrue(e.getMessage().contains("progress_interval_seconds"), e.getMessage());
    }

    @Test
    void extraListenersConstructorReadsTheIntervalInAnySpelling() {
        // spark.ember.PROGRESS_INTERVAL_SECONDS is the option to every other reader of the conf; the listener read
        // only the exact lower-case key and went on with its default 10 s
        dev.ember.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(dev.ember.ConfigException.class,
                () -> new EmberProgressListener(new org.apache.spark.SparkConf()
                        .set("spark.ember.PROGRESS_INTERVAL_SECONDS", "0")));
        assertTrue(e.getMessage().contains("progress_interval_seconds") && e.getMessage().contains("'0'"), e.getMessage());
        new EmberProgressListener(new org.apache.spark.SparkConf()
                .set("spark.ember.Progress-Interval-Seconds", "0.5").set("spark.ember.modle", "typo")).close();
    }

    @Test
    void progressLineAndDurations() {
        EmberTotals t = new EmberTotals(250, 2, 1000, 5000, 0, 10_000, Map.of("1", 8.0), 10.0);
        String line = EmberProgressListener.progressLine(t, 1000);
        assertEquals("Ember progress: 250 / 1,000 rows (25.0%), 2 error rows, 5,000 generated tokens, 500.0 tok/s,"
                + " elapsed 10s, ETA 30s", line);
        assertFalse(EmberProgressListener.progressLine(t, -1).contains("ETA"));
        assertEquals("1h01m05s", EmberProgressListener.duration(3665));
        assertEquals("2m05s", EmberProgressListener.duration(125));
    }

    @Test
    void reportWithoutPriceHasNoCostAndBusyIntervalsUnion() {
        JobReport r = JobReport.of("demo", new EmberTotals(1, 0, 1, 1, 0, 1, Map.of(), 1), 2, 0);
        assertNull(r.estimatedCost());
        assertFalse(r.toJson().contains("estimatedCost"));
        BusyIntervals b = new BusyIntervals();
        b.add(0, 10);
        b.add(5, 15);
        b.add(20, 30);
        b.add(7, 7);
        assertEquals(25, b.unionMs());
    }

    @Test
    void aListenerForTheWholeApplicationForgetsEndedTasksAndCompletedStages() throws Exception {
        // spark.extraListeners keeps one listener for the application's life: a streaming query runs a job per
        // micro-batch for days
        EmberProgressListener listener = new EmberProgressListener(-1, 0, lines -> { });
        long taskId = 0;
        for (int stageId = 0; stageId < 1_000; stageId++) {
            org.apache.spark.scheduler.StageInfo stage = new org.apache.spark.scheduler.StageInfo(stageId, 0, "batch",
                    10, emptySeq(), emptySeq(), "", null, emptySeq(), scala.Option.empty(), 0, false, 0);
            listener.onStageSubmitted(new org.apache.spark.scheduler.SparkListenerStageSubmitted(stage, null));
            for (int t = 0; t < 10; t++, taskId++) {
                org.apache.spark.scheduler.TaskInfo info = new org.apache.spark.scheduler.TaskInfo(taskId, t, 0, t,
                        1_000 + taskId, "1", "host", org.apache.spark.scheduler.TaskLocality.PROCESS_LOCAL(), false);
                listener.onTaskStart(new org.apache.spark.scheduler.SparkListenerTaskStart(stageId, 0, info));
                if (stageId % 2 == 0) { // every other batch's stage runs generate(): 3 rows a task
                    info.setAccumulables(scala.jdk.javaapi.CollectionConverters.asScala(List.of(
                            new org.apache.spark.scheduler.AccumulableInfo(1, scala.Option.apply(EmberMetrics.ROWS),
                                    scala.Option.apply(3L), scala.Option.apply(3L), false, false,
                                    scala.Option.empty()))).toList());
                }
                info.markFinished(org.apache.spark.TaskState.FINISHED(), 2_000 + taskId);
                listener.onTaskEnd(new org.apache.spark.scheduler.SparkListenerTaskEnd(stageId, 0, "ResultTask",
                        org.apache.spark.Success$.MODULE$, info, null, null));
            }
            listener.onStageCompleted(new org.apache.spark.scheduler.SparkListenerStageCompleted(stage));
        }
        assertEquals(500 * 10 * 3, listener.totals().rows());
        assertEquals(500 * 10 * 3, listener.estimatedTotalRows(), "completed stages are estimated at their rows");
        for (java.lang.reflect.Field f : EmberProgressListener.class.getDeclaredFields()) {
            f.setAccessible(true);
            Object v = java.lang.reflect.Modifier.isStatic(f.getModifiers()) ? null : f.get(listener);
            int size = v instanceof java.util.Collection<?> c ? c.size() : v instanceof Map<?, ?> m ? m.size() : 0;
            if (!f.getName().equals("busy")) { // one entry per executor (here one): its engine's busy time
                assertEquals(0, size, f.getName() + " still holds entries of 10,000 ended tasks in 1,000 completed stages");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> scala.collection.immutable.Seq<T> emptySeq() {
        return (scala.collection.immutable.Seq<T>) scala.collection.immutable.Nil$.MODULE$;
    }
}
