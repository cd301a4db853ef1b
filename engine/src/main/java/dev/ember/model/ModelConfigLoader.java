package dev.ember.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ModelFormatException;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a Hugging Face model directory's config.json (required), generation_config.json and
 * tokenizer_config.json (both optional) into a validated {@link ModelConfig}.
 *
 * <p>Defaults follow the transformers config classes where a key may be absent: {@code num_key_value_heads}
 * = {@code num_attention_heads}, {@code head_dim} = hidden / heads (Qwen3: 128), {@code rope_theta} 10000,
 * {@code rms_norm_eps} 1e-6, untied embeddings, {@code torch_dtype} float32, no BOS id (-1). Features Ember
 * does not implement (sliding-window attention, MLP biases, activations other than SiLU, quantized weights,
 * RoPE scaling other than llama3, partial rotary embeddings) fail here with a message naming the key rather than
 * giving wrong output.
 * Stateless.
 */
public final class ModelConfigLoader {
    public static final String CONFIG = "config.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String ADAPTER_CONFIG = "adapter_config.json";

    /** The bosTokenId of a model that names none. */
    public static final int NO_TOKEN = -1;

    /** Qwen3Config's default: unlike Llama's, it is not derived from hidden_size / num_attention_heads. */
    private static final int QWEN3_DEFAULT_HEAD_DIM = 128;

    private static final Set<String> DTYPES = Set.of("bfloat16", "float16", "float32");

    private ModelConfigLoader() {
    }

    public static ModelConfig load(Path dir) {
        JsonFile config = JsonFile.read(dir.resolve(CONFIG));
        Optional<JsonFile> generation = JsonFile.readIfPresent(dir.resolve(GENERATION_CONFIG));
        Optional<JsonFile> tokenizerConfig = JsonFile.readIfPresent(dir.resolve(TOKENIZER_CONFIG));

        Architecture arch = architecture(config);
        rejectUnsupportedFeatures(config, arch);
        rejectAdapter(dir);
        int hidden = config.requiredInt("hidden_size");
        int heads = config.requiredInt("num_attention_heads");
        int kvHeads = config.optionalInt("num_key_value_heads", heads);
        int headDim = headDim(config, arch, hidden, heads);
        int maxPositions = config.optionalInt("max_position_embeddings", arch == Architecture.LLAMA ? 2048 : 32768);
        double ropeTheta = ropeTheta(config);
        RopeScaling ropeScaling = ropeScaling(config, config.has("rope_scaling") ? "rope_scaling" : "rope_parameters");
        String dtype = config.optionalString("torch_dtype", config.optionalString("dtype", "float32"));
        if (!DTYPES.contains(dtype)) {
            throw new ModelFormatException("torch_dtype in " + config.path() + " is '" + dtype
                    + "'; supported: bfloat16, float16, float32");
        }
        int bos = config.optionalInt("bos_token_id",
                generation.map(g -> g.optionalInt("bos_token_id", NO_TOKEN)).orElse(NO_TOKEN));
        int vocabSize = config.requiredInt("vocab_size");
        return new ModelConfig(arch,
                vocabSize,
                hidden,
                config.requiredInt("intermediate_size"),
                config.requiredInt("num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                config.optionalDouble("rms_norm_eps", 1e-6),
                ropeTheta,
                ropeScaling,
                maxPositions,
                config.optionalBoolean("tie_word_embeddings", false),
                // Qwen2's q/k/v always carry a bias; Llama and Qwen3 have one only when attention_bias says so
                arch == Architecture.QWEN2 || config.optionalBoolean("attention_bias", false),
                arch == Architecture.QWEN3,
                dtype,
                bos,
                EosTokenIds.union(dir, config, generation, tokenizerConfig, vocabSize));
    }

    private static Architecture architecture(JsonFile config) {
        JsonNode archs = config.get("architectures");
        if (archs == null) {
            throw config.missing("architectures", "a list such as [\"Qwen2ForCausalLM\"]");
        }
        JsonNode first = archs.isArray() ? archs.get(0) : archs;
        if (first == null || !first.isTextual()) {
            throw config.wrongType("architectures", archs, "a list such as [\"Qwen2ForCausalLM\"]");
        }
        Architecture arch = Architecture.fromHfName(first.asText());
        // transformers builds the class model_type names (AutoConfig -> AutoModelForCausalLM), not architectures'
        String modelType = config.optionalString("model_type", arch.modelType());
        if (!modelType.equals(arch.modelType())) {
            throw new ModelFormatException("model_type '" + modelType + "' in " + config.path() + " does not match"
                    + " architectures " + arch.hfName() + " (model_type '" + arch.modelType() + "'); transformers"
                    + " would build the model model_type names");
        }
        return arch;
    }

    private static int headDim(JsonFile config, Architecture arch, int hidden, int heads) {
        if (config.has("head_dim")) {
            return config.requiredInt("head_dim");
        }
        if (arch == Architecture.QWEN3) {
            return QWEN3_DEFAULT_HEAD_DIM;
        }
        if (heads <= 0 || hidden % heads != 0) {
            throw new ModelFormatException("hidden_size=" + hidden + " in " + config.path()
                    + " is not a multiple of num_attention_heads=" + heads + " and there is no head_dim key");
        }
        return hidden / heads;
    }

    private static double ropeTheta(JsonFile config) {
        JsonNode ropeParameters = config.get("rope_parameters"); // transformers 5 moved rope keys in here
        JsonNode nested = ropeParameters == null || !ropeParameters.isObject() ? null : ropeParameters.get("rope_theta");
        if (nested == null || nested.isNull()) {
            return config.optionalDouble("rope_theta", 10000.0);
        }
        if (!nested.isNumber()) {
            throw config.wrongType("rope_parameters.rope_theta", nested, "a number");
        }
        if (config.has("rope_theta") && config.optionalDouble("rope_theta", 0) != nested.asDouble()) {
            throw new ModelFormatException("rope_theta=" + config.optionalDouble("rope_theta", 0)
                    + " and rope_parameters.rope_theta=" + nested.asDouble() + " in " + config.path()
                    + " disagree; transformers 4 uses the first, transformers 5 the second; keep one");
        }
        return nested.asDouble();
    }

    private static RopeScaling ropeScaling(JsonFile config, String key) {
        JsonNode node = config.get(key);
        if (node == null) {
            return null;
        }
        if (!node.isObject()) {
            throw config.wrongType(key, node, "an object with rope_type \"llama3\", or null");
        }
        // older configs say "type", newer ones "rope_type"; where both are present transformers copies "type" over
        // "rope_type" (the BC step in LlamaConfig/Qwen2Config/Qwen3Config.__init__), so "type" decides
        String type = node.path("type").asText(node.path("rope_type").asText("default"));
        if (type.equals("default")) {
            return null;
        }
        if (!type.equals("llama3")) {
            throw new ModelFormatException(key + " type '" + type + "' in " + config.path()
                    + " is not supported; supported: llama3 (or no " + key + ")");
        }
        return new RopeScaling(
                ropeField(config, key, node, "factor").asDouble(),
                ropeField(config, key, node, "low_freq_factor").asDouble(),
                ropeField(config, key, node, "high_freq_factor").asDouble(),
                config.asInt(key + ".original_max_position_embeddings",
                        ropeField(config, key, node, "original_max_position_embeddings")));
    }

    private static JsonNode ropeField(JsonFile config, String key, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw config.missing(key + "." + field, "a number; llama3 rope scaling needs it");
        }
        if (!v.isNumber()) {
            throw config.wrongType(key + "." + field, v, "a number");
        }
        return v;
    }

    private static void requireWholeHeadRotary(JsonFile config, String key, JsonNode factor) {
        if (factor == null || factor.isNull()) {
            return;
        }
        if (!factor.isNumber()) {
            throw config.wrongType(key, factor, "a number");
        }
        if (factor.asDouble() != 1.0) {
            throw new ModelFormatException(key + "=" + factor.asDouble() + " in " + config.path() + " is not supported;"
                    + " Ember rotates whole heads (partial_rotary_factor 1.0)");
        }
    }

    /** transformers (with peft) applies an adapter it finds beside the weights; Ember would silently not. */
    private static void rejectAdapter(Path dir) {
        Optional<JsonFile> adapter = JsonFile.readIfPresent(dir.resolve(ADAPTER_CONFIG));
        if (adapter.isPresent()) {
            throw new ModelFormatException(ADAPTER_CONFIG + " in " + dir + " describes a peft adapter (peft_type '"
                    + adapter.get().root().path("peft_type").asText("?") + "'), which transformers would apply on top"
                    + " of these weights; Ember does not apply adapters: merge it into the weights (peft's"
                    + " merge_and_unload) or remove it");
        }
    }

    private static void rejectUnsupportedFeatures(JsonFile config, Architecture arch) {
        String act = config.optionalString("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new ModelFormatException("hidden_act '" + act + "' in " + config.path() + " is not supported; "
                    + arch.hfName() + " checkpoints Ember runs use silu");
        }
        if (config.optionalBoolean("use_sliding_window", false)) {
            throw new ModelFormatException("use_sliding_window=true in " + config.path()
                    + " is not supported; Ember implements full causal attention only");
        }
        // transformers 4.53+ takes each layer's attention kind from layer_types, whatever use_sliding_window says
        JsonNode layerTypes = config.get("layer_types");
        if (layerTypes != null) {
            if (!layerTypes.isArray()) {
                throw config.wrongType("layer_types", layerTypes, "a list of strings");
            }
            for (int i = 0; i < layerTypes.size(); i++) {
                JsonNode type = layerTypes.get(i);
                if (!type.isTextual() || !type.asText().equals("full_attention")) {
                    throw new ModelFormatException("layer_types[" + i + "]=" + (type.isTextual() ? "'" + type.asText()
                            + "'" : type.toString()) + " in " + config.path() + " is not supported; Ember implements"
                            + " full causal attention only (full_attention)");
                }
            }
        }
        if (config.optionalBoolean("mlp_bias", false)) {
            throw new ModelFormatException("mlp_bias=true in " + config.path() + " is not supported; Ember's MLP"
                    + " has no biases");
        }
        // transformers rotates int(head_dim * partial_rotary_factor) dims of each head; Ember rotates them all
        requireWholeHeadRotary(config, "partial_rotary_factor", config.get("partial_rotary_factor"));
        JsonNode ropeParameters = config.get("rope_parameters");
        if (ropeParameters != null && ropeParameters.isObject()) {
            requireWholeHeadRotary(config, "rope_parameters.partial_rotary_factor",
                    ropeParameters.get("partial_rotary_factor"));
        }
        JsonNode quant = config.get("quantization_config");
        if (quant != null) {
            throw new ModelFormatException("quantized checkpoint (quantization_config.quant_method='"
                    + quant.path("quant_method").asText("?") + "') in " + config.path()
                    + " is not supported; use a bfloat16, float16 or float32 checkpoint");
        }
    }
}
