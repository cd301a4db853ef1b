package dev.ember.engine;

import dev.ember.ConfigException;
import dev.ember.api.ChatMessage;
import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.arrow.ArrowResults;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzz with a fixed seed: 3,000 requests of hostile text (random bytes, lone surrogates, control characters, long
 * prompts) and hostile sampling values (huge, negative, NaN, contradictory, 10,000-character stop strings). Every
 * request either fails validation with a message naming its option or gets a well-formed result; afterwards no KV
 * block is held and the results' Arrow vectors free every byte.
 */
class FuzzTest {
    static final long SEED = 20261203L;
    static final int CASES = 3000;
    static final int MAX_MODEL_LEN = 48;

    /** Hostile text: one of several shapes, all valid Java strings (lone surrogates included). */
    static String text(Random r) {
        int len = r.nextInt(8) == 0 ? 200 + r.nextInt(2000) : r.nextInt(24);
        StringBuilder b = new StringBuilder();
        switch (r.nextInt(6)) {
            case 0 -> { // random bytes, decoded as UTF-8 (replacement characters) or Latin-1
                byte[] bytes = new byte[len];
                r.nextBytes(bytes);
                b.append(new String(bytes, r.nextBoolean() ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1));
            }
            case 1 -> { // lone and reversed surrogates
                for (int i = 0; i < len; i++) {
                    b.append((char) (0xD800 + r.nextInt(0x800)));
                }
            }
            case 2 -> { // control characters, NUL included
                for (int i = 0; i < len; i++) {
                    b.append((char) r.nextInt(0x20));
                }
            }
            case 3 -> { // any code point
                for (int i = 0; i < len; i++) {
                    b.appendCodePoint(r.nextInt(0x110000));
                }
            }
            case 4 -> b.append("<|im_start|>{{ x }}{% raw %}".repeat(1 + len / 24)); // template-ish and special tokens
            default -> b.append("the cat sat on the mat ".repeat(1 + len / 20));
        }
        return b.toString();
    }

    static double pick(Random r, double... values) {
        return values[r.nextInt(values.length)];
    }

    /** Mostly one of {@code valid}; one time in 16 one of {@code hostile}, so about half the requests are valid. */
    static double pick(Random r, double[] valid, double... hostile) {
        return r.nextInt(16) == 0 ? pick(r, hostile) : pick(r, valid);
    }

    static double[] v(double... values) {
        return values;
    }

    /** Sampling settings with hostile values; invalid combinations must fail in build() naming the option. */
    static SamplingParams.Builder params(Random r) {
        SamplingParams.Builder b = SamplingParams.builder()
                .maxTokens((int) pick(r, v(1, 2, 3, Integer.MAX_VALUE, 1_000_000), 0, -1, Integer.MIN_VALUE))
                .minTokens((int) pick(r, v(0, 0, 1), -3, Integer.MAX_VALUE, 5))
                .temperature(pick(r, v(0, 0.7, 1, 1e-300, 1e-40, 1e300, 1e-6, 50), -1, Double.NaN, Double.POSITIVE_INFINITY))
                .topP(pick(r, v(1, 0.9, 1e-9), 0, 2, Double.NaN))
                .topK((int) pick(r, v(0, -1, 1, 5, Integer.MAX_VALUE), -7, Integer.MIN_VALUE))
                .minP(pick(r, v(0, 0.1, 1), -0.5, 2, Double.NaN))
                .repetitionPenalty(pick(r, v(1, 1.3, 1e-30, 1e30), 0, -1, Double.NaN))
                .presencePenalty(pick(r, v(0, 2, -2), 3, Double.NaN))
                .frequencyPenalty(pick(r, v(0, 1.5, -2), 1e9, Double.NEGATIVE_INFINITY))
                .logprobs((int) pick(r, v(0, 0, 3, 20), 21, -1))
                .seed(r.nextInt(4) == 0 ? null : r.nextLong())
                .ignoreEos(r.nextBoolean());
        switch (r.nextInt(5)) {
            case 0 -> b.stop(List.of("x".repeat(10_000)));
            case 1 -> b.stop(List.of(text(r) + "a", "the", "\u0000"));
            case 2 -> b.stop(r.nextInt(8) == 0 ? List.of("") : List.of("\uD800", "a"));
            default -> { }
        }
        if (r.nextInt(4) == 0) {
            b.stopTokenIds(r.nextInt(8) == 0 ? Set.of(-1) : Set.of(r.nextInt(Integer.MAX_VALUE), Integer.MAX_VALUE, 3));
        }
        return b;
    }

    static final Set<String> OPTION_NAMES = Set.of("max_tokens", "min_tokens", "temperature", "top_p", "top_k", "min_p",
            "repetition_penalty", "presence_penalty", "frequency_penalty", "logprobs", "stop", "stop_token_ids", "messages");

    @Test
    void thousandsOfHostileRequestsGetCleanErrorsOrWellFormedResultsAndLeakNothing(@TempDir Path dir) {
        DemoModel.write(dir);
        Random r = new Random(SEED);
        int invalid = 0;
        int errors = 0;
        List<Result> results = new ArrayList<>();
        try (Engine engine = Engine.create(EngineConfig.builder(dir).numThreads(2).cpuKvCacheBytes(4L << 20)
                .maxModelLen(MAX_MODEL_LEN).blockSize(4).build())) {
            List<CompletableFuture<Result>> futures = new ArrayList<>();
            List<SamplingParams> asked = new ArrayList<>();
            for (int i = 0; i < CASES; i++) {
                SamplingParams p;
                Request request;
                try {
                    p = params(r).build();
                    request = switch (r.nextInt(4)) {
                        case 0 -> Request.ofTokens("t" + i, r.ints(r.nextInt(60), -5, DemoModel.VOCAB_SIZE + 5).toArray(), p);
                        case 1 -> Request.ofChat("c" + i, List.of(new ChatMessage(r.nextBoolean() ? "user" : text(r),
                                text(r))), p);
                        default -> Request.ofText("p" + i, r.nextInt(20) == 0 ? null : text(r), p);
                    };
                } catch (ConfigException e) {
                    invalid++;
                    assertTrue(OPTION_NAMES.stream().anyMatch(e.getMessage()::contains), e.getMessage());
                    continue;
                }
                futures.add(engine.submit(request));
                asked.add(p);
            }
            for (int i = 0; i < futures.size(); i++) {
                Result res = futures.get(i).join();
                results.add(res);
                SamplingParams p = asked.get(i);
                assertNotNull(res.finishReason(), res.requestId());
                if (res.finishReason() == FinishReason.ERROR) {
                    errors++;
                    assertNull(res.text());
                    assertFalse(res.error() == null || res.error().isBlank(), res.requestId());
                    continue;
                }
                assertNull(res.error(), res.requestId());
                assertNotNull(res.text(), res.requestId());
                assertTrue(res.completionTokens() >= 1 && res.completionTokens() <= p.maxTokens(), res.requestId());
                assertTrue(res.promptTokens() + res.completionTokens() <= MAX_MODEL_LEN, res.requestId());
                assertEquals(res.completionTokens(), res.tokenIds().length, res.requestId());
                for (int t : res.tokenIds()) {
                    assertTrue(t >= 0 && t < engine.vocabSize(), res.requestId() + " token " + t);
                }
                if (p.logprobs() > 0) {
                    assertEquals(res.completionTokens(), res.logprobs().size(), res.requestId());
                }
            }
            assertEquals(0.0, engine.metrics().kvUsage(), "every KV block is free again");
            assertEquals(0, engine.metrics().running() + engine.metrics().waiting());
            assertNull(engine.failure());
        }
        assertTrue(invalid > CASES / 5 && errors > 50 && results.size() - errors > 500,
                "the fuzz reaches every outcome: " + invalid + " invalid, " + errors + " errors, "
                        + (results.size() - errors) + " generated");
        try (RootAllocator allocator = new RootAllocator()) {
            for (int from = 0; from < results.size(); from += 500) {
                try (VectorSchemaRoot root = ArrowResults.toRoot(results.subList(from, Math.min(results.size(), from + 500)),
                        allocator)) {
                    assertTrue(root.getRowCount() > 0);
                }
            }
            assertEquals(0, allocator.getAllocatedMemory(), "Arrow memory leaked");
        } catch (IllegalStateException leak) {
            fail("Arrow allocator reports a leak: " + leak.getMessage());
        }
    }
}
