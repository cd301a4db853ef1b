package dev.ember.model;

import dev.ember.ModelFormatException;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.weights.Checkpoint;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.weights.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** WeightLoader over tiny checkpoints written to disk, with extra tensors added beside them. */
class WeightLoaderTest {
    @TempDir
    Path dir;

    /** A checkpoint written to disk plus tensors held in memory, as if the file held them too. */
    private static final class WithExtra implements Checkpoint {
        private final Checkpoint base;
        private final Map<String, TensorView> extra = new TreeMap<>();

        WithExtra(Checkpoint base, String... names) {
            this.base = base;
            for (String name : names) {
                extra.put(name, TensorView.ofFloats(name, new long[] {4}, new float[] {1, 2, 3, 4}));
            }
        }

        @Override
        public TensorView tensor(String name) {
            return extra.containsKey(name) ? extra.get(name) : base.tensor(name);
        }

        @Override
        public boolean contains(String name) {
            return extra.containsKey(name) || base.contains(name);
        }

        @Override
        public Set<String> names() {
            Set<String> all = new TreeSet<>(base.names());
            all.addAll(extra.keySet());
            return all;
        }

        @Override
        public String source() {
            return base.source();
        }

        @Override
        public void close() {
            base.close();
        }
    }

    private Path write(Architecture arch) {
        return RandomCheckpoint.write(dir.resolve(arch.name()), RandomCheckpoint.Spec.builder(arch).numLayers(2)
                .withTokenizer(false).build());
    }

    private String refusal(Architecture arch, String... extra) {
        Path model = write(arch);
        ModelConfig config = ModelConfigLoader.load(model);
        try (Checkpoint ckpt = new WithExtra(SafetensorsCheckpoint.open(model), extra)) {
            return assertThrows(ModelFormatException.class, () -> WeightLoader.load(config, ckpt)).getMessage();
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void everyArchitectureLoadsItsOwnTensors(Architecture arch) {
        Path model = write(arch);
        ModelConfig config = ModelConfigLoader.load(model);
        try (Checkpoint ckpt = SafetensorsCheckpoint.open(model)) {
            ModelWeights w = WeightLoader.load(config, ckpt);
            assertEquals(2, w.layers().size());
        }
    }

    /**
     * A tensor the model does not read means the weights compute something Ember would not: q/k norms on Qwen2 or
     * Llama (a Qwen3 checkpoint under the wrong architectures name), q/k/v biases where attention_bias is false, MLP
     * biases. transformers only warns ("Some weights of the checkpoint were not used") and runs without them; Ember
     * refuses, naming the tensor.
     */
    @Test
    void aTensorTheModelDoesNotUseIsRefused() {
        String source = dir.resolve("QWEN2").resolve("model.safetensors").toString();
        assertEquals("tensor 'model.layers.1.self_attn.q_norm.weight' in " + source + " is not used by a"
                + " Qwen2ForCausalLM model as config.json describes it; ignoring it would compute something other than"
                + " these weights (a feature Ember does not implement, or config.json does not match them)",
                refusal(Architecture.QWEN2, "model.layers.1.self_attn.q_norm.weight"));
        assertEquals("tensor 'model.layers.0.self_attn.k_proj.bias' in " + dir.resolve("LLAMA").resolve("model.safetensors")
                + " is not used by a LlamaForCausalLM model as config.json describes it; ignoring it would compute"
                + " something other than these weights (a feature Ember does not implement, or config.json does not"
                + " match them) (and 1 more unused tensor: model.layers.0.self_attn.q_proj.bias)",
                refusal(Architecture.LLAMA, "model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.k_proj.bias"));
        assertEquals("model.layers.0.mlp.down_proj.bias",
                quoted(refusal(Architecture.QWEN3, "model.layers.0.mlp.down_proj.bias")));
        assertEquals("model.norm.bias", quoted(refusal(Architecture.QWEN3, "model.norm.bias")));
    }

    private static String quoted(String message) {
        int start = message.indexOf('\'') + 1;
        return message.substring(start, message.indexOf('\'', start));
    }

    /**
     * What transformers itself ignores without changing the output stays accepted: rotary inv_freq buffers older
     * Llama exports saved (_keys_to_ignore_on_load_unexpected), a copy of the embeddings as lm_head.weight in a tied
     * model, and layers past num_hidden_layers.
     */
    @Test
    void tensorsThatChangeNothingAreAccepted() {
        Path model = write(Architecture.QWEN2);
        ModelConfig config = ModelConfigLoader.load(model);
        try (Checkpoint ckpt = new WithExtra(SafetensorsCheckpoint.open(model),
                "model.layers.0.self_attn.rotary_emb.inv_freq", "lm_head.weight", "model.layers.7.mlp.up_proj.bias")) {
            ModelWeights w = WeightLoader.load(config, ckpt);
            assertSame(w.embedTokens(), w.lmHead());
        }
    }
}
