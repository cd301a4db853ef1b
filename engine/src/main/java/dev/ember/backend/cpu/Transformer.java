package dev.ember.backend.cpu;

import dev.ember.backend.ForwardBatch;
import dev.ember.model.ModelConfig;
import dev.ember.weights.LayerWeights;
import dev.ember.weights.ModelWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

/**
 * The decoder stack on the CPU: embeddings, the layers with their residual stream, the final norm and the LM
 * head, which runs only for the rows that are sampled. Used by {@link CpuBackend}'s single step thread.
 */
final class Transformer {
    private final ModelWeights weights;
    private final List<DecoderLayer> layers;
    private final float[] invFreq;
    private final int hidden;
    private final int vocab;
    private final float eps;
    private final Projections projections;

    Transformer(ModelConfig config, ModelWeights weights, ForkJoinPool pool, Kernels kernels, Projections projections) {
        if (weights.layers().size() != config.numLayers()) {
            throw new IllegalArgumentException("the weights have " + weights.layers().size()
                    + " layers but the config has num_hidden_layers=" + config.numLayers());
        }
        this.weights = weights;
        this.layers = new ArrayList<>();
        for (LayerWeights lw : weights.layers()) {
            if (config.qkNorm() && (lw.qNorm() == null || lw.kNorm() == null)) {
                throw new IllegalArgumentException("the config asks for q/k norms (" + config.architecture()
                        + ") but the layer weights have none");
            }
            layers.add(new DecoderLayer(lw, config, pool, kernels, projections));
        }
        this.invFreq = CpuOps.ropeInvFreq(config.headDim(), config.ropeTheta(), config.ropeScaling());
        this.hidden = config.hiddenSize();
        this.vocab = config.vocabSize();
        this.eps = (float) config.rmsNormEps();
        this.projections = projections;
    }

    /**
     * Runs the batch, writing every new token's K/V into {@code cache}.
     *
     * @return (S) the logits (vocab) of the last new token of each sequence with {@code sample[s]}; null elsewhere
     */
    float[][] forward(ForwardBatch batch, KvCache cache) {
        int tokens = batch.numTokens();
        float[] cos = new float[tokens * invFreq.length];
        float[] sin = new float[tokens * invFreq.length];
        CpuOps.ropeCosSin(cos, sin, batch.positions, invFreq);

        float[] residual = new float[tokens * hidden];
        CpuOps.embedding(residual, batch.tokenIds, weights.embedTokens());
        float[] normed = new float[tokens * hidden];
        CpuOps.rmsnorm(normed, residual, weights.layers().get(0).inputNorm(), tokens, eps);
        for (int l = 0; l < layers.size(); l++) {
            DecoderLayer layer = layers.get(l);
            float[] attention = layer.attention(normed, batch, cos, sin, cache.keys(l), cache.values(l));
            CpuOps.addRmsnorm(normed, residual, attention, weights.layers().get(l).postAttnNorm(), tokens, eps);
            float[] mlp = layer.mlp(normed, tokens);
            if (l + 1 < layers.size()) {
                CpuOps.addRmsnorm(normed, residual, mlp, weights.layers().get(l + 1).inputNorm(), tokens, eps);
            } else {
                for (int i = 0; i < residual.length; i++) {
                    residual[i] += mlp[i];
                }
            }
        }
        return lmHead(batch, residual);
    }

    /** Final norm and LM head over the last new token of each sampled sequence only. */
    private float[][] lmHead(ForwardBatch batch, float[] residual) {
        int numSampled = 0;
        for (int s = 0; s < batch.numSeqs; s++) {
            if (batch.sample[s]) {
                numSampled++;
            }
        }
        float[] last = new float[numSampled * hidden];
        int row = 0;
        for (int s = 0; s < batch.numSeqs; s++) {
            if (batch.sample[s]) {
                System.arraycopy(residual, (batch.queryStart[s + 1] - 1) * hidden, last, row++ * hidden, hidden);
            }
        }
        CpuOps.rmsnorm(last, last, weights.finalNorm(), numSampled, eps);
        float[] logits = new float[numSampled * vocab];
        projections.run(last, numSampled, new Matmul.Job(logits, weights.lmHead(), null));
        float[][] out = new float[batch.numSeqs][];
        row = 0;
        for (int s = 0; s < batch.numSeqs; s++) {
            if (batch.sample[s]) {
                out[s] = java.util.Arrays.copyOfRange(logits, row * vocab, (row + 1) * vocab);
                row++;
            }
        }
        return out;
    }
}
