package dev.ember.backend.cuda;

import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.model.Architecture;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.Sample;
import dev.ember.sampling.Sampler;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The GPU sampling path (plan, penalties, the sampling kernel with top-k/top-p/min-p) against {@link Sampler}
 * on the same logits: tokens equal, logprobs and top logprobs within 1e-5, over many draws (several output
 * indexes), every kind of setting, and logits with many exact ties (odd rounds) so top-k and top-p cut
 * inside groups of equal values.
 */
@Tag("gpu")
class GpuSamplerTest {
    private static final int VOCAB = 5003;
    private static final Set<Integer> EOS = Set.of(7, 4999);

    private static List<SamplingParams> settings() {
        return List.of(
                SamplingParams.builder().temperature(0).build(),
                SamplingParams.builder().temperature(0).logprobs(5).build(),
                SamplingParams.builder().temperature(0.7).build(),
                SamplingParams.builder().temperature(1.3).logprobs(20).build(),
                SamplingParams.builder().temperature(1.0).minP(0.05).build(),
                SamplingParams.builder().temperature(0.9).repetitionPenalty(1.3).frequencyPenalty(0.5).presencePenalty(0.3).build(),
                SamplingParams.builder().temperature(0).repetitionPenalty(0.8).frequencyPenalty(-0.4).build(),
                SamplingParams.builder().temperature(0.8).minTokens(3).stopTokenIds(Set.of(11, 12)).build(),
                SamplingParams.builder().temperature(0).minTokens(2).build(),
                SamplingParams.builder().temperature(1.0).topK(40).logprobs(3).build(),
                SamplingParams.builder().temperature(0.6).topP(0.9).build(),
                SamplingParams.builder().temperature(0.6).topK(100).topP(0.8).minP(0.02).repetitionPenalty(1.1).build(),
                SamplingParams.builder().temperature(1.0).topK(1).build(),
                SamplingParams.builder().temperature(1.0).topK(VOCAB - 1).build(),
                SamplingParams.builder().temperature(2.0).topK(7).minTokens(4).build(),
                SamplingParams.builder().temperature(1.5).topP(0.3).build(),
                SamplingParams.builder().temperature(3.0).topP(0.999).logprobs(2).build(),
                SamplingParams.builder().temperature(1.0).topP(1e-6).build(),
                SamplingParams.builder().temperature(1.2).topK(300).topP(0.95).presencePenalty(0.5).build());
    }

    /** 0: one CTA a row; 8 SMs: the 14 rows split in 3; 10,000 SMs: in 32, chunks of a few dozen tokens. */
    @ParameterizedTest(name = "multiprocessors {0}")
    @ValueSource(ints = {0, 8, 10_000})
    void gpuSamplingMatchesSamplerExactly(int multiprocessors) throws Exception {
        ModelConfig config = new ModelConfig(Architecture.QWEN2, VOCAB, 64, 128, 1, 2, 1, 64, 1e-6, 1e6, null, 4096,
                true, true, false, "bfloat16", 1, EOS);
        List<SamplingParams> settings = settings();
        int seqs = settings.size();
        Sampler reference = new Sampler(EOS);
        Random r = new Random(5);
        int mismatches = 0;
        int draws = 0;
        try (GpuTestSupport gpu = new GpuTestSupport();
             Activations act = new Activations(config, DType.BF16, 64, seqs, new float[32]);
             StepInputs in = new StepInputs(64, seqs, 4, 16);
             GpuSampler sampler = new GpuSampler(gpu.kernels(DType.BF16), act, in, gpu.stream, EOS, VOCAB, seqs,
                     multiprocessors)) {
            for (int round = 0; round < 6; round++) {
                int[][] history = new int[seqs][];
                int[] promptLen = new int[seqs];
                int[] outputIndex = new int[seqs];
                long[] seeds = new long[seqs];
                float[][] logits = new float[seqs][VOCAB];
                float[] flat = new float[seqs * VOCAB];
                for (int s = 0; s < seqs; s++) {
                    promptLen[s] = 5 + r.nextInt(20);
                    outputIndex[s] = round;
                    history[s] = r.ints(promptLen[s] + round + 3, 0, 40).toArray(); // small ids: repeats get penalized
                    seeds[s] = r.nextLong();
                    boolean ties = round % 2 == 1;
                    for (int v = 0; v < VOCAB; v++) {
                        double g = r.nextGaussian() * 3;
                        logits[s][v] = (float) (ties ? Math.round(g * 2) / 2.0 : g);
                    }
                    logits[s][history[s][0]] = 12; // a penalized token that would win without penalties
                    System.arraycopy(logits[s], 0, flat, s * VOCAB, VOCAB);
                }
                ForwardBatch batch = decodeBatch(settings, history, promptLen, outputIndex, seeds);
                GpuSampler.Plan plan = sampler.plan(batch);
                in.write(batch, 0, 1, plan.logitTokenOf());
                in.upload(gpu.stream);
                act.logits.upload(0, flat);
                StepOutput got = sampler.sample(batch, plan);
                for (int s = 0; s < seqs; s++) {
                    Sample want = reference.sample(logits[s], settings.get(s), seeds[s], outputIndex[s], history[s],
                            promptLen[s]);
                    draws++;
                    if (got.tokens()[s] != want.tokenId()) {
                        mismatches++;
                        continue;
                    }
                    assertEquals(want.logprob(), got.logprobs()[s], 1e-5, "logprob of sequence " + s);
                    if (want.topTokenIds() == null) {
                        assertNull(got.topTokenIds()[s]);
                    } else {
                        assertArrayEquals(want.topTokenIds(), got.topTokenIds()[s], "top ids of sequence " + s);
                        assertArrayEquals(want.topLogprobs(), got.topLogprobs()[s], 1e-5f, "top logprobs of sequence " + s);
                    }
                }
            }
        }
        assertEquals(0, mismatches, mismatches + " of " + draws + " sampled tokens differ from Sampler's");
    }

    @Test
    void aTemperatureTooSmallForAFloatSamplesGreedily() throws Exception {
        ModelConfig config = new ModelConfig(Architecture.QWEN2, VOCAB, 64, 128, 1, 2, 1, 64, 1e-6, 1e6, null, 4096,
                true, true, false, "bfloat16", 1, EOS);
        List<SamplingParams> params = List.of(SamplingParams.builder().temperature(1e-300).build(),
                SamplingParams.builder().temperature(1e-40).topP(0.5).build(),
                SamplingParams.builder().temperature(1e-20).topK(5).build());
        int seqs = params.size();
        Random r = new Random(9);
        float[] flat = new float[seqs * VOCAB];
        int[] want = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            float[] row = GpuTestSupport.random(r, VOCAB, 4f);
            row[0] = -50;
            want[s] = 0;
            for (int v = 1; v < VOCAB; v++) {
                if (row[v] > row[want[s]]) {
                    want[s] = v;
                }
            }
            System.arraycopy(row, 0, flat, s * VOCAB, VOCAB);
        }
        try (GpuTestSupport gpu = new GpuTestSupport();
             Activations act = new Activations(config, DType.BF16, 64, seqs, new float[32]);
             StepInputs in = new StepInputs(64, seqs, 4, 16);
             GpuSampler sampler = new GpuSampler(gpu.kernels(DType.BF16), act, in, gpu.stream, EOS, VOCAB, seqs)) {
            ForwardBatch batch = decodeBatch(params, new int[seqs][3], new int[] {2, 2, 2}, new int[seqs], new long[] {1, 2, 3});
            GpuSampler.Plan plan = sampler.plan(batch);
            in.write(batch, 0, 1, plan.logitTokenOf());
            in.upload(gpu.stream);
            act.logits.upload(0, flat);
            assertArrayEquals(want, sampler.sample(batch, plan).tokens());
        }
    }

    static ForwardBatch decodeBatch(List<SamplingParams> params, int[][] history, int[] promptLen,
                                            int[] outputIndex, long[] seeds) {
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
                params.toArray(new SamplingParams[0]), seeds, outputIndex, history, promptLen);
    }
}
