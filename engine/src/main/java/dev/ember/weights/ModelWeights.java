package dev.ember.weights;

import java.util.List;

/**
 * All tensors of a model, validated against its {@code ModelConfig} (names and shapes) by
 * {@code WeightLoader}. Views stay valid while the owning {@link Checkpoint} is open.
 *
 * @param embedTokens (vocab, hidden)  model.embed_tokens.weight
 * @param layers      numLayers entries
 * @param finalNorm   (hidden)         model.norm.weight
 * @param lmHead      (vocab, hidden)  lm_head.weight, or embedTokens itself when the embeddings are tied
 */
public record ModelWeights(TensorView embedTokens, List<LayerWeights> layers, TensorView finalNorm, TensorView lmHead) {
    public ModelWeights {
        layers = List.copyOf(layers);
    }
}
