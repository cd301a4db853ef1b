package dev.ember.spark.executor;

import dev.ember.engine.Engine;
import dev.ember.engine.EngineConfig;
import dev.ember.engine.FinishReason;
import dev.ember.engine.Request;
import dev.ember.engine.Result;
import dev.ember.model.DemoModel;
import dev.ember.spark.EmberSettings;
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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrderedGenerationsTest {
    @TempDir
    static Path dir;
    static Engine engine;
    static EmberSettings settings;

    @BeforeAll
    static void start() {
        Path model = DemoModel.write(dir.resolve("demo"));
        engine = Engine.create(EngineConfig.builder(model).maxNumSeqs(16).build());
        settings = EmberSettings.resolve(Map.of("model", model.toString(), "max_tokens", "6", "temperature", "0.8"));
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static List<RowInput> rows(int n) {
        List<RowInput> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // rows of very different lengths finish out of order inside the engine
            String prompt = i % 3 == 1 ? null : "row " + i + " " + "word ".repeat((i * 7) % 23);
            Map<String, String> opts = i % 5 == 0 ? Map.of("max_tokens", String.valueOf(1 + i % 9)) : Map.of();
            if (i == 4) {
                opts = Map.of("temperature", "hot");
            }
            rows.add(RowInput.of(settings, i, "t-" + i, prompt, null, opts));
        }
        return rows;
    }

    @Test
    void resultsComeBackInInputOrderAndEqualTheEngineDirectly() {
        List<RowInput> rows = rows(40);
        AtomicInteger pulled = new AtomicInteger();
        Iterator<RowInput> counting = new Iterator<>() {
            final Iterator<RowInput> it = rows.iterator();
            public boolean hasNext() { return it.hasNext(); }
            public RowInput next() { pulled.incrementAndGet(); return it.next(); }
        };
        List<Request> direct = new ArrayList<>();
        for (RowInput r : rows) {
            if (r.request() != null) {
                direct.add(r.request());
            }
        }
        List<Result> expected = engine.generate(direct);
        try (OrderedGenerations gen = new OrderedGenerations(engine, counting, 5)) {
            int i = 0;
            int ok = 0;
            while (gen.hasNext()) {
                assertTrue(pulled.get() <= i + 5, "at most the window is pulled ahead: " + pulled.get() + " at row " + i);
                OrderedGenerations.Generated g = gen.next();
                assertEquals(i, g.index());
                RowInput in = rows.get(i);
                if (in.error() != null) {
                    assertEquals(FinishReason.ERROR, g.result().finishReason());
                    assertTrue(g.result().error().startsWith("invalid option: option 'temperature' is 'hot'"), g.result().error());
                } else {
                    Result want = expected.get(ok++);
                    assertEquals(want.requestId(), g.result().requestId());
                    assertArrayEquals(want.tokenIds(), g.result().tokenIds(), "row " + i);
                    assertEquals(want.text(), g.result().text());
                    if (in.request().prompt() == null) {
                        assertEquals(FinishReason.ERROR, g.result().finishReason());
                        assertNull(g.result().text());
                    }
                }
                i++;
            }
            assertEquals(rows.size(), i);
        }
    }

    @Test
    void closeAbortsWhatIsStillInFlight() {
        Iterator<RowInput> many = new Iterator<>() {
            int i;
            public boolean hasNext() { return i < 1000; }
            public RowInput next() {
                return RowInput.of(settings, i, "abort-" + i, "prompt " + i++, null, Map.of("max_tokens", "200", "ignore_eos", "true"));
            }
        };
        long before = engine.metrics().requestsFinished();
        OrderedGenerations gen = new OrderedGenerations(engine, many, 8);
        assertTrue(gen.hasNext());
        gen.close();
        // the 8 submitted requests end (aborted), nothing else was submitted
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (engine.metrics().running() + engine.metrics().waiting() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, engine.metrics().running() + engine.metrics().waiting());
        assertTrue(engine.metrics().requestsFinished() - before <= 8);
    }

    @Test
    void aWindowBelowOneIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new OrderedGenerations(engine, List.<RowInput>of().iterator(), 0));
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
}
