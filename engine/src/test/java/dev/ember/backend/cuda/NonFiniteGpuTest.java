package dev.ember.backend.cuda;

import dev.ember.ModelFormatException;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.api.EngineConfig;
import dev.ember.model.Architecture;
import dev.ember.model.ModelConfig;
import dev.ember.model.ModelConfigLoader;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.DType;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.weights.TensorPoke;
import dev.ember.model.WeightLoader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Non-finite values on the GPU: weights are checked at load (finite.cu) with the tensor named, and the sampling
 * kernel reports a row of NaN/Inf logits as {@link StepOutput#NON_FINITE} instead of drawing a token from it.
 */
@Tag("gpu")
class NonFiniteGpuTest {
    private static RandomCheckpoint.Spec spec(DType dtype) {
        return RandomCheckpoint.Spec.builder(Architecture.QWEN2).withTokenizer(false).dtype(dtype).hiddenSize(256)
                .numHeads(4).numKvHeads(2).headDim(64).intermediateSize(384).numLayers(2).build();
    }

    private static void open(Path dir, String dtype) {
        ModelConfig config = ModelConfigLoader.load(dir);
        EngineConfig engine = EngineConfig.builder(dir).device("cuda").dtype(dtype).maxNumSeqs(4)
                .maxNumBatchedTokens(64).maxModelLen(256).build();
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            ModelWeights weights = WeightLoader.load(config, checkpoint);
            CudaBackend.open(config, weights, engine).close();
        }
    }

    @Test
    void aNanWeightFailsTheLoadNamingTheTensor(@TempDir Path dir) throws Exception {
        RandomCheckpoint.write(dir, spec(DType.BF16));
        open(dir, "bfloat16"); // the clean checkpoint loads
        TensorPoke.set(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE), "model.layers.1.mlp.down_proj.weight", 1234, Float.NaN);
        TensorPoke.set(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE), "model.layers.1.mlp.down_proj.weight", 99, Float.NEGATIVE_INFINITY);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> open(dir, "bfloat16"));
        assertTrue(e.getMessage().contains("'model.layers.1.mlp.down_proj.weight' holds 2 NaN or infinite"), e.getMessage());
    }

    @Test
    void float32ValuesThatOverflowFloat16AreCaughtToo(@TempDir Path dir) throws Exception {
        RandomCheckpoint.write(dir, spec(DType.F32));
        TensorPoke.set(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE), "model.layers.0.self_attn.k_proj.weight", 7, 1e6f);
        open(dir, "bfloat16"); // 1e6 fits bfloat16
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> open(dir, "float16"));
        assertTrue(e.getMessage().contains("'model.layers.0.self_attn.k_proj.weight' holds 1 NaN or infinite"), e.getMessage());
        assertTrue(e.getMessage().contains("dtype=bfloat16"), e.getMessage());
    }

    @Test
    void aRowOfNonFiniteLogitsIsReportedNotSampled() throws Exception {
        int vocab = 1000;
        ModelConfig config = new ModelConfig(Architecture.QWEN2, vocab, 64, 128, 1, 2, 1, 64, 1e-6, 1e6, null, 4096,
                true, true, false, "bfloat16", 1, Set.of(3));
        List<SamplingParams> params = List.of(SamplingParams.builder().temperature(0).build(),
                SamplingParams.builder().temperature(0.8).topP(0.9).build(),
                SamplingParams.builder().temperature(0).logprobs(3).build(),
                SamplingParams.builder().temperature(0.5).build());
        int seqs = params.size();
        float[] flat = new float[seqs * vocab];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = (float) Math.sin(i * 0.37) * 4;
        }
        flat[0 * vocab + 17] = Float.NaN;
        flat[1 * vocab + 999] = Float.POSITIVE_INFINITY;
        flat[2 * vocab] = Float.NEGATIVE_INFINITY;
        int[][] history = new int[seqs][4];
        try (GpuTestSupport gpu = new GpuTestSupport();
             Activations act = new Activations(config, DType.BF16, 64, seqs, new float[32]);
             StepInputs in = new StepInputs(64, seqs, 4, 16);
             GpuSampler sampler = new GpuSampler(gpu.kernels(DType.BF16), act, in, gpu.stream, Set.of(3), vocab, seqs)) {
            ForwardBatch batch = GpuSamplerTest.decodeBatch(params, history, new int[] {3, 3, 3, 3}, new int[seqs],
                    new long[] {1, 2, 3, 4});
            GpuSampler.Plan plan = sampler.plan(batch);
            in.write(batch, 0, 1, plan.logitTokenOf());
            in.upload(gpu.stream);
            act.logits.upload(0, flat);
            StepOutput out = sampler.sample(batch, plan);
            int[] want = {StepOutput.NON_FINITE, StepOutput.NON_FINITE, StepOutput.NON_FINITE};
            assertEquals(Arrays.toString(want), Arrays.toString(Arrays.copyOf(out.tokens(), 3)));
            assertTrue(out.tokens()[3] >= 0 && out.tokens()[3] < vocab, "the finite row samples: " + out.tokens()[3]);
        }
    }

    @Test
    void aRowWhosePenaltiesMaskEveryTokenHasNoCandidate() throws Exception {
        int vocab = 1000;
        ModelConfig config = new ModelConfig(Architecture.QWEN2, vocab, 64, 128, 1, 2, 1, 64, 1e-6, 1e6, null, 4096,
                true, true, false, "bfloat16", 1, Set.of(3));
        SamplingParams harsh = SamplingParams.builder().repetitionPenalty(3e38).build();
        List<SamplingParams> params = List.of(harsh.toBuilder().temperature(0).build(),
                harsh.toBuilder().temperature(0.9).build(), SamplingParams.builder().temperature(0).build());
        int seqs = params.size();
        float[] flat = new float[seqs * vocab];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = -10 - (i % 7); // all negative: times 3e38 is -inf
        }
        int[] all = java.util.stream.IntStream.range(0, vocab).toArray();
        try (GpuTestSupport gpu = new GpuTestSupport();
             Activations act = new Activations(config, DType.BF16, 64, seqs, new float[32]);
             StepInputs in = new StepInputs(64, seqs, 4, 16);
             GpuSampler sampler = new GpuSampler(gpu.kernels(DType.BF16), act, in, gpu.stream, Set.of(3), vocab, seqs)) {
            ForwardBatch batch = GpuSamplerTest.decodeBatch(params, new int[][] {all, all, all},
                    new int[] {vocab, vocab, vocab}, new int[seqs], new long[] {1, 2, 3});
            GpuSampler.Plan plan = sampler.plan(batch);
            in.write(batch, 0, 1, plan.logitTokenOf());
            in.upload(gpu.stream);
            act.logits.upload(0, flat);
            StepOutput out = sampler.sample(batch, plan);
            assertEquals(StepOutput.NO_CANDIDATE, out.tokens()[0]);
            assertEquals(StepOutput.NO_CANDIDATE, out.tokens()[1]);
            int want = 0;
            while ((2 * vocab + want) % 7 != 0) {
                want++;
            }
            assertEquals(want, out.tokens()[2], "without penalties the greedy row takes its largest logit");
        }
    }
}
