package dev.ember.backend.cuda;

import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.engine.Engine;
import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.guided.Constraint;
import dev.ember.guided.TokenMask;
import dev.ember.model.Architecture;
import dev.ember.demo.DemoModel;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.Sample;
import dev.ember.sampling.Sampler;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guided decoding on the GPU: the sampling kernel with packed per-row bitmasks against {@link Sampler} with the
 * same masks (greedy, temperature, top-k, top-p, min-p, penalties, min_tokens with a complete output), and the
 * whole engine on cuda (float32) against cpu under choice, regex and JSON constraints: identical tokens.
 */
@Tag("gpu")
class GuidedSamplingGpuTest {
    private static final int VOCAB = 5003;
    private static final Set<Integer> EOS = Set.of(7, 4999);

    @TempDir
    static Path modelDir;

    private static List<SamplingParams> settings() {
        return List.of(
                SamplingParams.builder().temperature(0).build(),
                SamplingParams.builder().temperature(0.7).logprobs(3).build(),
                SamplingParams.builder().temperature(1.0).topK(5).build(),
                SamplingParams.builder().temperature(1.0).topK(50).topP(0.9).build(),
                SamplingParams.builder().temperature(0.9).topP(0.5).minP(0.05).build(),
                SamplingParams.builder().temperature(0.9).repetitionPenalty(1.3).presencePenalty(0.4).build(),
                SamplingParams.builder().temperature(1.0).minTokens(5).build(),
                SamplingParams.builder().temperature(0).minTokens(5).build(),
                SamplingParams.builder().temperature(1.0).build(),
                SamplingParams.builder().temperature(1.2).topK(3000).build());
    }

    /** Row s: a random mask of density 2^-(s % 5) (row 7: only EOS, a complete output; row 8: none). */
    private static TokenMask mask(int s, Random r) {
        if (s == 8) {
            return null;
        }
        long[] bits = new long[(VOCAB + 63) / 64];
        if (s == 7 || s == 6 && r.nextBoolean()) {
            for (int id : EOS) {
                bits[id >>> 6] |= 1L << id;
            }
            return new TokenMask(bits, true);
        }
        int shift = s % 5;
        int allowed = 0;
        for (int v = 0; v < VOCAB; v++) {
            if (r.nextInt(1 << shift) == 0) {
                bits[v >>> 6] |= 1L << v;
                allowed++;
            }
        }
        if (allowed == 0) {
            bits[0] |= 1L << 3;
        }
        return new TokenMask(bits, false);
    }

    @Test
    void maskedGpuSamplingMatchesSampler() throws Exception {
        ModelConfig config = new ModelConfig(Architecture.QWEN2, VOCAB, 64, 128, 1, 2, 1, 64, 1e-6, 1e6, null, 4096,
                true, true, false, "bfloat16", 1, EOS);
        List<SamplingParams> settings = settings();
        int seqs = settings.size();
        Sampler reference = new Sampler(EOS);
        Random r = new Random(11);
        int mismatches = 0;
        int draws = 0;
        try (GpuTestSupport gpu = new GpuTestSupport();
             Activations act = new Activations(config, DType.BF16, 64, seqs, new float[32]);
             StepInputs in = new StepInputs(64, seqs, 4, 16);
             GpuSampler sampler = new GpuSampler(gpu.kernels(DType.BF16), act, in, gpu.stream, EOS, VOCAB, seqs)) {
            for (int round = 0; round < 8; round++) {
                int[][] history = new int[seqs][];
                int[] promptLen = new int[seqs];
                int[] outputIndex = new int[seqs];
                long[] seeds = new long[seqs];
                TokenMask[] masks = new TokenMask[seqs];
                float[][] logits = new float[seqs][VOCAB];
                float[] flat = new float[seqs * VOCAB];
                for (int s = 0; s < seqs; s++) {
                    promptLen[s] = 5 + r.nextInt(20);
                    outputIndex[s] = round;
                    history[s] = r.ints(promptLen[s] + round + 3, 0, 40).toArray();
                    seeds[s] = r.nextLong();
                    masks[s] = mask(s, r);
                    for (int v = 0; v < VOCAB; v++) {
                        logits[s][v] = (float) (r.nextGaussian() * 3);
                    }
                    System.arraycopy(logits[s], 0, flat, s * VOCAB, VOCAB);
                }
                ForwardBatch batch = decodeBatch(settings, history, promptLen, outputIndex, seeds, masks);
                GpuSampler.Plan plan = sampler.plan(batch);
                in.write(batch, 0, 1, plan.logitTokenOf());
                in.upload(gpu.stream);
                act.logits.upload(0, flat);
                StepOutput got = sampler.sample(batch, plan);
                for (int s = 0; s < seqs; s++) {
                    Sample want = reference.sample(logits[s], settings.get(s), seeds[s], outputIndex[s], history[s],
                            promptLen[s], masks[s]);
                    draws++;
                    if (masks[s] != null) {
                        assertTrue(masks[s].allows(got.tokens()[s]), "row " + s + " sampled disallowed " + got.tokens()[s]);
                    }
                    if (got.tokens()[s] != want.tokenId()) {
                        mismatches++;
                        continue;
                    }
                    assertEquals(want.logprob(), got.logprobs()[s], 1e-5, "logprob of sequence " + s);
                    if (want.topTokenIds() == null) {
                        assertNull(got.topTokenIds()[s]);
                    } else {
                        assertArrayEquals(want.topTokenIds(), got.topTokenIds()[s]);
                    }
                }
            }
        }
        assertEquals(0, mismatches, mismatches + " of " + draws + " masked draws differ from Sampler's");
    }

    @Test
    @Disabled("failed on the H200 (2026-12-03): the demo model has head_dim 16, which the CUDA attention kernels refuse;"
            + " needs a RandomCheckpoint with head_dim 64 and a tokenizer")
    void cudaAndCpuEnginesGiveIdenticalGuidedTokens() {
        DemoModel.write(modelDir);
        List<Request> requests = new ArrayList<>();
        String schema = "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]},"
                + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":6},\"maxItems\":3},"
                + "\"score\":{\"type\":\"integer\",\"minimum\":-5,\"maximum\":500}},\"required\":[\"label\",\"score\"]}";
        for (int i = 0; i < 24; i++) {
            Constraint c = switch (i % 3) {
                case 0 -> Constraint.choice(List.of("positive", "negative", "neutral", "mixed feelings"));
                case 1 -> Constraint.regex("[A-Z][a-z]{1,8}( [a-z]{1,8}){0,3}\\.");
                default -> Constraint.json(schema);
            };
            SamplingParams p = SamplingParams.builder().maxTokens(48).temperature(i % 4 == 0 ? 0 : 0.8)
                    .topK(i % 5 == 1 ? 20 : 0).topP(i % 5 == 2 ? 0.9 : 1.0).seed(500L + i).guided(c).build();
            requests.add(Request.ofText("r" + i, "item " + i + " says: ", p));
        }
        List<Result> cpu;
        try (Engine e = Engine.create(EngineConfig.builder(modelDir).numThreads(2).cpuKvCacheBytes(32L << 20).build())) {
            cpu = e.generate(requests);
        }
        List<Result> cuda;
        try (Engine e = Engine.create(EngineConfig.builder(modelDir).device("cuda").dtype("float32").build())) {
            cuda = e.generate(requests);
        }
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(cpu.get(i).tokenIds(), cuda.get(i).tokenIds(), "request " + i + ": cpu '"
                    + cpu.get(i).text() + "' vs cuda '" + cuda.get(i).text() + "'");
            assertEquals(cpu.get(i).error(), cuda.get(i).error());
        }
    }

    private static ForwardBatch decodeBatch(List<SamplingParams> params, int[][] history, int[] promptLen,
                                            int[] outputIndex, long[] seeds, TokenMask[] masks) {
        int s = params.size();
        int[] ids = new int[s];
        int[] positions = new int[s];
        int[] slots = new int[s];
        int[] queryStart = new int[s + 1];
        int[] contextLens = new int[s];
        int[][] tables = new int[s][1];
        boolean[] sample = new boolean[s];
        for (int i = 0; i < s; i++) {
            queryStart[i + 1] = i + 1;
            contextLens[i] = 1;
            sample[i] = true;
            slots[i] = -1;
        }
        return new ForwardBatch(s, ids, positions, slots, queryStart, contextLens, tables, 16, sample,
                params.toArray(new SamplingParams[0]), seeds, outputIndex, history, promptLen, masks);
    }
}
