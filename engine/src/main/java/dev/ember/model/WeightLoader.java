package dev.ember.model;

import dev.ember.ModelFormatException;
import dev.ember.model.ModelConfig;

import dev.ember.weights.Checkpoint;
import dev.ember.weights.LayerWeights;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.TensorView;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Picks a model's tensors out of a {@link Checkpoint} by their Hugging Face names and checks every shape
 * against the {@link ModelConfig}; a missing or misshaped tensor fails with a message naming the checkpoint,
 * the tensor, and the expected and found shape. A tensor the model does not use fails too (it would mean a feature
 * Ember does not implement, such as q/k norms on Qwen2 or MLP biases), except those that change nothing: rotary
 * {@code inv_freq} buffers, {@code lm_head.weight} beside tied embeddings, and layers past num_hidden_layers.
 *
 * <p>The returned views belong to the checkpoint: they are valid while it is open. Stateless.
 */
public final class WeightLoader {
    private WeightLoader() {
    }

    public static ModelWeights load(ModelConfig config, Checkpoint checkpoint) {
        long vocab = config.vocabSize();
        long hidden = config.hiddenSize();
        Set<String> used = new HashSet<>();
        TensorView embed = shaped(checkpoint, used, "model.embed_tokens.weight", vocab, hidden);
        requireLayers(config, checkpoint);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(layer(config, checkpoint, used, i));
        }
        TensorView finalNorm = shaped(checkpoint, used, "model.norm.weight", hidden);
        TensorView lmHead;
        if (config.tieWordEmbeddings()) {
            // transformers saves tied models without lm_head.weight, but some exports keep a copy; the
            // embedding is what a tied model multiplies by, so that copy is not read
            lmHead = embed;
            used.add("lm_head.weight");
        } else {
            if (!checkpoint.contains("lm_head.weight")) {
                throw new ModelFormatException("tensor 'lm_head.weight' is missing from " + checkpoint.source()
                        + ", and config.json has tie_word_embeddings=false; expected shape [" + vocab + ", " + hidden
                        + "]");
            }
            lmHead = shaped(checkpoint, used, "lm_head.weight", vocab, hidden);
        }
        requireAllUsed(config, checkpoint, used);
        return new ModelWeights(embed, layers, finalNorm, lmHead);
    }

    /**
     * transformers loads a checkpoint with unexpected tensors after a warning and runs without them; here such a
     * tensor fails, since the weights were trained with whatever it adds (a Qwen3 checkpoint labelled Qwen2 carries
     * q_norm/k_norm, one with attention_bias=false in config.json may still hold q/k/v biases).
     */
    private static void requireAllUsed(ModelConfig config, Checkpoint checkpoint, Set<String> used) {
        List<String> unused = new ArrayList<>();
        for (String name : checkpoint.names()) {
            if (!used.contains(name) && !changesNothing(config, name)) {
                unused.add(name);
            }
        }
        if (!unused.isEmpty()) {
            int more = unused.size() - 1;
            throw new ModelFormatException("tensor '" + unused.get(0) + "' in " + checkpoint.source() + " is not used by"
                    + " a " + config.architecture().hfName() + " model as config.json describes it; ignoring it would"
                    + " compute something other than these weights (a feature Ember does not implement, or config.json"
                    + " does not match them)" + (more == 0 ? "" : " (and " + more + " more unused tensor"
                    + (more == 1 ? "" : "s") + ": " + String.join(", ", unused.subList(1, Math.min(unused.size(), 6)))
                    + (unused.size() > 6 ? ", ..." : "") + ")"));
        }
    }

    /** Rotary inv_freq buffers (recomputed from config.json) and layers the config does not run. */
    private static boolean changesNothing(ModelConfig config, String name) {
        if (name.endsWith(".rotary_emb.inv_freq")) {
            return true;
        }
        return layerIndex(name) >= config.numLayers();
    }

    /** N of a tensor named model.layers.N...., or -1 for any other tensor. */
    private static int layerIndex(String name) {
        String prefix = "model.layers.";
        if (!name.startsWith(prefix)) {
            return -1;
        }
        int end = name.indexOf('.', prefix.length());
        try {
            return Integer.parseInt(name.substring(prefix.length(), end < 0 ? name.length() : end));
        } catch (NumberFormatException e) {
            return -1; // not a layer index: some other tensor
        }
    }

    /**
     * Compares num_hidden_layers with the layers the checkpoint holds before anything is sized by it: a config that
     * claims a billion layers must fail with a message, not exhaust the heap. Extra layers in the checkpoint are
     * allowed (a config may run fewer; transformers too ignores them).
     */
    private static void requireLayers(ModelConfig config, Checkpoint checkpoint) {
        int present = 0;
        for (String name : checkpoint.names()) {
            present = Math.max(present, 1 + layerIndex(name));
        }
        if (config.numLayers() > present) {
            throw new ModelFormatException("config.json has num_hidden_layers=" + config.numLayers() + ", but "
                    + checkpoint.source() + " holds tensors of " + present + " layer" + (present == 1 ? "" : "s")
                    + (present > 0 ? " (model.layers.0 to model.layers." + (present - 1) + ")" : "")
                    + "; config.json does not describe these weights");
        }
    }

    private static LayerWeights layer(ModelConfig c, Checkpoint ckpt, Set<String> used, int i) {
        String p = "model.layers." + i + ".";
        long hidden = c.hiddenSize();
        long qOut = (long) c.numHeads() * c.headDim();
        long kvOut = (long) c.numKvHeads() * c.headDim();
        long inter = c.intermediateSize();
        boolean bias = c.attentionBias();
        boolean qkNorm = c.qkNorm();
        LayerWeights w = new LayerWeights(
                shaped(ckpt, used, p + "input_layernorm.weight", hidden),
                shaped(ckpt, used, p + "self_attn.q_proj.weight", qOut, hidden),
                shaped(ckpt, used, p + "self_attn.k_proj.weight", kvOut, hidden),
                shaped(ckpt, used, p + "self_attn.v_proj.weight", kvOut, hidden),
                bias ? shaped(ckpt, used, p + "self_attn.q_proj.bias", qOut) : null,
                bias ? shaped(ckpt, used, p + "self_attn.k_proj.bias", kvOut) : null,
                bias ? shaped(ckpt, used, p + "self_attn.v_proj.bias", kvOut) : null,
                qkNorm ? shaped(ckpt, used, p + "self_attn.q_norm.weight", c.headDim()) : null,
                qkNorm ? shaped(ckpt, used, p + "self_attn.k_norm.weight", c.headDim()) : null,
                shaped(ckpt, used, p + "self_attn.o_proj.weight", hidden, qOut),
                shaped(ckpt, used, p + "post_attention_layernorm.weight", hidden),
                shaped(ckpt, used, p + "mlp.gate_proj.weight", inter, hidden),
                shaped(ckpt, used, p + "mlp.up_proj.weight", inter, hidden),
                shaped(ckpt, used, p + "mlp.down_proj.weight", hidden, inter));
        requireZeroOutputBias(c, ckpt, used, p + "self_attn.o_proj.bias", hidden);
        return w;
    }

    /**
     * Llama and Qwen3 with attention_bias=true also give o_proj a bias, which LayerWeights has no slot for.
     * An all-zero bias changes nothing and is accepted; any other value would be silently dropped, so it fails.
     */
    private static void requireZeroOutputBias(ModelConfig c, Checkpoint ckpt, Set<String> used, String name, long hidden) {
        if (!ckpt.contains(name)) {
            return;
        }
        TensorView bias = shaped(ckpt, used, name, hidden);
        for (long j = 0; j < bias.numElements(); j++) {
            if (bias.get(j) != 0f) {
                throw new ModelFormatException("tensor '" + name + "' in " + ckpt.source() + " is a non-zero output"
                        + " projection bias (" + c.architecture().hfName() + ", attention_bias=" + c.attentionBias()
                        + "); Ember does not apply an o_proj bias, so this checkpoint is not supported");
            }
        }
    }

    private static TensorView shaped(Checkpoint checkpoint, Set<String> used, String name, long... shape) {
        used.add(name);
        return checkpoint.tensor(name).requireShape(checkpoint.source(), shape);
    }
}
