package dev.ember.backend.cpu;

import dev.ember.model.Architecture;
import dev.ember.model.ModelConfig;
import dev.ember.model.RopeScaling;
import dev.ember.weights.DType;
import dev.ember.weights.LayerWeights;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.TensorView;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** Hand-built tiny models (config + random weights) in the shapes of the supported architectures. */
final class TinyModels {
    private TinyModels() {
    }

    /** Qwen2 shape: q/k/v biases, tied embeddings, GQA 4:2. */
    static ModelConfig qwen2() {
        return new ModelConfig(Architecture.QWEN2, 96, 32, 72, 2, 4, 2, 8, 1e-6, 1_000_000.0, null, 512, true, true,
                false, "bfloat16", 1, Set.of(2));
    }

    /** Qwen3 shape: per-head q/k norms, headDim 16 so q is wider (64) than hidden (32), GQA 4:1. */
    static ModelConfig qwen3() {
        return new ModelConfig(Architecture.QWEN3, 80, 32, 40, 2, 4, 1, 16, 1e-6, 1_000_000.0, null, 512, false, false,
                true, "bfloat16", 1, Set.of(2, 3));
    }

    /** Llama shape with Llama-3 RoPE scaling whose thresholds fall inside the head's frequencies. */
    static ModelConfig llama3() {
        return new ModelConfig(Architecture.LLAMA, 72, 32, 48, 3, 4, 2, 8, 1e-5, 10_000.0,
                new RopeScaling(8.0, 1.0, 4.0, 64), 512, false, false, false, "bfloat16", 1, Set.of(2));
    }

    /** Random weights for {@code config}, stored as {@code dtype}. */
    static ModelWeights weights(ModelConfig c, DType dtype, long seed) {
        Random r = new Random(seed);
        Gen g = new Gen(r, dtype);
        int h = c.hiddenSize();
        int q = c.numHeads() * c.headDim();
        int kv = c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new LayerWeights(
                    g.norm(p + "input_layernorm.weight", h),
                    g.matrix(p + "self_attn.q_proj.weight", q, h),
                    g.matrix(p + "self_attn.k_proj.weight", kv, h),
                    g.matrix(p + "self_attn.v_proj.weight", kv, h),
                    c.attentionBias() ? g.vector(p + "self_attn.q_proj.bias", q, 0.5) : null,
                    c.attentionBias() ? g.vector(p + "self_attn.k_proj.bias", kv, 0.5) : null,
                    c.attentionBias() ? g.vector(p + "self_attn.v_proj.bias", kv, 0.5) : null,
                    c.qkNorm() ? g.norm(p + "self_attn.q_norm.weight", c.headDim()) : null,
                    c.qkNorm() ? g.norm(p + "self_attn.k_norm.weight", c.headDim()) : null,
                    g.matrix(p + "self_attn.o_proj.weight", h, q),
                    g.norm(p + "post_attention_layernorm.weight", h),
                    g.matrix(p + "mlp.gate_proj.weight", inter, h),
                    g.matrix(p + "mlp.up_proj.weight", inter, h),
                    g.matrix(p + "mlp.down_proj.weight", h, inter)));
        }
        TensorView embed = g.tensor("model.embed_tokens.weight", new long[] {c.vocabSize(), h}, 1.0, 0);
        TensorView lmHead = c.tieWordEmbeddings() ? embed : g.matrix("lm_head.weight", c.vocabSize(), h);
        return new ModelWeights(embed, layers, g.norm("model.norm.weight", h), lmHead);
    }

    /** A tensor of the given dtype holding {@code values} (rounded to the dtype). */
    static TensorView tensor(String name, DType dtype, long[] shape, float[] values) {
        if (dtype == DType.F32) {
            return TensorView.ofFloats(name, shape, values);
        }
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(dtype == DType.BF16 ? DType.floatToBf16(v) : floatToF16(v));
        }
        b.flip();
        return new TensorView(name, dtype, shape, b);
    }

    /** Round-to-nearest float to IEEE half, for normal-range test values. */
    static short floatToF16(float v) {
        int bits = Float.floatToIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        float a = Math.abs(v);
        if (a < 6.1035156e-5f) {
            return (short) (sign | Math.round(a / 5.9604645e-8f));
        }
        int exp = Math.getExponent(a);
        int mant = Math.round((a / (float) Math.pow(2, exp) - 1f) * 1024f);
        if (mant == 1024) {
            mant = 0;
            exp++;
        }
        return (short) (sign | ((exp + 15) << 10) | mant);
    }

    private static final class Gen {
        private final Random random;
        private final DType dtype;

        Gen(Random random, DType dtype) {
            this.random = random;
            this.dtype = dtype;
        }

        TensorView matrix(String name, int rows, int cols) {
            return tensor(name, new long[] {rows, cols}, 1.0 / Math.sqrt(cols), 0);
        }

        TensorView vector(String name, int n, double std) {
            return tensor(name, new long[] {n}, std, 0);
        }

        TensorView norm(String name, int n) {
            return tensor(name, new long[] {n}, 0.2, 1.0);
        }

        TensorView tensor(String name, long[] shape, double std, double mean) {
            int n = 1;
            for (long d : shape) {
                n *= (int) d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (mean + std * random.nextGaussian());
            }
            return TinyModels.tensor(name, dtype, shape, v);
        }
    }
}
