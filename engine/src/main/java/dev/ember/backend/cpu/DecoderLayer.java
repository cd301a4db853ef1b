package dev.ember.backend.cpu;

import dev.ember.backend.ForwardBatch;
import dev.ember.model.ModelConfig;
import dev.ember.weights.LayerWeights;

import java.util.concurrent.ForkJoinPool;

/**
 * One decoder layer's two sub-blocks on the CPU. The residual stream and the norms between the sub-blocks are
 * handled by {@link Transformer}; here each sub-block maps its normed input to the delta it adds. Stateless
 * apart from the weights it reads; run by one thread at a time (the pool does the splitting).
 */
final class DecoderLayer {
    private final LayerWeights w;
    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final int hidden;
    private final int intermediate;
    private final float eps;
    private final ForkJoinPool pool;
    private final Kernels kernels;
    private final Projections projections;

    DecoderLayer(LayerWeights weights, ModelConfig config, ForkJoinPool pool, Kernels kernels, Projections projections) {
        this.w = weights;
        this.numHeads = config.numHeads();
        this.numKvHeads = config.numKvHeads();
        this.headDim = config.headDim();
        this.hidden = config.hiddenSize();
        this.intermediate = config.intermediateSize();
        this.eps = (float) config.rmsNormEps();
        this.pool = pool;
        this.kernels = kernels;
        this.projections = projections;
    }

    /**
     * Self-attention: q/k/v projections (+ bias), per-head q/k norm, RoPE, K/V into the cache, paged attention
     * and the output projection.
     *
     * @param normed (T, hidden) the input-normed hidden states
     * @param cos    (T, headDim / 2) rotation tables of the batch's positions
     * @param sin    (T, headDim / 2)
     * @return (T, hidden) the attention output
     */
    float[] attention(float[] normed, ForwardBatch batch, float[] cos, float[] sin, float[] kCache, float[] vCache) {
        int tokens = batch.numTokens();
        float[] q = new float[tokens * numHeads * headDim];
        float[] k = new float[tokens * numKvHeads * headDim];
        float[] v = new float[tokens * numKvHeads * headDim];
        projections.run(normed, tokens, new Matmul.Job(q, w.qProj(), w.qBias()),
                new Matmul.Job(k, w.kProj(), w.kBias()), new Matmul.Job(v, w.vProj(), w.vBias()));
        if (w.qNorm() != null) {
            CpuOps.headRmsnorm(q, w.qNorm(), tokens, numHeads, eps);
            CpuOps.headRmsnorm(k, w.kNorm(), tokens, numKvHeads, eps);
        }
        CpuOps.rope(q, cos, sin, tokens, numHeads, headDim);
        CpuOps.rope(k, cos, sin, tokens, numKvHeads, headDim);
        CpuOps.storeKv(kCache, vCache, k, v, batch.slotMapping, numKvHeads, headDim);
        float[] context = q; // each (token, head) reads only its own q row before writing the same row
        PagedAttention.run(context, q, kCache, vCache, batch.queryStart, batch.positions, batch.blockTables,
                batch.blockSize, numHeads, numKvHeads, headDim, pool, kernels);
        float[] out = new float[tokens * hidden];
        projections.run(context, tokens, new Matmul.Job(out, w.oProj(), null));
        return out;
    }

    /**
     * The gated MLP: {@code down(silu(gate(x)) * up(x))}.
     *
     * @param normed (T, hidden) the post-attention-normed hidden states
     * @return (T, hidden)
     */
    float[] mlp(float[] normed, int tokens) {
        float[] gate = new float[tokens * intermediate];
        float[] up = new float[tokens * intermediate];
        projections.run(normed, tokens, new Matmul.Job(gate, w.gateProj(), null),
                new Matmul.Job(up, w.upProj(), null));
        CpuOps.siluMul(gate, gate, up, tokens * intermediate, pool, kernels);
        float[] out = new float[tokens * hidden];
        projections.run(gate, tokens, new Matmul.Job(out, w.downProj(), null));
        return out;
    }
}
