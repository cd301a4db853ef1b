package dev.ember.backend.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.api.EngineConfig;
import dev.ember.model.ModelConfig;
import dev.ember.model.ModelConfigLoader;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.model.WeightLoader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA backend against Hugging Face transformers ({@code hf_reference.py}) on checkpoints written by
 * {@code make_model.py}, on the GPU host. The directory named by the environment variable EMBER_HF_PARITY holds
 * one folder per model: {@code model/}, {@code prompts.json} and {@code ref-float32.json} and/or
 * {@code ref-bfloat16.json}. For each reference dtype:
 * <ul>
 *   <li>logits at each prompt's last position (prompts prefilled together in chunks of 64, so long prompts span
 *       several steps beside others): the relative L2 error over the reference's top logits, and of the row's L2
 *       norm, under 1e-3 in float32 and 2e-2 in bfloat16;</li>
 *   <li>16 greedy tokens per prompt through {@code step()} (GPU sampling, decode CUDA graphs), with one prompt
 *       preempted after 8 tokens and recomputed, and a copy of the longest prompt served from its cached prefix
 *       blocks: in float32 every token must equal the reference's (in bfloat16 the count is reported).</li>
 * </ul>
 */
@Tag("gpu")
class HfParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BLOCK = 16;

    @Test
    void matchesTransformers() throws IOException {
        String root = System.getenv("EMBER_HF_PARITY");
        Assumptions.assumeTrue(root != null, "EMBER_HF_PARITY is not set");
        List<String> failures = new ArrayList<>();
        try (Stream<Path> models = Files.list(Path.of(root)).sorted()) {
            for (Path m : models.toList()) {
                for (String dtype : new String[] {"float32", "bfloat16"}) {
                    Path ref = m.resolve("ref-" + dtype + ".json");
                    if (Files.exists(ref)) {
                        failures.addAll(check(m, dtype, JSON.readTree(ref.toFile()).get("results")));
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    private static List<String> check(Path dir, String dtype, JsonNode refs) {
        List<String> failures = new ArrayList<>();
        Path modelDir = dir.resolve("model");
        ModelConfig config = ModelConfigLoader.load(modelDir);
        double tolerance = dtype.equals("float32") ? 1e-3 : 2e-2;
        EngineConfig engine = EngineConfig.builder(modelDir).device("cuda").dtype(dtype).maxNumSeqs(32)
                .maxNumBatchedTokens(512).maxModelLen(1024).build();
        List<int[]> prompts = new ArrayList<>();
        for (JsonNode r : refs) {
            prompts.add(ints(r.get("prompt")));
        }
        long start = System.nanoTime();
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(modelDir);
             CudaBackend gpu = CudaBackend.open(config, WeightLoader.load(config, checkpoint), engine)) {
            gpu.allocateKvCache(BLOCK, 2048);
            System.out.println(dir.getFileName() + " " + dtype + ": " + gpu.description());
            double worst = logitErrors(gpu, prompts, refs, config.vocabSize());
            String line = dir.getFileName() + " " + dtype + ": max logits relative error " + worst;
            if (!(worst < tolerance)) {
                failures.add(line + " >= " + tolerance);
            }
            int[] matched = greedy(gpu, prompts, refs);
            line += ", greedy tokens equal " + matched[0] + " / " + matched[1];
            if (dtype.equals("float32") && matched[0] != matched[1]) {
                failures.add(line);
            }
            System.out.println(line + " (" + (System.nanoTime() - start) / 1_000_000 + " ms)");
        }
        return failures;
    }

    /** Prefills every prompt (chunks of 64) and compares each last-position logits row with the reference. */
    private static double logitErrors(CudaBackend gpu, List<int[]> prompts, JsonNode refs, int vocab) {
        PagedRun run = new PagedRun(BLOCK, 2048);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(16).build();
        List<PagedRun.Seq> seqs = new ArrayList<>();
        for (int[] p : prompts) {
            seqs.add(new PagedRun.Seq(p, greedy, 1));
        }
        double worst = 0;
        List<PagedRun.Seq> pending = new ArrayList<>(seqs);
        while (!pending.isEmpty()) {
            ForwardBatch b = run.step(pending, 64);
            float[][] logits = gpu.forwardLogits(b);
            List<PagedRun.Seq> next = new ArrayList<>();
            for (int s = 0; s < b.numSeqs; s++) {
                PagedRun.Seq seq = pending.get(s);
                if (!b.sample[s]) {
                    next.add(seq);
                    continue;
                }
                JsonNode ref = refs.get(seqs.indexOf(seq));
                double diff = 0;
                double norm = 0;
                for (JsonNode pair : ref.get("last_logits_top")) {
                    double want = pair.get(1).asDouble();
                    double d = logits[s][pair.get(0).asInt()] - want;
                    diff += d * d;
                    norm += want * want;
                }
                double l2 = 0;
                for (float v : logits[s]) {
                    l2 += (double) v * v;
                }
                double refL2 = ref.get("last_logits_l2").asDouble();
                worst = Math.max(worst, Math.max(Math.sqrt(diff / norm), Math.abs(Math.sqrt(l2) - refL2) / refL2));
            }
            pending = next;
        }
        return worst;
    }

    /** 16 greedy tokens per prompt through step(); one preemption and one prefix-cache hit along the way. */
    private static int[] greedy(CudaBackend gpu, List<int[]> prompts, JsonNode refs) {
        PagedRun run = new PagedRun(BLOCK, 2048);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(16).build();
        List<PagedRun.Seq> all = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            all.add(new PagedRun.Seq(prompts.get(i), greedy, i));
            expected.add(ints(refs.get(i).get("greedy")));
        }
        int longest = 0;
        for (int i = 1; i < prompts.size(); i++) {
            if (prompts.get(i).length > prompts.get(longest).length) {
                longest = i;
            }
        }
        int victim = prompts.size() > 3 ? 3 : 0;
        boolean forked = false;
        boolean preempted = false;
        List<PagedRun.Seq> active = new ArrayList<>(all);
        while (!active.isEmpty()) {
            StepOutput out = gpu.step(run.step(active, 64));
            List<PagedRun.Seq> next = new ArrayList<>();
            for (int s = 0; s < active.size(); s++) {
                PagedRun.Seq seq = active.get(s);
                if (out.tokens()[s] >= 0) {
                    seq.append(out.tokens()[s]);
                }
                if (seq.length - seq.promptLen < 16) {
                    next.add(seq);
                }
            }
            PagedRun.Seq source = all.get(longest);
            int cached = (source.promptLen - 1) / BLOCK * BLOCK;
            if (!forked && cached > 0 && source.computed >= cached) {
                PagedRun.Seq copy = run.fork(source, prompts.get(longest), cached, greedy, 7);
                all.add(copy);
                expected.add(expected.get(longest));
                next.add(copy);
                forked = true;
            }
            PagedRun.Seq v = all.get(victim);
            if (!preempted && v.length - v.promptLen == 8) {
                run.preempt(v);
                preempted = true;
            }
            active = next;
        }
        int equal = 0;
        int total = 0;
        for (int i = 0; i < all.size(); i++) {
            int[] got = all.get(i).generated();
            int[] want = expected.get(i);
            assertEquals(16, got.length);
            for (int k = 0; k < 16; k++) {
                total++;
                if (got[k] == want[k]) {
                    equal++;
                }
            }
            if (!Arrays.equals(got, want)) {
                System.out.println("  prompt " + i + " (" + all.get(i).promptLen + " tokens): got " + Arrays.toString(got)
                        + ", want " + Arrays.toString(want));
            }
        }
        return new int[] {equal, total};
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
