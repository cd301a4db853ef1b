package dev.ember.spark.executor;

import dev.ember.LlmException;
import dev.ember.engine.Engine;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.SparkTestSupport;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The task session both Spark paths share: rows in input order with their own kept row, each equal to the engine's
 * answer; metrics; the fail_on_error policy; the lease taken only when a row needs the engine and released on close.
 */
class TaskSessionTest {
    @TempDir
    static Path dir;
    static EmberSettings settings;
    static Engine engine;
    static EngineKey key;

    @BeforeAll
    static void start() {
        Map<String, String> o = SparkTestSupport.baseOptions(dir);
        o.put("max_tokens", "6");
        o.put("temperature", "0.8");
        o.put("max_in_flight_per_task", "5");
        settings = EmberSettings.resolve(o);
        try (EngineLease lease = EngineRegistry.acquire(settings, null, new Configuration())) {
            engine = lease.engine();
            key = lease.key();
        }
    }

    @AfterAll
    static void stop() {
        EngineRegistry.closeAll();
    }

    /** Counts its calls to {@link Metrics}; {@code finished} must come once. */
    static final class Counted implements TaskSession.Metrics {
        final List<Result> answered = new ArrayList<>();
        int finishedCalls;
        long generationMs = -1;
        long preemptions = -1;

        @Override
        public void answered(Result r) {
            answered.add(r);
        }

        @Override
        public void finished(long ms, long enginePreemptions) {
            finishedCalls++;
            generationMs = ms;
            preemptions = enginePreemptions;
        }
    }

    /** Rows are prompts (null = a null prompt); row 4 has a bad per-row option. */
    static TaskSession.RowInputs<String> inputs(EmberSettings s) {
        return new TaskSession.RowInputs<>() {
            @Override
            public RowInput input(String prompt, long index, String requestId) {
                Map<String, String> opts = index == 4 ? Map.of("temperature", "hot")
                        : index % 5 == 0 ? Map.of("max_tokens", String.valueOf(1 + index % 9)) : Map.of();
                return RowInput.of(s, index, requestId, prompt, null, opts);
            }

            @Override
            public String where(String prompt, long index) {
                return "test rows";
            }
        };
    }

    static List<String> prompts(int n) {
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // rows of very different lengths finish out of order inside the engine
            prompts.add(i % 3 == 1 ? null : "row " + i + " " + "word ".repeat((i * 7) % 23));
        }
        return prompts;
    }

    private static TaskSession<String> session(EmberSettings s, Iterator<String> rows, TaskSession.Metrics m,
                                               AtomicInteger leases) {
        return new TaskSession<>(s, () -> {
            leases.incrementAndGet();
            return EngineRegistry.acquire(s, null, new Configuration());
        }, rows, inputs(s), m, () -> { }, "t-");
    }

    @Test
    void rowsComeBackInInputOrderWithTheirRowAndEqualTheEngineDirectly() {
        List<String> prompts = prompts(40);
        AtomicInteger pulled = new AtomicInteger();
        Iterator<String> counting = new Iterator<>() {
            final Iterator<String> it = prompts.iterator();
            public boolean hasNext() { return it.hasNext(); }
            public String next() { pulled.incrementAndGet(); return it.next(); }
        };
        List<Request> direct = new ArrayList<>();
        List<Integer> directRows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            RowInput in = inputs(settings).input(prompts.get(i), i, "direct-" + i);
            if (in.request() != null) {
                direct.add(in.request());
                directRows.add(i);
            }
        }
        List<Result> expected = engine.generate(direct);
        Counted metrics = new Counted();
        AtomicInteger leases = new AtomicInteger();
        try (TaskSession<String> session = session(settings, counting, metrics, leases)) {
            int i = 0;
            while (session.hasNext()) {
                assertTrue(pulled.get() <= i + 5, "at most the window is pulled ahead: " + pulled.get() + " at row " + i);
                TaskSession.Generated<String> g = session.next();
                assertEquals(i, g.index());
                assertSame(prompts.get(i), g.row(), "each result comes with its own row");
                if (i == 4) {
                    assertEquals(FinishReason.ERROR, g.result().finishReason());
                    assertTrue(g.result().error().startsWith("invalid option: option 'temperature' is 'hot'"), g.result().error());
                } else {
                    Result want = expected.get(directRows.indexOf(i));
                    assertArrayEquals(want.tokenIds(), g.result().tokenIds(), "row " + i);
                    assertEquals(want.text(), g.result().text());
                    if (prompts.get(i) == null) {
                        assertEquals(FinishReason.ERROR, g.result().finishReason());
                        assertNull(g.result().text());
                    }
                }
                i++;
            }
            assertEquals(prompts.size(), i);
            assertEquals(1, leases.get(), "one lease per session");
            assertEquals(1, metrics.finishedCalls, "finished is reported when the rows run out");
            assertTrue(metrics.generationMs >= 0 && metrics.preemptions >= 0);
            assertEquals(1, EngineRegistry.leases(key), "the lease is held until close");
        }
        assertEquals(0, EngineRegistry.leases(key), "close released the lease");
        assertEquals(1, metrics.finishedCalls, "close does not report twice");
        assertEquals(prompts.size(), metrics.answered.size());
        long errors = metrics.answered.stream().filter(r -> !r.ok()).count();
        assertNull(prompts.get(4), "row 4 has a null prompt and a bad option: one error");
        assertEquals(prompts.stream().filter(p -> p == null).count(), errors, "the null prompts, row 4 among them");
    }

    @Test
    void anEmptyOrAllErrorTaskLeasesNoEngine() {
        AtomicInteger leases = new AtomicInteger();
        Counted empty = new Counted();
        try (TaskSession<String> session = session(settings, List.<String>of().iterator(), empty, leases)) {
            assertFalse(session.hasNext());
        }
        assertEquals(1, empty.finishedCalls);
        assertEquals(0, empty.generationMs);

        Map<String, String> o = SparkTestSupport.baseOptions(dir);
        EmberSettings s = EmberSettings.resolve(o);
        TaskSession.RowInputs<String> allBad = new TaskSession.RowInputs<>() {
            @Override
            public RowInput input(String row, long index, String requestId) {
                return new RowInput(index, null, "bad row " + index);
            }

            @Override
            public String where(String row, long index) {
                return "nowhere";
            }
        };
        Counted bad = new Counted();
        try (TaskSession<String> session = new TaskSession<>(s, () -> {
            leases.incrementAndGet();
            throw new AssertionError("no engine needed");
        }, List.of("a", "b").iterator(), allBad, bad, () -> { }, "bad-")) {
            assertEquals("bad row 0", session.next().result().error());
            assertEquals("bad row 1", session.next().result().error());
            assertFalse(session.hasNext());
        }
        assertEquals(0, leases.get());
        assertEquals(2, bad.answered.size());
    }

    @Test
    void failOnErrorFailsAtTheFirstErrorRowNamingItAndWhereItCameFrom() {
        Map<String, String> o = SparkTestSupport.baseOptions(dir);
        o.put("max_tokens", "6");
        o.put("temperature", "0.8");
        o.put("max_in_flight_per_task", "5");
        o.put("fail_on_error", "true");
        EmberSettings strict = EmberSettings.resolve(o);
        Counted metrics = new Counted();
        AtomicInteger leases = new AtomicInteger();
        try (TaskSession<String> session = session(strict, prompts(6).iterator(), metrics, leases)) {
            assertEquals(0, session.next().index());
            LlmException e = assertThrows(LlmException.class, session::next);
            assertTrue(e.getMessage().startsWith("Ember: row 1 of test rows failed: prompt is null"), e.getMessage());
            assertTrue(e.getMessage().contains("fail_on_error=true"), e.getMessage());
            assertEquals(2, metrics.answered.size(), "the failing row is counted before the task fails");
        }
        assertEquals(0, EngineRegistry.leases(key));
    }

    @Test
    void aModelThatCannotLoadFailsNamingTheModel() {
        Map<String, String> o = SparkTestSupport.baseOptions(dir);
        o.put("model", dir.resolve("no-such-model").toString());
        EmberSettings s = EmberSettings.resolve(o);
        try (TaskSession<String> session = TaskSession.inTask(s, Configuration::new, List.of("hi").iterator(),
                inputs(s), new Counted())) {
            LlmException e = assertThrows(LlmException.class, session::hasNext);
            assertTrue(e.getMessage().startsWith("Ember could not start its engine for model '"
                    + dir.resolve("no-such-model") + "' on executor (no Spark executor): "), e.getMessage());
        }
    }

    @Test
    void chatAndSystemPromptSettingsMakeChatRequests() {
        EmberSettings sys = EmberSettings.resolve(Map.of("model", "demo", "system_prompt", "Be brief."));
        RowInput in = RowInput.of(sys, 0, "c", "Hello", null, null);
        assertEquals(2, in.request().messages().size());
        assertEquals("system", in.request().messages().get(0).role());
        assertEquals("Hello", in.request().messages().get(1).content());
        EmberSettings chat = EmberSettings.resolve(Map.of("model", "demo", "chat", "true"));
        assertEquals(1, RowInput.of(chat, 0, "c", "Hello", null, null).request().messages().size());
        assertNull(RowInput.of(chat, 0, "c", null, null, null).request().messages(), "a null prompt stays a text request (engine error)");
    }

    /**
     * A return_type row whose output does not convert to the type (here a FLOAT beyond its range, which the unbounded
     * number grammar lets the demo model write for row 2) is an error row like any other: it fails the task with
     * fail_on_error=true and counts as an error in the metrics.
     */
    @Test
    void aReturnTypeValueThatDoesNotConvertIsAnErrorRowForFailOnErrorAndMetrics() {
        Map<String, String> o = SparkTestSupport.baseOptions(dir);
        o.put("return_type", "FLOAT");
        o.put("max_tokens", "48");
        o.put("temperature", "1");
        List<String> prompts = SparkTestSupport.prompts(3);
        EmberSettings lenient = EmberSettings.resolve(o);
        // the independent expectation: the engine's own text for each row; the first that is no float is the one
        // fail_on_error stops at (which row that is depends on the sampling stream, not on this test)
        int overflowing = -1;
        for (int i = 0; i < prompts.size() && overflowing < 0; i++) {
            Result direct = SparkTestSupport.generate(lenient, List.of(RowInput.of(lenient, i, "d", prompts.get(i), null,
                    null).request())).get(0);
            assertNull(direct.error(), "the engine finished the number of row " + i);
            if (Double.isInfinite((float) Double.parseDouble(direct.text()))) {
                overflowing = i;
            }
        }
        assertTrue(overflowing >= 0, "no row's number overflows a float: the test needs one");

        Counted metrics = new Counted();
        try (TaskSession<String> session = new TaskSession<>(lenient, () -> EngineRegistry.acquire(lenient, null,
                new Configuration()), prompts.iterator(), plain(lenient), metrics, () -> { }, "v-")) {
            while (session.hasNext()) {
                session.next();
            }
        }
        for (int i = 0; i < overflowing; i++) {
            assertTrue(metrics.answered.get(i).ok(), "row " + i + " converts: " + metrics.answered.get(i));
        }
        Result bad = metrics.answered.get(overflowing);
        assertFalse(bad.ok(), "counted as an error row: " + bad);
        assertTrue(bad.error().contains("beyond the range of float"), bad.error());

        o.put("fail_on_error", "true");
        EmberSettings strict = EmberSettings.resolve(o);
        try (TaskSession<String> session = new TaskSession<>(strict, () -> EngineRegistry.acquire(strict, null,
                new Configuration()), prompts.iterator(), plain(strict), new Counted(), () -> { }, "w-")) {
            for (int i = 0; i < overflowing; i++) {
                session.next();
            }
            LlmException e = assertThrows(LlmException.class, session::next);
            assertTrue(e.getMessage().startsWith("Ember: row " + overflowing + " of test rows failed: return_type float"),
                    e.getMessage());
        }
    }

    /**
     * A number cut by max_tokens is a valid number but not the one the model was writing ("32412" of "324129..."):
     * the README promises a row that reaches max_tokens before its output is complete is never reported as valid.
     */
    @Test
    void aNumberCutByMaxTokensIsAnErrorNotAValue() {
        Map<String, String> o = SparkTestSupport.baseOptions(dir);
        o.put("return_type", "BIGINT");
        o.put("max_tokens", "3");
        o.put("temperature", "1");
        EmberSettings s = EmberSettings.resolve(o);
        List<String> prompts = SparkTestSupport.prompts(4);
        List<Request> direct = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            direct.add(RowInput.of(s, i, "d" + i, prompts.get(i), null, null).request());
        }
        List<Result> engineResults = SparkTestSupport.generate(s, direct);
        Counted metrics = new Counted();
        List<TaskSession.Generated<String>> rows = new ArrayList<>();
        try (TaskSession<String> session = new TaskSession<>(s, () -> EngineRegistry.acquire(s, null,
                new Configuration()), prompts.iterator(), plain(s), metrics, () -> { }, "n-")) {
            session.forEachRemaining(rows::add);
        }
        int cut = 0;
        for (int i = 0; i < prompts.size(); i++) {
            Result e = engineResults.get(i);
            Result got = rows.get(i).result();
            assertEquals(e.text(), got.text(), "row " + i + " keeps its text");
            if (e.finishReason() == FinishReason.LENGTH && e.error() == null) {
                cut++;
                assertFalse(got.ok(), "row " + i + " '" + e.text() + "' stopped by max_tokens inside a number");
                assertTrue(got.error().contains("max_tokens"), got.error());
            } else {
                assertEquals(e.error(), got.error(), "row " + i);
            }
        }
        assertTrue(cut > 0, "the demo model writes numbers longer than 3 tokens");
    }

    private static TaskSession.RowInputs<String> plain(EmberSettings s) {
        return new TaskSession.RowInputs<>() {
            @Override
            public RowInput input(String prompt, long index, String requestId) {
                return RowInput.of(s, index, requestId, prompt, null, null);
            }

            @Override
            public String where(String prompt, long index) {
                return "test rows";
            }
        };
    }
}
