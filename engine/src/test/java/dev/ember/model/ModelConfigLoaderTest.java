package dev.ember.model;

import dev.ember.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigLoaderTest {
    @TempDir
    Path dir;

    /** Qwen2.5-0.5B-Instruct's config.json. */
    static final String QWEN2 = """
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
             "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
             "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
             "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
             "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
             "use_sliding_window": false, "vocab_size": 151936}
            """;

    /** Qwen3-0.6B's config.json: head_dim 128 although hidden / heads = 64. */
    static final String QWEN3 = """
            {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
             "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
             "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
             "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
             "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
             "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true,
             "use_sliding_window": false, "vocab_size": 151936}
            """;

    /** Llama-3.2-1B's config.json. */
    static final String LLAMA3 = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
             "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
             "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
             "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
             "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256}
            """;

    /** A minimal Llama 2 style config: no num_key_value_heads, head_dim, rope keys or dtype. */
    static final String MINIMAL = """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
             "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100}
            """;

    private Path file(String name, String json) throws Exception {
        return Files.writeString(dir.resolve(name), json);
    }

    private ModelConfig load(String config) throws Exception {
        file("config.json", config);
        return ModelConfigLoader.load(dir);
    }

    private String failure(String config) throws Exception {
        file("config.json", config);
        return assertThrows(ModelFormatException.class, () -> ModelConfigLoader.load(dir)).getMessage();
    }

    private static String edit(String json, String from, String to) {
        assertTrue(json.contains(from), from);
        return json.replace(from, to);
    }

    @Test
    void qwen2() throws Exception {
        ModelConfig c = load(QWEN2);
        assertEquals(Architecture.QWEN2, c.architecture());
        assertEquals(151936, c.vocabSize());
        assertEquals(896, c.hiddenSize());
        assertEquals(4864, c.intermediateSize());
        assertEquals(24, c.numLayers());
        assertEquals(14, c.numHeads());
        assertEquals(2, c.numKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        assertEquals(32768, c.maxPositionEmbeddings());
        assertTrue(c.tieWordEmbeddings());
        assertTrue(c.attentionBias(), "Qwen2 always has q/k/v biases");
        assertFalse(c.qkNorm());
        assertEquals("bfloat16", c.torchDtype());
        assertEquals(151643, c.bosTokenId());
        assertEquals(Set.of(151645), c.eosTokenIds());
    }

    @Test
    void qwen3WithExplicitHeadDim() throws Exception {
        ModelConfig c = load(QWEN3);
        assertEquals(Architecture.QWEN3, c.architecture());
        assertEquals(128, c.headDim());
        assertEquals(16, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals((16 + 2 * 8) * 128, c.qkvSize());
        assertTrue(c.qkNorm());
        assertFalse(c.attentionBias());
        assertEquals(40960, c.maxPositionEmbeddings());
        assertNull(c.ropeScaling());
    }

    @Test
    void llama3RopeScaling() throws Exception {
        ModelConfig c = load(LLAMA3);
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(new RopeScaling(32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(Set.of(128001, 128008, 128009), c.eosTokenIds());
        assertEquals(128000, c.bosTokenId());
        assertFalse(c.attentionBias());
        assertFalse(c.qkNorm());
        // older configs name the type "type" instead of "rope_type"
        ModelConfig legacy = load(edit(LLAMA3, "\"rope_type\": \"llama3\"", "\"type\": \"llama3\""));
        assertEquals(c.ropeScaling(), legacy.ropeScaling());
        // transformers 5 keeps theta and scaling in rope_parameters
        ModelConfig v5 = load(edit(edit(LLAMA3, "\"rope_scaling\"", "\"rope_parameters\""),
                "\"rope_type\": \"llama3\"}", "\"rope_type\": \"llama3\", \"rope_theta\": 250000.0}")
                .replace("\"rope_theta\": 500000.0,", ""));
        assertEquals(c.ropeScaling(), v5.ropeScaling());
        assertEquals(250000.0, v5.ropeTheta());
    }

    @Test
    void otherRopeScalingTypesFailByName() throws Exception {
        String yarn = edit(LLAMA3, "\"rope_type\": \"llama3\"", "\"rope_type\": \"yarn\"");
        assertEquals("rope_scaling type 'yarn' in " + dir.resolve("config.json")
                + " is not supported; supported: llama3 (or no rope_scaling)", failure(yarn));
        String linear = edit(QWEN3, "\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}");
        assertTrue(failure(linear).startsWith("rope_scaling type 'linear' in "));
        assertNull(load(edit(QWEN3, "\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"default\"}"))
                .ropeScaling());
        assertEquals(dir.resolve("config.json") + " is missing required key 'rope_scaling.factor' (a number; llama3"
                + " rope scaling needs it)", failure(edit(LLAMA3, "\"factor\": 32.0,", "")));
    }

    @Test
    void defaultsWhenKeysAreAbsent() throws Exception {
        ModelConfig c = load(MINIMAL);
        assertEquals(4, c.numKvHeads(), "num_key_value_heads defaults to num_attention_heads");
        assertEquals(16, c.headDim(), "head_dim defaults to hidden / heads");
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertEquals("float32", c.torchDtype());
        assertEquals(ModelConfigLoader.NO_TOKEN, c.bosTokenId());
        assertEquals(Set.of(), c.eosTokenIds());
    }

    @Test
    void attentionBiasAndDtypeKeys() throws Exception {
        ModelConfig c = load(edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100, \"attention_bias\": true,"
                + " \"dtype\": \"float16\""));
        assertTrue(c.attentionBias());
        assertEquals("float16", c.torchDtype());
        assertTrue(load(edit(QWEN3, "\"attention_bias\": false", "\"attention_bias\": true")).attentionBias());
        assertEquals("torch_dtype in " + dir.resolve("config.json") + " is 'int8'; supported: bfloat16, float16,"
                + " float32", failure(edit(QWEN2, "\"bfloat16\"", "\"int8\"")));
    }

    @Test
    void unsupportedArchitectureListsSupported() throws Exception {
        assertEquals("architecture 'MistralForCausalLM' is not supported; supported: Qwen2ForCausalLM,"
                + " Qwen3ForCausalLM, LlamaForCausalLM", failure(edit(MINIMAL, "LlamaForCausalLM", "MistralForCausalLM")));
        assertEquals(dir.resolve("config.json") + " is missing required key 'architectures' (a list such as"
                + " [\"Qwen2ForCausalLM\"])", failure("{\"hidden_size\": 4}"));
    }

    /**
     * transformers picks the model class from model_type (AutoConfig maps it to a config class, AutoModelForCausalLM
     * that to a model), not from architectures: model_type "mistral" under architectures ["LlamaForCausalLM"] runs
     * MistralForCausalLM, with its sliding window. Ember goes by architectures, so the two must agree.
     */
    @Test
    void modelTypeMustMatchTheArchitecture() throws Exception {
        assertEquals("model_type 'mistral' in " + dir.resolve("config.json") + " does not match architectures"
                + " LlamaForCausalLM (model_type 'llama'); transformers would build the model model_type names",
                failure(edit(LLAMA3, "\"model_type\": \"llama\"", "\"model_type\": \"mistral\"")));
        assertTrue(failure(edit(QWEN2, "\"model_type\": \"qwen2\"", "\"model_type\": \"qwen3\""))
                .startsWith("model_type 'qwen3' in "));
        assertEquals(Architecture.QWEN3, load(QWEN3).architecture());
        assertEquals(Architecture.LLAMA, load(MINIMAL).architecture(), "no model_type: architectures decides");
    }

    /**
     * With peft installed, transformers' from_pretrained finds adapter_config.json in the directory and loads the
     * LoRA adapter on top of the base weights (find_adapter_config_file, then load_adapter). Ember would run the base
     * weights alone, so the directory must be refused.
     */
    @Test
    void aLoraAdapterBesideTheModelIsRefused() throws Exception {
        file("adapter_config.json", "{\"peft_type\": \"LORA\", \"r\": 8}");
        assertEquals("adapter_config.json in " + dir + " describes a peft adapter (peft_type 'LORA'), which"
                + " transformers would apply on top of these weights; Ember does not apply adapters: merge it into"
                + " the weights (peft's merge_and_unload) or remove it", failure(MINIMAL));
    }

    @Test
    void missingOrBrokenConfigJson() throws Exception {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelConfigLoader.load(dir));
        assertEquals("config.json not found in " + dir.toAbsolutePath()
                + "; expected a Hugging Face model directory (config.json, *.safetensors, tokenizer.json)", e.getMessage());
        String bad = failure("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": }");
        assertTrue(bad.startsWith(dir.resolve("config.json") + " is not valid JSON: Unexpected character ('}'"), bad);
        assertEquals(dir.resolve("config.json") + " is not a JSON object", failure("[1]"));
    }

    @Test
    void missingOrMistypedRequiredKey() throws Exception {
        assertEquals(dir.resolve("config.json") + " is missing required key 'hidden_size' (an integer)",
                failure(edit(MINIMAL, "\"hidden_size\": 64,", "")));
        assertEquals(dir.resolve("config.json") + " is missing required key 'vocab_size' (an integer)",
                failure(edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": null")));
        assertEquals("key 'num_hidden_layers' in " + dir.resolve("config.json") + " is \"two\"; expected an integer",
                failure(edit(MINIMAL, "\"num_hidden_layers\": 2", "\"num_hidden_layers\": \"two\"")));
        assertEquals("key 'tie_word_embeddings' in " + dir.resolve("config.json") + " is 1; expected true or false",
                failure(edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100, \"tie_word_embeddings\": 1")));
        assertEquals("num_attention_heads=4 is not a multiple of num_key_value_heads=3; grouped-query attention"
                + " needs whole groups", failure(edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100,"
                + " \"num_key_value_heads\": 3")));
        assertEquals("hidden_size=64 in " + dir.resolve("config.json") + " is not a multiple of"
                + " num_attention_heads=5 and there is no head_dim key",
                failure(edit(MINIMAL, "\"num_attention_heads\": 4", "\"num_attention_heads\": 5")));
    }

    @Test
    void unsupportedFeaturesFailRatherThanRunWrong() throws Exception {
        Path config = dir.resolve("config.json");
        assertEquals("use_sliding_window=true in " + config + " is not supported; Ember implements full causal"
                + " attention only", failure(edit(QWEN2, "\"use_sliding_window\": false", "\"use_sliding_window\": true")));
        assertEquals("hidden_act 'gelu' in " + config + " is not supported; LlamaForCausalLM checkpoints Ember runs"
                + " use silu", failure(edit(LLAMA3, "\"silu\"", "\"gelu\"")));
        assertEquals("mlp_bias=true in " + config + " is not supported; Ember's MLP has no biases",
                failure(edit(LLAMA3, "\"mlp_bias\": false", "\"mlp_bias\": true")));
        assertEquals("quantized checkpoint (quantization_config.quant_method='awq') in " + config + " is not"
                + " supported; use a bfloat16, float16 or float32 checkpoint",
                failure(edit(QWEN2, "\"use_cache\": true", "\"use_cache\": true, \"quantization_config\":"
                        + " {\"quant_method\": \"awq\", \"bits\": 4}")));
    }

    /**
     * transformers' default RoPE init rotates only {@code int(head_dim * partial_rotary_factor)} dims of each head
     * (modeling_rope_utils._compute_default_rope_parameters reads it with getattr(config, "partial_rotary_factor",
     * 1.0), at the top level or, in transformers 5, inside rope_parameters). Ember rotates whole heads, so a factor
     * other than 1 must fail naming the key instead of giving different logits.
     */
    @Test
    void partialRotaryFactorOtherThanOneIsRefused() throws Exception {
        Path config = dir.resolve("config.json");
        assertEquals("partial_rotary_factor=0.5 in " + config + " is not supported; Ember rotates whole heads"
                + " (partial_rotary_factor 1.0)",
                failure(edit(LLAMA3, "\"pretraining_tp\": 1", "\"pretraining_tp\": 1, \"partial_rotary_factor\": 0.5")));
        assertEquals("rope_parameters.partial_rotary_factor=0.25 in " + config + " is not supported; Ember rotates"
                + " whole heads (partial_rotary_factor 1.0)",
                failure(edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100, \"rope_parameters\":"
                        + " {\"rope_type\": \"default\", \"rope_theta\": 10000.0, \"partial_rotary_factor\": 0.25}")));
        assertEquals(64, load(edit(LLAMA3, "\"pretraining_tp\": 1", "\"pretraining_tp\": 1, \"partial_rotary_factor\": 1.0"))
                .headDim());
    }

    /** Qwen3Config's head_dim defaults to 128, not hidden / heads as in Llama (configuration_qwen3.py). */
    @Test
    void qwen3HeadDimDefaultsTo128() throws Exception {
        assertEquals(128, load(edit(QWEN3, "\"head_dim\": 128,", "")).headDim());
        assertEquals(64, load(edit(QWEN3, "\"head_dim\": 128,", "\"head_dim\": 64,")).headDim());
    }

    /**
     * transformers (4.53+) reads per-layer attention kinds from layer_types; a "sliding_attention" layer gets a
     * sliding-window mask (Qwen2Attention/Qwen3Attention take sliding_window from it). Ember has no sliding window,
     * so any layer type other than full_attention must fail naming the key, even when use_sliding_window is false.
     */
    @Test
    void layerTypesOtherThanFullAttentionAreRefused() throws Exception {
        Path config = dir.resolve("config.json");
        String two = edit(QWEN3, "\"num_hidden_layers\": 28", "\"num_hidden_layers\": 2");
        assertEquals("layer_types[1]='sliding_attention' in " + config + " is not supported; Ember implements"
                + " full causal attention only (full_attention)",
                failure(edit(two, "\"use_cache\": true", "\"use_cache\": true, \"layer_types\":"
                        + " [\"full_attention\", \"sliding_attention\"]")));
        assertEquals(2, load(edit(two, "\"use_cache\": true", "\"use_cache\": true, \"layer_types\":"
                + " [\"full_attention\", \"full_attention\"]")).numLayers());
        assertEquals("key 'layer_types' in " + config + " is \"full_attention\"; expected a list of strings",
                failure(edit(two, "\"use_cache\": true", "\"use_cache\": true, \"layer_types\": \"full_attention\"")));
    }

    /**
     * Where a rope_scaling object carries both keys, transformers copies "type" over "rope_type" before using it
     * (the BC step in LlamaConfig/Qwen2Config/Qwen3Config.__init__), so "type" decides the scaling.
     */
    @Test
    void legacyRopeTypeKeyWinsAsInTransformers() throws Exception {
        String both = edit(QWEN3, "\"rope_scaling\": null",
                "\"rope_scaling\": {\"rope_type\": \"default\", \"type\": \"linear\", \"factor\": 4.0}");
        assertTrue(failure(both).startsWith("rope_scaling type 'linear' in "), failure(both));
    }

    /** rope_parameters.rope_theta is checked as the top-level key is: a string or boolean is not a number. */
    @Test
    void ropeThetaInRopeParametersMustBeANumber() throws Exception {
        String v5 = edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100, \"rope_parameters\":"
                + " {\"rope_type\": \"default\", \"rope_theta\": 500000.0}");
        assertEquals(500000.0, load(v5).ropeTheta());
        assertEquals("key 'rope_parameters.rope_theta' in " + dir.resolve("config.json") + " is true; expected a number",
                failure(edit(v5, "500000.0", "true")));
        assertEquals("key 'rope_parameters.rope_theta' in " + dir.resolve("config.json") + " is \"500000\"; expected"
                + " a number", failure(edit(v5, "500000.0", "\"500000\"")));
    }

    /**
     * Two different thetas: transformers 4 reads the top-level rope_theta (rope_parameters is an unknown key there),
     * transformers 5 keeps rope_parameters' (its standardization only setdefaults the top-level value in). Which one
     * the checkpoint was trained with is unknowable, so the disagreement fails; equal values are fine.
     */
    @Test
    void twoDifferentRopeThetasAreRefused() throws Exception {
        String both = edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100, \"rope_theta\": 10000.0,"
                + " \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 500000.0}");
        assertEquals("rope_theta=10000.0 and rope_parameters.rope_theta=500000.0 in " + dir.resolve("config.json")
                + " disagree; transformers 4 uses the first, transformers 5 the second; keep one", failure(both));
        assertEquals(500000.0, load(edit(both, "\"rope_theta\": 10000.0", "\"rope_theta\": 500000.0")).ropeTheta());
    }

    @Test
    void eosIsTheUnionOfAllThreeFiles() throws Exception {
        file("generation_config.json", "{\"bos_token_id\": 151643, \"eos_token_id\": [151645, 151643],"
                + " \"do_sample\": true}");
        file("tokenizer_config.json", """
                {"added_tokens_decoder": {"151643": {"content": "<|endoftext|>", "special": true},
                                          "151644": {"content": "<|im_start|>", "special": true},
                                          "151646": {"content": "<|custom_end|>", "special": true}},
                 "eos_token": "<|custom_end|>"}
                """);
        assertEquals(Set.of(151643, 151645, 151646), load(QWEN2).eosTokenIds());
    }

    @Test
    void eosTokenObjectResolvedThroughTokenizerJson() throws Exception {
        file("tokenizer_config.json", "{\"eos_token\": {\"content\": \"</s>\", \"lstrip\": false}}");
        file("tokenizer.json", "{\"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\"}, {\"id\": 2, \"content\":"
                + " \"</s>\"}], \"model\": {\"vocab\": {\"</s>\": 77}}}");
        assertEquals(Set.of(2), load(MINIMAL).eosTokenIds(), "added_tokens wins over the vocabulary");
        file("tokenizer.json", "{\"added_tokens\": [], \"model\": {\"type\": \"BPE\", \"vocab\": {\"</s>\": 7}}}");
        assertEquals(Set.of(7), load(MINIMAL).eosTokenIds());
        // generation_config's bos fills in when config.json has none
        file("generation_config.json", "{\"bos_token_id\": 1, \"eos_token_id\": 3}");
        ModelConfig c = load(MINIMAL);
        assertEquals(Set.of(3, 7), c.eosTokenIds());
        assertEquals(1, c.bosTokenId());
    }

    @Test
    void unresolvableEosTokenFails() throws Exception {
        file("tokenizer_config.json", "{\"eos_token\": \"<|nope|>\", \"added_tokens_decoder\": {}}");
        assertEquals("eos_token '<|nope|>' in " + dir.resolve("tokenizer_config.json") + " is not in its"
                + " added_tokens_decoder, and there is no tokenizer.json to look it up in", failure(MINIMAL));
        file("tokenizer.json", "{\"added_tokens\": [], \"model\": {\"vocab\": {}}}");
        assertEquals("eos_token '<|nope|>' in " + dir.resolve("tokenizer_config.json") + " is not in its"
                + " added_tokens_decoder nor in " + dir.resolve("tokenizer.json") + " (added_tokens or model.vocab)",
                failure(MINIMAL));
        file("tokenizer_config.json", "{\"eos_token\": 5}");
        assertEquals("key 'eos_token' in " + dir.resolve("tokenizer_config.json") + " is 5; expected a string or an"
                + " object with a string 'content'", failure(MINIMAL));
        file("tokenizer_config.json", "{\"eos_token\": null}");
        assertEquals(Set.of(), load(MINIMAL).eosTokenIds());
    }

    @Test
    void eosIdOutsideTheVocabulary() throws Exception {
        assertEquals("eos_token_id 100 in " + dir.resolve("config.json") + " is outside the vocabulary [0, 100)"
                + " (vocab_size in config.json)",
                failure(edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100, \"eos_token_id\": [1, 100]")));
        // the file that names a bad id is named, wherever it is
        file("generation_config.json", "{\"eos_token_id\": [2, -1]}");
        assertEquals("eos_token_id -1 in " + dir.resolve("generation_config.json") + " is outside the vocabulary"
                + " [0, 100) (vocab_size in config.json)", failure(MINIMAL));
        file("generation_config.json", "{}");
        file("tokenizer_config.json", "{\"eos_token\": \"</s>\", \"added_tokens_decoder\": {\"150\": {\"content\": \"</s>\"}}}");
        assertEquals("eos_token '</s>' in " + dir.resolve("tokenizer_config.json") + " has id 150, outside the"
                + " vocabulary [0, 100) (vocab_size in config.json)", failure(MINIMAL));
        assertEquals("key 'eos_token_id' in " + dir.resolve("config.json") + " is \"2\"; expected an integer",
                failure(edit(MINIMAL, "\"vocab_size\": 100", "\"vocab_size\": 100, \"eos_token_id\": \"2\"")));
    }

    /**
     * transformers reads these files with json.load, which raises "Extra data" on anything after the first value; a
     * second object (e.g. two configs pasted into one file) must not be dropped in silence.
     */
    @Test
    void textAfterTheJsonObjectIsRefused() throws Exception {
        String bad = failure(MINIMAL + " {\"num_hidden_layers\": 5}");
        assertTrue(bad.startsWith(dir.resolve("config.json") + " is not valid JSON: Trailing token"), bad);
        file("generation_config.json", "{\"eos_token_id\": 3}\n{\"eos_token_id\": 5}");
        bad = failure(MINIMAL);
        assertTrue(bad.startsWith(dir.resolve("generation_config.json") + " is not valid JSON: Trailing token"), bad);
        file("generation_config.json", "{\"eos_token_id\": 3}\n\n");
        assertEquals(Set.of(3), load(MINIMAL).eosTokenIds());
    }

    @Test
    void badOptionalFileIsNamed() throws Exception {
        file("generation_config.json", "{oops");
        assertTrue(failure(MINIMAL).startsWith(dir.resolve("generation_config.json") + " is not valid JSON: "));
    }
}
