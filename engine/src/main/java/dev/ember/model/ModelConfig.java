package dev.ember.model;

import dev.ember.ModelFormatException;

import java.util.Set;

/**
 * The shape of a decoder-only transformer, read from a checkpoint's config.json,
 * generation_config.json and tokenizer_config.json (see {@code ModelConfigLoader}). Immutable; validated here.
 *
 * @param eosTokenIds the union of EOS ids the three files name; generation stops on any of them
 * @param ropeScaling Llama-3 scaling, or null when the model has none
 * @param attentionBias whether q/k/v projections carry a bias (Qwen2)
 * @param qkNorm whether q and k get a per-head RMSNorm before RoPE (Qwen3)
 * @param torchDtype the checkpoint's stored dtype name ("bfloat16", "float16", "float32")
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean qkNorm,
        String torchDtype,
        int bosTokenId,
        Set<Integer> eosTokenIds) {

    public ModelConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        // sane bounds, far above any real model, so that no size derived from these overflows an int or exhausts
        // memory before the tensors are checked against them
        atMost("num_hidden_layers", numLayers, 1 << 16);
        atMost("num_attention_heads", numHeads, 1 << 16);
        atMost("head_dim", headDim, 1 << 16);
        if ((long) (numHeads + 2L * numKvHeads) * headDim > 1 << 26) {
            throw new ModelFormatException("num_attention_heads=" + numHeads + ", num_key_value_heads=" + numKvHeads
                    + " and head_dim=" + headDim + " in config.json give q/k/v projections " + (numHeads + 2L * numKvHeads)
                    * headDim + " wide; expected at most " + (1 << 26));
        }
        if (numHeads % numKvHeads != 0) {
            throw new ModelFormatException("num_attention_heads=" + numHeads + " is not a multiple of num_key_value_heads="
                    + numKvHeads + "; grouped-query attention needs whole groups");
        }
        if (headDim % 2 != 0) {
            throw new ModelFormatException("head_dim=" + headDim + " is odd; rotary embeddings need an even head_dim");
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
            throw new ModelFormatException("rms_norm_eps=" + rmsNormEps + " and rope_theta=" + ropeTheta + " must be positive");
        }
        eosTokenIds = Set.copyOf(eosTokenIds);
        for (int id : eosTokenIds) {
            if (id < 0 || id >= vocabSize) {
                throw new ModelFormatException("eos token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
    }

    /** Query heads that share one KV head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Width of the concatenated q, k and v projections: (numHeads + 2 * numKvHeads) * headDim. */
    public int qkvSize() {
        return (numHeads + 2 * numKvHeads) * headDim;
    }

    private static void atMost(String name, int value, int max) {
        if (value > max) {
            throw new ModelFormatException(name + "=" + value + " in config.json; expected at most " + max);
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new ModelFormatException(name + "=" + value + " in config.json; expected a positive integer");
        }
    }
}
