package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.api.TokenLogprobs;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One mixed workload through the whole engine (CPU backend, demo model) under scheduling settings that must not
 * change a single result: the reference runs one sequence at a time with a roomy KV cache and no prefix caching; the
 * others batch many sequences, share prefixes through the cache, chunk prompts under a small token budget, and
 * preempt and recompute under a KV cache barely larger than one sequence. The workload has what depends on the token
 * history (repetition, frequency and presence penalties, min_tokens), on the text (stop strings), greedy and seeded
 * rows, logprobs, guided rows (whose masks are built in the background, so they sit steps out), shared prefixes and
 * repeated prompts. Tokens, text, finish reason and every logprob must be equal.
 */
class SchedulingDifferentialTest {
    private static final int MAX_MODEL_LEN = 96;

    @TempDir
    static Path modelDir;

    @BeforeAll
    static void writeModel() {
        DemoModel.write(modelDir);
    }

    private static List<Request> workload() {
        Random r = new Random(20261206L);
        String shared = "System: answer in one short line, and be kind. ";
        String[] tails = {"the cat sat", "what is two plus two", "tell me a story", "hello", "zebra crossing at night"};
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String prompt = (i % 3 == 0 ? "" : shared) + tails[i % tails.length] + (i % 7 == 3 ? "" : " #" + i);
            SamplingParams.Builder p = SamplingParams.builder().maxTokens(6 + r.nextInt(30)).seed(1000L + i);
            switch (i % 4) {
                case 0 -> p.temperature(0);
                case 1 -> p.temperature(0.8).topP(0.9);
                case 2 -> p.temperature(1.2).topK(40).minP(0.02);
                default -> p.temperature(0.6);
            }
            if (i % 3 == 1) {
                p.repetitionPenalty(1.3).frequencyPenalty(0.4).presencePenalty(0.3);
            }
            if (i % 5 == 2) {
                p.minTokens(4);
            }
            if (i % 3 == 2) {
                p.stop(List.of("al", "Wat"));
            }
            if (i % 4 == 3) {
                p.stopTokenIds(Set.of(101, 115));
            }
            if (i % 2 == 0) {
                p.logprobs(3);
            }
            if (i % 8 == 7) {
                p.ignoreEos(true);
            }
            if (i % 11 == 4) {
                p.guided(dev.ember.guided.Constraint.regex("[a-z]{3,8}( [a-z]{2,5})?"));
            } else if (i % 11 == 9) {
                p.guided(dev.ember.guided.Constraint.choice(List.of("alpha", "beta", "gamma ray")));
            }
            out.add(Request.ofText("d" + i, prompt, p.build()));
        }
        return out;
    }

    private static EngineConfig.Builder base() {
        return EngineConfig.builder(modelDir).numThreads(2).maxModelLen(MAX_MODEL_LEN).blockSize(4);
    }

    private static List<Result> run(EngineConfig config, List<Request> requests, long[] preemptions) {
        try (Engine engine = Engine.create(config)) {
            List<Result> results = engine.generate(requests);
            if (preemptions != null) {
                preemptions[0] = engine.metrics().preemptions();
                preemptions[1] = engine.metrics().cachedPromptTokens();
            }
            return results;
        }
    }

    @Test
    void batchingPrefixCachingChunkingAndPreemptionChangeNoResult() {
        List<Request> requests = workload();
        List<Result> reference = run(base().numKvBlocks(1024).maxNumSeqs(1).enablePrefixCaching(false).build(),
                requests, null);
        long stops = reference.stream().filter(x -> x.finishReason() == dev.ember.api.FinishReason.STOP).count();
        assertTrue(stops > 0 && stops < reference.size(), "the workload ends some rows on a stop, others by length: "
                + stops + " stops");

        Set<Integer> tokenStops = Set.of(101, 115, dev.ember.demo.DemoTokenizer.IM_END_ID,
                dev.ember.demo.DemoTokenizer.ENDOFTEXT_ID);
        long cutByString = 0;
        for (int i = 0; i < requests.size(); i++) {
            Result x = reference.get(i);
            if (!requests.get(i).params().stop().isEmpty() && x.finishReason() == dev.ember.api.FinishReason.STOP) {
                assertTrue(!x.text().contains("al") && !x.text().contains("Wat"), x.text());
                cutByString += tokenStops.contains(x.tokenIds()[x.tokenIds().length - 1]) ? 0 : 1;
            }
        }
        assertTrue(cutByString > 0, "some rows end on a stop string");
        long[] counters = new long[2];
        record Setting(String name, EngineConfig config, boolean preempts) { }
        List<Setting> settings = List.of(
                new Setting("batched, prefix caching", base().numKvBlocks(1024).maxNumSeqs(32).build(), false),
                new Setting("one at a time, prefix caching", base().numKvBlocks(1024).maxNumSeqs(1).build(), false),
                new Setting("chunked prefill (budget 5)", base().numKvBlocks(1024).maxNumSeqs(8)
                        .maxNumBatchedTokens(5).enablePrefixCaching(false).build(), false),
                // 26 blocks of 4 = 104 tokens: one sequence at its longest (96) and little more
                new Setting("tiny KV cache", base().numKvBlocks(26).maxNumSeqs(16).enablePrefixCaching(false).build(), true),
                new Setting("tiny KV cache, prefix caching, budget 7", base().numKvBlocks(26).maxNumSeqs(16)
                        .maxNumBatchedTokens(7).build(), true));
        for (Setting s : settings) {
            List<Result> got = run(s.config(), requests, counters);
            if (s.preempts()) {
                assertTrue(counters[0] > 0, s.name() + ": expected preemptions");
            }
            if (s.config().maxNumSeqs() == 1 && s.config().enablePrefixCaching()) {
                // (batched, the hits depend on how far earlier prompts were computed when later ones arrived)
                assertTrue(counters[1] > 0, s.name() + ": expected prefix-cache hits");
            }
            for (int i = 0; i < requests.size(); i++) {
                assertSameResult(reference.get(i), got.get(i), s.name());
            }
        }
    }

    private static void assertSameResult(Result want, Result got, String setting) {
        String where = setting + ", request " + want.requestId();
        assertTrue(want.finishReason() != dev.ember.api.FinishReason.ERROR, where + ": " + want.error());
        assertEquals(want.error(), got.error(), where);
        assertArrayEquals(want.tokenIds(), got.tokenIds(), where);
        assertEquals(want.text(), got.text(), where);
        assertEquals(want.finishReason(), got.finishReason(), where);
        assertEquals(want.completionTokens(), got.completionTokens(), where);
        assertEquals(want.logprobs().size(), got.logprobs().size(), where);
        for (int t = 0; t < want.logprobs().size(); t++) {
            TokenLogprobs a = want.logprobs().get(t);
            TokenLogprobs b = got.logprobs().get(t);
            assertEquals(a.logprob(), b.logprob(), where + ", token " + t);
            assertArrayEquals(a.topTokenIds(), b.topTokenIds(), where + ", token " + t);
            assertArrayEquals(a.topLogprobs(), b.topLogprobs(), where + ", token " + t);
        }
    }
}
