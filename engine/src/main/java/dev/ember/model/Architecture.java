package dev.ember.model;

import dev.ember.ModelFormatException;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The decoder architectures Ember runs, by their Hugging Face {@code architectures} name. */
public enum Architecture {
    /** Qwen2 / Qwen2.5: biases on q, k and v projections. */
    QWEN2("Qwen2ForCausalLM", "qwen2"),
    /** Qwen3: per-head RMSNorm on q and k, no projection biases. */
    QWEN3("Qwen3ForCausalLM", "qwen3"),
    /** Llama 2/3 family: optional Llama-3 RoPE scaling. */
    LLAMA("LlamaForCausalLM", "llama");

    private final String hfName;
    private final String modelType;

    Architecture(String hfName, String modelType) {
        this.hfName = hfName;
        this.modelType = modelType;
    }

    public String hfName() {
        return hfName;
    }

    /** config.json's model_type, from which transformers picks the model class. */
    public String modelType() {
        return modelType;
    }

    public static Architecture fromHfName(String name) {
        for (Architecture a : values()) {
            if (a.hfName.equals(name)) {
                return a;
            }
        }
        throw new ModelFormatException("architecture '" + name + "' is not supported; supported: "
                + Arrays.stream(values()).map(Architecture::hfName).collect(Collectors.joining(", ")));
    }
}
