package dev.ember.engine;

import dev.ember.LlmException;
import dev.ember.api.ChatMessage;
import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.api.TokenLogprobs;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import dev.ember.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole engine on the CPU backend and the built-in demo model. */
class EngineTest {
    @TempDir
    static Path modelDir;

    @BeforeAll
    static void writeModel() throws Exception {
        DemoModel.write(modelDir);
    }

    static EngineConfig.Builder config() {
        return EngineConfig.builder(modelDir).numThreads(2).cpuKvCacheBytes(16L << 20);
    }

    static List<Request> sampledRequests(int n, int maxTokens) {
        List<Request> out = new ArrayList<>();
        String[] words = {"the cat", "a dog sat on", "hello world, this is", "once upon a time there was", "zebra"};
        for (int i = 0; i < n; i++) {
            String prompt = words[i % words.length] + " number " + i + " " + "and more ".repeat(i % 4);
            out.add(Request.ofText("r" + i, prompt, SamplingParams.builder().maxTokens(maxTokens + i % 3)
                    .temperature(0.9).topP(0.95).seed(1000L + i).ignoreEos(true).build()));
        }
        return out;
    }

    static List<int[]> tokens(List<Result> results) {
        List<int[]> out = new ArrayList<>();
        for (Result r : results) {
            assertNull(r.error(), r.requestId());
            out.add(r.tokenIds());
        }
        return out;
    }

    static void assertSameTokens(List<int[]> expected, List<int[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "request " + i);
        }
    }

    @Test
    void abortEndsTheRequestFreesItsBlocksAndUpdatesTheMetrics() throws Exception {
        try (Engine engine = Engine.create(config().build())) {
            SamplingParams endless = SamplingParams.builder().maxTokens(1500).ignoreEos(true).seed(1L).build();
            var a = engine.submit(Request.ofText("a", "abort me please", endless));
            var b = engine.submit(Request.ofText("b", "keep me", SamplingParams.builder().maxTokens(3).seed(2L).build()));
            assertEquals(FinishReason.LENGTH, b.get().finishReason());
            engine.abort("a");
            Result aborted = a.get();
            assertEquals(FinishReason.ABORT, aborted.finishReason());
            assertTrue(aborted.completionTokens() < 1500, "aborted early: " + aborted.completionTokens());
            EngineMetrics m = engine.metrics();
            assertEquals(0, m.running(), "no step follows the abort, yet the metrics see the queue empty");
            assertEquals(0, m.waiting());
            assertEquals(0.0, m.kvUsage(), 1e-9, "the aborted request's blocks are free");
            engine.abort("unknown id"); // nothing to abort: no effect
            assertEquals(FinishReason.LENGTH, engine.generate(List.of(Request.ofText("c", "after", SamplingParams.builder()
                    .maxTokens(2).ignoreEos(true).build()))).get(0).finishReason());
        }
    }

    @Test
    void generatesTextThatDecodesFromItsTokens() {
        try (Engine engine = Engine.create(config().build())) {
            List<Result> results = engine.generate(sampledRequests(6, 12));
            for (Result r : results) {
                assertTrue(r.ok());
                assertEquals(FinishReason.LENGTH, r.finishReason());
                assertEquals(r.tokenIds().length, r.completionTokens());
                assertTrue(r.completionTokens() >= 12);
                assertTrue(r.promptTokens() > 0);
                assertEquals(engineDecode(r.tokenIds()), r.text());
            }
            EngineMetrics m = engine.metrics();
            assertEquals(6, m.requestsFinished());
            assertEquals(results.stream().mapToLong(Result::completionTokens).sum(), m.generatedTokens());
            assertEquals(0, m.running());
        }
    }

    private static String engineDecode(int[] ids) {
        try (dev.ember.tokenizer.Tokenizer t = dev.ember.tokenizer.Tokenizer.load(modelDir)) {
            return t.decode(ids);
        }
    }

    @Test
    void sameSeedsGiveSameTokensWhateverTheBatch() throws Exception {
        List<Request> requests = sampledRequests(8, 10);
        List<int[]> alone = new ArrayList<>();
        try (Engine engine = Engine.create(config().build())) {
            for (Request r : requests) {
                alone.add(engine.generate(List.of(r)).get(0).tokenIds());
            }
            assertSameTokens(alone, tokens(engine.generate(requests)));
            List<Request> reversed = new ArrayList<>(requests);
            Collections.reverse(reversed);
            List<int[]> rev = tokens(engine.generate(reversed));
            Collections.reverse(rev);
            assertSameTokens(alone, rev);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<CompletableFuture<Result>>> submitted = new ArrayList<>();
                for (Request r : requests) {
                    submitted.add(pool.submit(() -> engine.submit(r)));
                }
                List<Result> concurrent = new ArrayList<>();
                for (Future<CompletableFuture<Result>> f : submitted) {
                    concurrent.add(f.get().get());
                }
                assertSameTokens(alone, tokens(concurrent));
            } finally {
                pool.shutdownNow();
            }
        }
        // a different seed gives different tokens (the seed is really used)
        try (Engine engine = Engine.create(config().build())) {
            Request r = requests.get(0);
            Request other = Request.ofText("x", r.prompt(), r.params().toBuilder().seed(424242L).build());
            assertFalse(Arrays.equals(alone.get(0), engine.generate(List.of(other)).get(0).tokenIds()));
        }
    }

    @Test
    void preemptionUnderATinyKvCacheGivesTheSameTokens() {
        List<Request> requests = sampledRequests(8, 24);
        List<int[]> expected;
        try (Engine engine = Engine.create(config().build())) {
            expected = tokens(engine.generate(requests));
        }
        try (Engine engine = Engine.create(config().blockSize(4).numKvBlocks(24).build())) {
            assertSameTokens(expected, tokens(engine.generate(requests)));
            assertTrue(engine.metrics().preemptions() > 0, "expected preemptions with 24 blocks of 4 tokens");
        }
    }

    @Test
    void chunkedPrefillGivesTheSameTokens() {
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            requests.add(Request.ofText("c" + i, "a long prompt that must be split into chunks ".repeat(3 + i),
                    SamplingParams.builder().maxTokens(8).temperature(0.7).seed((long) i).ignoreEos(true).build()));
        }
        List<int[]> expected;
        try (Engine engine = Engine.create(config().build())) {
            expected = tokens(engine.generate(requests));
        }
        try (Engine engine = Engine.create(config().blockSize(4).maxNumBatchedTokens(8).enablePrefixCaching(false).build())) {
            List<Result> results = engine.generate(requests);
            assertSameTokens(expected, tokens(results));
            long promptTokens = results.stream().mapToLong(Result::promptTokens).sum();
            assertTrue(engine.metrics().steps() >= promptTokens / 8, "an 8-token budget must split the "
                    + promptTokens + " prompt tokens over many steps, took " + engine.metrics().steps());
        }
    }

    @Test
    void prefixCacheHitsGiveTheSameTokens() {
        String shared = "You are a careful assistant. Answer briefly and precisely. ".repeat(3);
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(Request.ofText("p" + i, shared + "Question " + i,
                    SamplingParams.builder().maxTokens(6).temperature(0.8).seed((long) i).ignoreEos(true).build()));
        }
        List<int[]> expected;
        try (Engine engine = Engine.create(config().enablePrefixCaching(false).build())) {
            expected = tokens(engine.generate(requests));
            assertEquals(0, engine.metrics().cachedPromptTokens());
        }
        try (Engine engine = Engine.create(config().blockSize(4).build())) {
            assertSameTokens(expected.subList(0, 1), tokens(engine.generate(requests.subList(0, 1))));
            assertSameTokens(expected, tokens(engine.generate(requests)));
            EngineMetrics m = engine.metrics();
            assertTrue(m.cachedPromptTokens() > 0, "expected prefix-cache hits");
            assertTrue(m.prefixCacheHitRate() > 0.3, "hit rate " + m.prefixCacheHitRate());
        }
    }

    @Test
    void badRequestsGetAnErrorAndTheOthersComplete() {
        SamplingParams p = SamplingParams.builder().maxTokens(4).temperature(0).build();
        try (Engine engine = Engine.create(config().maxModelLen(64).build())) {
            List<Result> results = engine.generate(List.of(
                    Request.ofText("ok1", "hello there", p),
                    Request.ofText("null", null, p),
                    Request.ofText("empty", "", p),
                    Request.ofText("long", "word ".repeat(200), p),
                    Request.ofTokens("badid", new int[]{1, 2, 1_000_000}, p),
                    Request.ofChat("nochat", List.of(), p),
                    Request.ofText("ok2", "general kenobi", p),
                    Request.ofText("badstop", "hello", p.toBuilder().stopTokenIds(java.util.Set.of(3, 1_000_001)).build())));
            assertTrue(results.get(0).ok());
            assertTrue(results.get(6).ok());
            assertTrue(results.get(6).completionTokens() >= 1);
            assertError(results.get(1), "prompt is null");
            assertError(results.get(2), "prompt is empty");
            assertError(results.get(3), "max_model_len) is 64");
            assertError(results.get(4), "token id 1000000 is outside the vocabulary");
            assertError(results.get(5), "messages is empty");
            assertError(results.get(7), "stop_token_ids holds 1000001, outside the vocabulary");
            assertEquals(6, engine.metrics().requestErrors());
        }
    }

    private static void assertError(Result r, String fragment) {
        assertEquals(FinishReason.ERROR, r.finishReason(), r.requestId());
        assertNull(r.text());
        assertTrue(r.error().contains(fragment), r.requestId() + ": " + r.error());
    }

    @Test
    void stopStringsCutTheTextAndStopTokensEndGeneration() {
        SamplingParams greedy = SamplingParams.builder().maxTokens(20).temperature(0).ignoreEos(true).build();
        try (Engine engine = Engine.create(config().build())) {
            Result full = engine.generate(List.of(Request.ofText("a", "the story begins", greedy))).get(0);
            String text = full.text();
            assertTrue(text.length() > 6, text);
            String stop = text.substring(3, 6);
            int cut = text.indexOf(stop);
            Result stopped = engine.generate(List.of(Request.ofText("b", "the story begins",
                    greedy.toBuilder().stop(List.of(stop)).build()))).get(0);
            assertEquals(text.substring(0, cut), stopped.text());
            assertEquals(FinishReason.STOP, stopped.finishReason());
            assertTrue(stopped.completionTokens() < full.completionTokens());

            int stopId = full.tokenIds()[4];
            int firstAt = 0;
            while (full.tokenIds()[firstAt] != stopId) {
                firstAt++;
            }
            Result byId = engine.generate(List.of(Request.ofText("c", "the story begins",
                    greedy.toBuilder().stopTokenIds(Set.of(stopId)).build()))).get(0);
            assertEquals(FinishReason.STOP, byId.finishReason());
            assertArrayEquals(Arrays.copyOf(full.tokenIds(), firstAt + 1), byId.tokenIds());
        }
    }

    /**
     * min_tokens holds for stop strings too (as vLLM's): a string in the text of the first min_tokens - 1 tokens
     * does not end the row, the first one the text completes later does. It used to end the row at once, with fewer
     * tokens than min_tokens.
     */
    @Test
    void stopStringsWaitForMinTokens() {
        int minTokens = 10;
        SamplingParams greedy = SamplingParams.builder().maxTokens(24).minTokens(minTokens).temperature(0)
                .ignoreEos(true).build();
        try (Engine engine = Engine.create(config().build()); Tokenizer tokenizer = Tokenizer.load(modelDir)) {
            Result full = engine.generate(List.of(Request.ofText("a", "the story begins", greedy))).get(0);
            String text = full.text();
            assertEquals(text, tokenizer.decode(full.tokenIds()));
            // stop strings count from the min_tokens-th token: the first match ending after the earlier tokens' text
            int before = tokenizer.decode(Arrays.copyOf(full.tokenIds(), minTokens - 1)).length();
            String early = tokenizer.decode(Arrays.copyOf(full.tokenIds(), 2));
            // a character of the first two tokens' text that the text has again later, and one it has not
            String again = null;
            String once = null;
            for (char c : early.toCharArray()) {
                boolean later = text.indexOf(c, before) >= 0;
                if (later && again == null) {
                    again = String.valueOf(c);
                } else if (!later && once == null) {
                    once = String.valueOf(c);
                }
            }
            assertTrue(again != null && once != null, "the greedy text suits the test: " + text);
            for (String stop : List.of(again, once)) {
                int cut = text.indexOf(stop, before);
                assertTrue(text.indexOf(stop) < cut || cut < 0, "the string is in the early text");
                Result stopped = engine.generate(List.of(Request.ofText("b", "the story begins",
                        greedy.toBuilder().stop(List.of(stop)).build()))).get(0);
                assertTrue(stopped.completionTokens() >= minTokens, stopped.completionTokens() + " tokens: " + stopped.text());
                assertEquals(cut < 0 ? text : text.substring(0, cut), stopped.text(), "stop " + stop);
                assertEquals(cut < 0 ? FinishReason.LENGTH : FinishReason.STOP, stopped.finishReason());
                assertArrayEquals(Arrays.copyOf(full.tokenIds(), stopped.completionTokens()), stopped.tokenIds());
            }
        }
    }

    @Test
    void logprobsComeWithEveryToken() {
        SamplingParams p = SamplingParams.builder().maxTokens(5).temperature(0).logprobs(3).ignoreEos(true).build();
        try (Engine engine = Engine.create(config().build())) {
            Result r = engine.generate(List.of(Request.ofText("l", "numbers one two", p))).get(0);
            assertEquals(5, r.logprobs().size());
            for (int i = 0; i < 5; i++) {
                TokenLogprobs lp = r.logprobs().get(i);
                assertEquals(r.tokenIds()[i], lp.tokenId());
                assertEquals(3, lp.topTokenIds().length);
                assertEquals(lp.topTokenIds()[0], lp.tokenId(), "greedy picks the most likely token");
                assertEquals(lp.topLogprobs()[0], lp.logprob(), 1e-6);
                assertTrue(lp.logprob() <= 0);
                assertTrue(lp.topLogprobs()[0] >= lp.topLogprobs()[1] && lp.topLogprobs()[1] >= lp.topLogprobs()[2]);
            }
        }
    }

    @Test
    void backPressureStillCompletesEveryRequest() {
        try (Engine engine = Engine.create(config().maxInFlight(2).build())) {
            List<Result> results = engine.generate(sampledRequests(10, 4));
            assertEquals(10, results.size());
            results.forEach(r -> assertTrue(r.ok()));
        }
    }

    @Test
    void chatRequestsUseTheChatTemplate() {
        SamplingParams p = SamplingParams.builder().maxTokens(4).temperature(0).build();
        try (Engine engine = Engine.create(config().build())) {
            Result chat = engine.generate(List.of(Request.ofChat("c", List.of(new ChatMessage("user", "hi")), p))).get(0);
            assertTrue(chat.ok(), chat.error());
            Result plain = engine.generate(List.of(Request.ofText("p", "hi", p))).get(0);
            assertTrue(chat.promptTokens() > plain.promptTokens() + 4, "the template adds role markers");
        }
    }

    @Test
    void closeAbortsUnfinishedRequestsAndRefusesNewOnes() throws Exception {
        Engine engine = Engine.create(config().build());
        List<CompletableFuture<Result>> futures = new ArrayList<>();
        for (Request r : sampledRequests(4, 400)) {
            futures.add(engine.submit(r));
        }
        engine.close();
        for (CompletableFuture<Result> f : futures) {
            Result r = f.get();
            assertTrue(r.finishReason() == FinishReason.ABORT || r.finishReason() == FinishReason.LENGTH);
        }
        assertThrows(LlmException.class, () -> engine.submit(sampledRequests(1, 1).get(0)));
        engine.close();
    }
}
