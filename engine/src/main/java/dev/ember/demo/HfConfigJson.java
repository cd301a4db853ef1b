package dev.ember.demo;

import dev.ember.model.RopeScaling;
import dev.ember.weights.DType;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The config.json and generation_config.json maps a transformers checkpoint of a {@link RandomCheckpoint.Spec} has. */
final class HfConfigJson {
    static final String TRANSFORMERS_VERSION = "4.51.3";

    private HfConfigJson() {
    }

    /** config.json as transformers writes it for the architecture: sorted keys, nulls where it writes nulls. */
    static Map<String, Object> config(RandomCheckpoint.Spec s) {
        Map<String, Object> c = new TreeMap<>();
        c.put("architectures", List.of(s.architecture().hfName()));
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", s.bosTokenId() < 0 ? null : s.bosTokenId());
        c.put("eos_token_id", s.eosTokenIds().size() == 1 ? s.eosTokenIds().get(0) : s.eosTokenIds());
        c.put("hidden_act", "silu");
        c.put("hidden_size", s.hiddenSize());
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", s.intermediateSize());
        c.put("max_position_embeddings", s.maxPositionEmbeddings());
        c.put("num_attention_heads", s.numHeads());
        c.put("num_hidden_layers", s.numLayers());
        c.put("num_key_value_heads", s.numKvHeads());
        c.put("rms_norm_eps", s.rmsNormEps());
        c.put("rope_scaling", s.ropeScaling() == null ? null : ropeScalingJson(s.ropeScaling()));
        c.put("rope_theta", s.ropeTheta());
        c.put("tie_word_embeddings", s.tieWordEmbeddings());
        c.put("torch_dtype", torchDtype(s.dtype()));
        c.put("transformers_version", TRANSFORMERS_VERSION);
        c.put("use_cache", true);
        c.put("vocab_size", s.vocabSize());
        switch (s.architecture()) {
            case QWEN2 -> {
                c.put("max_window_layers", s.numLayers());
                c.put("model_type", "qwen2");
                c.put("sliding_window", s.maxPositionEmbeddings());
                c.put("use_sliding_window", false);
                if (s.headDim() * s.numHeads() != s.hiddenSize()) {
                    c.put("head_dim", s.headDim()); // Qwen2 derives it unless told
                }
            }
            case QWEN3 -> {
                c.put("attention_bias", s.attentionBias());
                c.put("head_dim", s.headDim());
                c.put("max_window_layers", s.numLayers());
                c.put("model_type", "qwen3");
                c.put("sliding_window", null);
                c.put("use_sliding_window", false);
            }
            case LLAMA -> {
                c.put("attention_bias", s.attentionBias());
                c.put("head_dim", s.headDim());
                c.put("mlp_bias", false);
                c.put("model_type", "llama");
                c.put("pretraining_tp", 1);
            }
        }
        return c;
    }

    private static Map<String, Object> ropeScalingJson(RopeScaling r) {
        Map<String, Object> m = new TreeMap<>();
        m.put("factor", r.factor());
        m.put("high_freq_factor", r.highFreqFactor());
        m.put("low_freq_factor", r.lowFreqFactor());
        m.put("original_max_position_embeddings", r.originalMaxPositionEmbeddings());
        m.put("rope_type", "llama3");
        return m;
    }

    static Map<String, Object> generationConfig(RandomCheckpoint.Spec s) {
        Map<String, Object> g = new TreeMap<>();
        g.put("bos_token_id", s.bosTokenId() < 0 ? null : s.bosTokenId());
        g.put("do_sample", false);
        g.put("eos_token_id", s.eosTokenIds());
        g.put("transformers_version", TRANSFORMERS_VERSION);
        return g;
    }

    static String torchDtype(DType dtype) {
        return switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        };
    }

}
