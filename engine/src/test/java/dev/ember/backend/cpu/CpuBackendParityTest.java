package dev.ember.backend.cpu;

import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.backend.cpu.PagedScenario.Chunk;
import dev.ember.backend.cpu.PagedScenario.Seq;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import dev.ember.weights.ModelWeights;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The paged, multi-threaded CPU backend against the dense double-precision {@link NaiveTransformer}. */
class CpuBackendParityTest {
    private static final double TOLERANCE = 1e-5;

    @Test
    void qwen2MatchesTheNaiveReference() {
        runScenario(TinyModels.qwen2(), DType.F32, 3);
    }

    @Test
    void qwen3MatchesTheNaiveReference() {
        runScenario(TinyModels.qwen3(), DType.F32, 2);
    }

    @Test
    void llamaWithLlama3RopeScalingMatchesTheNaiveReference() {
        runScenario(TinyModels.llama3(), DType.F32, 1);
    }

    @Test
    void bf16WeightsMatchTheNaiveReference() {
        runScenario(TinyModels.qwen2(), DType.BF16, 2);
    }

    /**
     * bf16 weights through oneDNN's bf16 matrix instructions with inputs split into three bf16 parts: float32
     * accuracy, so the same tolerance (where oneDNN runs: a CPU with bf16 instructions, OpenMP threads matching).
     */
    @Test
    void bf16WeightsThroughOneDnnMatchTheNaiveReference() {
        int threads = Runtime.getRuntime().availableProcessors();
        String why = OneDnnGemm.unavailable(threads, System.getenv("OMP_NUM_THREADS"), threads);
        assumeTrue(why == null, () -> "oneDNN does not run here: " + why);
        runScenario(TinyModels.qwen2(), DType.BF16, threads, Simd.KERNELS, true);
        runScenario(TinyModels.qwen3(), DType.BF16, threads, Simd.KERNELS, true);
        runScenario(TinyModels.llama3(), DType.BF16, threads, Simd.KERNELS, true);
    }

    @Test
    void f16WeightsMatchTheNaiveReference() {
        runScenario(TinyModels.llama3(), DType.F16, 2);
    }

    /**
     * Mixed steps: a prompt prefilled in two chunks (the second continuing the first), whole prompts of odd
     * lengths, a one-token prompt, decodes crossing block boundaries; blocks of 4 taken in shuffled order.
     */
    private static void runScenario(ModelConfig config, DType dtype, int threads) {
        for (Kernels kernels : TestKernels.all()) {
            runScenario(config, dtype, threads, kernels, false);
        }
    }

    private static void runScenario(ModelConfig config, DType dtype, int threads, Kernels kernels, boolean oneDnn) {
        ModelWeights weights = TinyModels.weights(config, dtype, 17);
        NaiveTransformer naive = new NaiveTransformer(config, weights);
        SamplingParams greedy = SamplingParams.builder().temperature(0).logprobs(2).build();
        PagedScenario scenario = new PagedScenario(4, 40, greedy, 5);
        int vocab = config.vocabSize();
        Seq a = scenario.newSeq(11, 16, vocab);
        Seq b = scenario.newSeq(6, 11, vocab);
        Seq c = scenario.newSeq(9, 13, vocab);
        Seq d = scenario.newSeq(1, 6, vocab);
        List<List<Chunk>> steps = List.of(
                List.of(new Chunk(a, 5, false), new Chunk(b, 6, true), new Chunk(d, 1, true)),
                List.of(new Chunk(b, 1, true), new Chunk(a, 6, true), new Chunk(c, 3, false), new Chunk(d, 1, true)),
                List.of(new Chunk(a, 1, true), new Chunk(b, 1, true), new Chunk(c, 6, true), new Chunk(d, 1, true)),
                List.of(new Chunk(c, 1, true), new Chunk(a, 1, true), new Chunk(d, 1, true), new Chunk(b, 1, true)),
                List.of(new Chunk(a, 1, true), new Chunk(c, 1, true), new Chunk(b, 1, true), new Chunk(d, 1, true)),
                List.of(new Chunk(d, 1, true), new Chunk(c, 1, true), new Chunk(b, 1, true), new Chunk(a, 1, true)));
        try (CpuBackend backend = new CpuBackend(config, weights, threads, 1 << 20, kernels, oneDnn)) {
            assertEquals(oneDnn, backend.description().contains("oneDNN"), backend.description());
            assertTrue(backend.allocateKvCache(4, 40) == 40);
            int compared = 0;
            for (List<Chunk> step : steps) {
                ForwardBatch batch = scenario.batch(step);
                // even steps through step() (logits + sampling), odd ones through forwardLogits()
                boolean viaStep = compared % 2 == 0;
                float[][] logits = viaStep ? null : backend.forwardLogits(batch);
                StepOutput out = viaStep ? backend.step(batch) : null;
                for (int s = 0; s < step.size(); s++) {
                    Chunk chunk = step.get(s);
                    if (!chunk.sample()) {
                        if (viaStep) {
                            assertEquals(-1, out.tokens()[s]);
                        } else {
                            assertNull(logits[s]);
                        }
                        continue;
                    }
                    double[] expected = naive.lastLogits(chunk.seq().prefix(chunk.seq().computed));
                    if (viaStep) {
                        assertEquals(argmax(expected), out.tokens()[s], "greedy token of sequence " + s);
                        assertEquals(logSoftmax(expected)[out.tokens()[s]], out.logprobs()[s], 1e-5);
                        assertEquals(argmax(expected), out.topTokenIds()[s][0]);
                    } else {
                        assertNotNull(logits[s]);
                        assertClose(expected, logits[s], kernels.description() + " " + config.architecture() + " " + dtype
                                + " step " + compared + " seq " + s);
                    }
                }
                compared++;
            }
        }
    }

    static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double maxAbs = 0;
        double maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
            maxErr = Math.max(maxErr, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(maxAbs > 0.1, what + ": logits are degenerate");
        assertTrue(maxErr <= TOLERANCE * maxAbs, what + ": relative error " + maxErr / maxAbs);
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double[] logSoftmax(double[] v) {
        double max = v[argmax(v)];
        double sum = 0;
        for (double x : v) {
            sum += Math.exp(x - max);
        }
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] - max - Math.log(sum);
        }
        return out;
    }
}
