package dev.ember.weights;

/**
 * The tensors of one decoder layer, with their shapes (row-major, PyTorch Linear layout: (out, in)).
 * Bias and q/k-norm tensors are null where the architecture has none.
 *
 * @param inputNorm        (hidden)                     input_layernorm.weight
 * @param qProj            (numHeads * headDim, hidden)  self_attn.q_proj.weight
 * @param kProj            (numKvHeads * headDim, hidden)
 * @param vProj            (numKvHeads * headDim, hidden)
 * @param qBias            (numHeads * headDim)   Qwen2 only
 * @param kBias            (numKvHeads * headDim) Qwen2 only
 * @param vBias            (numKvHeads * headDim) Qwen2 only
 * @param qNorm            (headDim) Qwen3 only: self_attn.q_norm.weight
 * @param kNorm            (headDim) Qwen3 only: self_attn.k_norm.weight
 * @param oProj            (hidden, numHeads * headDim)
 * @param postAttnNorm     (hidden)                     post_attention_layernorm.weight
 * @param gateProj         (intermediate, hidden)       mlp.gate_proj.weight
 * @param upProj           (intermediate, hidden)
 * @param downProj         (hidden, intermediate)
 */
public record LayerWeights(TensorView inputNorm, TensorView qProj, TensorView kProj, TensorView vProj,
                           TensorView qBias, TensorView kBias, TensorView vBias, TensorView qNorm, TensorView kNorm,
                           TensorView oProj, TensorView postAttnNorm, TensorView gateProj, TensorView upProj,
                           TensorView downProj) {
}
