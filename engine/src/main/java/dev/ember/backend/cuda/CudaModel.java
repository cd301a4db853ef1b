package dev.ember.backend.cuda;

import dev.ember.CudaException;
import dev.ember.model.ModelConfig;
import dev.ember.model.RopeScaling;
import dev.ember.weights.DType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The decoder's forward pass on the GPU for the inputs staged in {@link StepInputs}: embeddings, then per
 * layer [add+RMSNorm, fused QKV GEMM, bias/q-k-norm/RoPE + KV store, paged attention, O GEMM, add+RMSNorm,
 * fused gate/up GEMM, SiLU*mul (on Hopper one kernel for steps of 65 to 192 rows: {@link SwigluGemm}), down GEMM],
 * the final norm, the gather of the rows whose logits are needed
 * and the LM head into float32 logits. In pure decode steps of 16-bit models the RoPE + KV store runs inside the
 * decode attention kernel ({@link #fusesDecodeRope}). Everything is enqueued on one stream without host synchronization,
 * so a decode step can be captured into a CUDA graph. Borrows (does not own) what it is given.
 */
final class CudaModel {
    private final ModelConfig config;
    private final DeviceWeights weights;
    private final Activations act;
    private final StepInputs in;
    private final Kernels kernels;
    private final Cublas blas;
    /** The fused gate/up + SwiGLU kernel, or null (cuBLAS and silu_mul for every step). */
    private final SwigluGemm swiglu;
    private final DType dtype;
    private final int multiprocessors;
    private final float eps;
    private final float scale;
    /** {@value #FUSED_DECODE_ROPE_PROPERTY}: whether pure decode steps may fuse RoPE into attention. */
    private final boolean fusedDecodeRope;
    private KernelTimer timer;

    CudaModel(ModelConfig config, DeviceWeights weights, Activations act, StepInputs in, Kernels kernels, Cublas blas,
              SwigluGemm swiglu, int multiprocessors) {
        this.config = config;
        this.weights = weights;
        this.act = act;
        this.in = in;
        this.kernels = kernels;
        this.blas = blas;
        this.swiglu = swiglu;
        this.dtype = weights.dtype;
        this.multiprocessors = multiprocessors;
        this.eps = (float) config.rmsNormEps();
        this.scale = (float) (1.0 / Math.sqrt(config.headDim()));
        this.fusedDecodeRope = Switches.read(FUSED_DECODE_ROPE_PROPERTY, true);
    }

    /** RoPE inverse frequencies (headDim / 2) as Hugging Face computes them, with Llama-3 scaling when set. */
    static float[] inverseFrequencies(ModelConfig c) {
        int half = c.headDim() / 2;
        float[] out = new float[half];
        RopeScaling scaling = c.ropeScaling();
        for (int i = 0; i < half; i++) {
            double inv = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
            out[i] = (float) (scaling == null ? inv : scaling.scaleInvFreq(inv));
        }
        return out;
    }

    /**
     * Benchmarks only: {@code -Dember.cuda.decodeSplitKeys=N} (a multiple of 64, 64 to 1,024) is the longest decode
     * split, in keys ({@link #decodeSplits}); the default is 1,024.
     */
    static final int LONGEST_DECODE_SPLIT = longestDecodeSplit(System.getProperty("ember.cuda.decodeSplitKeys"));

    static int longestDecodeSplit(String value) {
        if (value == null) {
            return 1024;
        }
        int keys;
        try {
            keys = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            keys = -1;
        }
        if (keys < 64 || keys > 1024 || keys % 64 != 0) {
            throw new IllegalArgumentException("ember.cuda.decodeSplitKeys is '" + value
                    + "'; expected a multiple of 64 from 64 to 1024");
        }
        return keys;
    }

    /**
     * Benchmarks only: {@code -Dember.cuda.fusedDecodeRope=false} keeps rope_store and the unfused decode kernel in
     * pure decode steps, for the A/B of {@link #fusesDecodeRope}; the default is true.
     */
    static final String FUSED_DECODE_ROPE_PROPERTY = "ember.cuda.fusedDecodeRope";

    /**
     * Whether a step runs bias/q-k-norm/RoPE and the K/V store inside the decode attention kernel
     * (attn_decode_tc_rope) instead of launching rope_store: only in pure decode steps (every sequence one new token,
     * token i of sequence i, so the kernel's block of a sequence finds its token), only on the tensor-core kernel
     * (16-bit dtypes), and only while {@value #FUSED_DECODE_ROPE_PROPERTY} allows. Mixed steps and float32 models keep
     * rope_store.
     */
    static boolean fusesDecodeRope(boolean decode, DType dtype, boolean enabled) {
        return enabled && decode && Kernels.tensorCoreAttention(dtype);
    }

    /** Whether a step of {@code rows} token rows runs the gate/up projection and SiLU x mul as one kernel. */
    boolean fusesSwiglu(int rows) {
        return swiglu != null && SwigluGemm.covers(rows);
    }

    /** For the start log: how pure decode steps run RoPE. */
    String decodeRopeDescription() {
        return fusesDecodeRope(true, dtype, fusedDecodeRope)
                ? "decode RoPE fused into attention (-D" + FUSED_DECODE_ROPE_PROPERTY + "=false: rope_store)"
                : "decode RoPE in rope_store";
    }

    /**
     * How a decode step splits the context: (partition, numSplits). Enough (sequence, KV head, split) blocks to
     * give every SM about four, no split shorter than 256 keys (each split costs a partial write and a merge)
     * unless 256-key splits would leave the SMs short of two blocks each (then 128: a batch of 8 or 16 at
     * 1,536 keys runs 17-18 % faster, the kernel benchmark's sweep), none longer than {@code longestSplit} keys (so
     * sequences of very different lengths still finish together: a step's blocks are as long as its longest
     * sequence's split, and a batch of mixed contexts leaves SMs idle behind its longest blocks), and within the
     * kernel's partition limit and the split-partial buffers.
     */
    static int[] decodeSplits(ModelConfig config, int multiprocessors, int numSeqs, int maxContext, int maxPartition,
                              int longestSplit) {
        long blocks = (long) numSeqs * config.numKvHeads();
        long fill = (4L * multiprocessors + blocks - 1) / blocks;
        int shortest = Math.min(longestSplit, blocks * ceilDiv(maxContext, 256) < 2L * multiprocessors ? 128 : 256);
        int want = (int) Math.max(1, Math.min(Math.max(fill, ceilDiv(maxContext, longestSplit)),
                ceilDiv(maxContext, shortest)));
        int partition = Math.min(Math.min(roundUp(ceilDiv(maxContext, want), 64), longestSplit), maxPartition);
        int splits = ceilDiv(maxContext, partition);
        if ((long) numSeqs * splits > Activations.MAX_SPLIT_ROWS) {
            splits = Math.max(1, Activations.MAX_SPLIT_ROWS / numSeqs);
            partition = roundUp(ceilDiv(maxContext, splits), 64);
            if (partition > maxPartition) {
                throw new CudaException("a decode step of " + numSeqs + " sequences with contexts up to " + maxContext
                        + " tokens needs attention partitions of " + partition + " tokens, beyond the shared-memory limit of "
                        + maxPartition + "; lower max_num_seqs or max_model_len");
            }
            splits = ceilDiv(maxContext, partition);
        }
        return new int[] {partition, splits};
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }

    /**
     * Enqueues the forward pass over the staged inputs.
     *
     * @param numTokens    tokens of the step (including graph padding)
     * @param numSeqs      sequences of the step (including graph padding)
     * @param numLogitRows rows of {@code logitRows} whose logits are computed
     * @param decode       every sequence has exactly one new token: use the decode attention kernel
     * @param maxContext   an upper bound of the sequences' context lengths (decode splits)
     */
    void forward(KvCache kv, int numTokens, int numSeqs, int numLogitRows, boolean decode, int maxContext) {
        ModelConfig c = config;
        int h = c.hiddenSize();
        int hd = c.headDim();
        int attnWidth = c.numHeads() * hd;
        int stride = in.blockTableStride();
        // a mixed step's leading single-token sequences (decodes) go through the decode kernel too
        int decodeSeqs = decode ? numSeqs : in.decodePrefix();
        int[] split = decodeSeqs > 0 ? decodeSplits(config, multiprocessors, decodeSeqs, maxContext,
                Kernels.maxDecodePartition(dtype, c.groupSize(), hd), LONGEST_DECODE_SPLIT) : null;
        boolean fuseRope = fusesDecodeRope(decode, dtype, fusedDecodeRope);
        mark("other");
        // placeholder ids name the previous step's samples, at the start of act.outputs (GpuSampler)
        kernels.embed(act.hidden.address(), weights.embedTokens.address(), in.address(in.tokenIds), act.outputs.address(),
                numTokens, c.vocabSize(), h);
        for (int l = 0; l < c.numLayers(); l++) {
            DeviceWeights.Layer w = weights.layers.get(l);
            mark("other");
            kernels.addRmsNorm(act.normed.address(), act.residual.address(), act.hidden.address(), w.inputNorm().address(),
                    eps, numTokens, h, l > 0);
            mark("gemm");
            blas.linear(act.qkv.address(), act.normed.address(), w.qkv().address(), numTokens, c.qkvSize(), h, dtype, false);
            if (!fuseRope) {
                mark("other");
                kernels.ropeStore(act.q.address(), kv.keys(l), kv.values(l), act.qkv.address(), addressOrZero(w.qkvBias()),
                        addressOrZero(w.qNorm()), addressOrZero(w.kNorm()), in.address(in.positions), in.address(in.slots),
                        act.invFreq.address(), numTokens, c.numHeads(), c.numKvHeads(), hd, kv.blockSize, eps);
            }
            mark("attention");
            if (fuseRope) {
                // act.q is not written: attention was its only reader
                kernels.attnDecodeRope(act.attn.address(), act.partAcc.address(), act.partMl.address(), kv.keys(l),
                        kv.values(l), act.qkv.address(), addressOrZero(w.qkvBias()), addressOrZero(w.qNorm()),
                        addressOrZero(w.kNorm()), in.address(in.positions), in.address(in.slots), act.invFreq.address(),
                        in.address(in.contextLens), in.address(in.blockTables), stride, decodeSeqs, c.numHeads(),
                        c.numKvHeads(), hd, kv.blockSize, scale, split[0], split[1], eps);
            } else if (decodeSeqs > 0) {
                kernels.attnDecode(act.attn.address(), act.partAcc.address(), act.partMl.address(), act.q.address(),
                        kv.keys(l), kv.values(l), in.address(in.contextLens), in.address(in.blockTables), stride,
                        decodeSeqs, c.numHeads(), c.numKvHeads(), hd, kv.blockSize, scale, split[0], split[1]);
            }
            if (!decode && in.numTiles() > 0) {
                kernels.attnPrefill(act.attn.address(), act.q.address(), kv.keys(l), kv.values(l), in.address(in.tiles),
                        in.numTiles(), in.address(in.queryStart), in.address(in.contextLens), in.address(in.blockTables),
                        stride, c.numHeads(), c.numKvHeads(), hd, kv.blockSize, scale);
            }
            mark("gemm");
            blas.linear(act.hidden.address(), act.attn.address(), w.oProj().address(), numTokens, h, attnWidth, dtype, false);
            mark("other");
            kernels.addRmsNorm(act.normed.address(), act.residual.address(), act.hidden.address(),
                    w.postAttnNorm().address(), eps, numTokens, h, true);
            mark("gemm");
            if (fusesSwiglu(numTokens)) {
                swiglu.run(act.act.address(), act.normed.address(), l, numTokens);
            } else {
                blas.linear(act.gateUp.address(), act.normed.address(), w.gateUp().address(), numTokens,
                        2 * c.intermediateSize(), h, dtype, false);
                mark("other");
                kernels.siluMul(act.act.address(), act.gateUp.address(), numTokens, c.intermediateSize());
                mark("gemm");
            }
            blas.linear(act.hidden.address(), act.act.address(), w.down().address(), numTokens, h, c.intermediateSize(),
                    dtype, false);
        }
        mark("other");
        kernels.addRmsNorm(act.normed.address(), act.residual.address(), act.hidden.address(), weights.finalNorm.address(),
                eps, numTokens, h, true);
        if (numLogitRows > 0) {
            kernels.gatherRows(act.last.address(), act.normed.address(), in.address(in.logitRows), numLogitRows, h);
            mark("gemm");
            blas.linear(act.logits.address(), act.last.address(), weights.lmHead.address(), numLogitRows, c.vocabSize(), h,
                    dtype, true);
        }
        mark(null);
    }

    /**
     * Chooses the GEMM algorithm of every linear layer at {@code rows} rows by timing (see {@link GemmPlans}), so a
     * decode step of that batch bucket runs the fastest candidate. Writes the activation buffers: run it before a
     * forward pass, never while a graph is being captured. Float32 models keep cuBLAS's default.
     */
    List<GemmPlans.Tuning> tuneGemms(int rows, int iterations) {
        if (dtype == DType.F32) {
            return List.of();
        }
        ModelConfig c = config;
        int h = c.hiddenSize();
        List<DeviceWeights.Layer> layers = weights.layers;
        List<GemmPlans.Tuning> out = new ArrayList<>();
        out.add(blas.tune(act.qkv.address(), act.normed.address(), addresses(layers, DeviceWeights.Layer::qkv), rows,
                c.qkvSize(), h, dtype, false, iterations));
        out.add(blas.tune(act.hidden.address(), act.attn.address(), addresses(layers, DeviceWeights.Layer::oProj), rows,
                h, c.numHeads() * c.headDim(), dtype, false, iterations));
        if (!fusesSwiglu(rows)) {
            out.add(blas.tune(act.gateUp.address(), act.normed.address(), addresses(layers, DeviceWeights.Layer::gateUp),
                    rows, 2 * c.intermediateSize(), h, dtype, false, iterations));
        }
        out.add(blas.tune(act.hidden.address(), act.act.address(), addresses(layers, DeviceWeights.Layer::down), rows,
                h, c.intermediateSize(), dtype, false, iterations));
        out.add(blas.tune(act.logits.address(), act.last.address(), new long[] {weights.lmHead.address()}, rows,
                c.vocabSize(), h, dtype, true, iterations));
        return out;
    }

    private static long[] addresses(List<DeviceWeights.Layer> layers, Function<DeviceWeights.Layer, DeviceBuffer> of) {
        long[] out = new long[layers.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = of.apply(layers.get(i)).address();
        }
        return out;
    }

    /** Profiling: charge the GPU time of the following passes to categories (null: off). Eager passes only. */
    void setTimer(KernelTimer timer) {
        this.timer = timer;
    }

    private void mark(String category) {
        if (timer != null) {
            timer.mark(category);
        }
    }

    private static long addressOrZero(DeviceBuffer b) {
        return b == null ? 0L : b.address();
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
