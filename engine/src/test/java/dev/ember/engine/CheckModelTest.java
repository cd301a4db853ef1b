package dev.ember.engine;

import dev.ember.LlmException;
import dev.ember.api.EngineConfig;
import dev.ember.demo.DemoModel;
import dev.ember.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Engine.checkModel: what create() would reject, found without loading the model. */
class CheckModelTest {

    @Test
    void aGoodCheckpointPassesAndGivesItsConfig(@TempDir Path dir) {
        ModelConfig config = Engine.checkModel(DemoModel.write(dir.resolve("m")));
        assertEquals(DemoModel.VOCAB_SIZE, config.vocabSize());
    }

    @Test
    void eachBrokenPartIsNamed(@TempDir Path dir) throws Exception {
        assertMessage(dir.resolve("absent"), "does not exist");

        Path noTokenizer = DemoModel.write(dir.resolve("a"));
        Files.delete(noTokenizer.resolve("tokenizer.json"));
        assertMessage(noTokenizer, "has no tokenizer.json");

        Path noWeights = DemoModel.write(dir.resolve("b"));
        Files.delete(noWeights.resolve("model.safetensors"));
        assertMessage(noWeights, "safetensors");

        Path badConfig = DemoModel.write(dir.resolve("c"));
        String json = Files.readString(badConfig.resolve("config.json"));
        Files.writeString(badConfig.resolve("config.json"), json.replace("Qwen2ForCausalLM", "GPT2LMHeadModel"));
        assertMessage(badConfig, "GPT2LMHeadModel");

        Path truncated = DemoModel.write(dir.resolve("d"));
        byte[] bytes = Files.readAllBytes(truncated.resolve("model.safetensors"));
        Files.write(truncated.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertMessage(truncated, "model.safetensors");
    }

    @Test
    void absurdSizesInConfigFailWithAMessageBeforeAnythingIsAllocated(@TempDir Path dir) throws Exception {
        Path layers = withConfig(dir.resolve("a"), "num_hidden_layers", "1000000000");
        assertMessage(layers, "num_hidden_layers=1000000000 in config.json; expected at most 65536");
        assertMessage(withConfig(dir.resolve("f"), "num_hidden_layers", "60000"),
                "num_hidden_layers=60000, but " + dir.resolve("f").resolve("model.safetensors") + " holds tensors of 2 layers (model.layers.0 to model.layers.1)");
        LlmException onCreate = assertThrows(LlmException.class, () -> Engine.create(EngineConfig.builder(layers).build()));
        assertTrue(onCreate.getMessage().contains("num_hidden_layers=1000000000"), onCreate.getMessage());
        assertMessage(withConfig(dir.resolve("b"), "num_hidden_layers", "3"), "num_hidden_layers=3, but");
        assertMessage(withConfig(dir.resolve("c"), "head_dim", "2000000000"), "head_dim=2000000000");
        assertMessage(withConfig(dir.resolve("d"), "num_attention_heads", "2147483646"), "num_attention_heads=2147483646");
        assertMessage(withConfig(dir.resolve("e"), "vocab_size", "2000000000"), "model.embed_tokens.weight");
    }

    /**
     * The tokenizer loads on its own thread while the backend is built: a broken tokenizer.json still fails create()
     * with the tokenizer's own error (not a wrapper of the thread's), and an engine over the same directory made whole
     * again starts.
     */
    @Test
    void aBrokenTokenizerFailsCreateWithItsOwnError(@TempDir Path dir) throws Exception {
        Path model = DemoModel.write(dir.resolve("m"));
        Path tokenizer = model.resolve("tokenizer.json");
        String good = Files.readString(tokenizer);
        Files.writeString(tokenizer, "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
        dev.ember.ModelFormatException e = assertThrows(dev.ember.ModelFormatException.class,
                () -> Engine.create(EngineConfig.builder(model).build()));
        assertTrue(e.getMessage().startsWith("cannot load tokenizer " + tokenizer), e.getMessage());
        Files.writeString(tokenizer, good);
        try (Engine engine = Engine.create(EngineConfig.builder(model).build())) {
            assertTrue(engine.generate(java.util.List.of(dev.ember.api.Request.ofText("a", "hello",
                    dev.ember.sampling.SamplingParams.builder().maxTokens(2).build()))).get(0).ok());
        }
    }

    private static Path withConfig(Path dir, String field, String value) throws Exception {
        DemoModel.write(dir);
        Path config = dir.resolve("config.json");
        String json = Files.readString(config);
        String changed = json.replaceFirst("\"" + field + "\"\\s*:\\s*\\d+", "\"" + field + "\": " + value);
        if (changed.equals(json)) {
            changed = json.replaceFirst("\\{", "{\"" + field + "\": " + value + ",");
        }
        Files.writeString(config, changed);
        return dir;
    }

    private static void assertMessage(Path dir, String part) {
        LlmException e = assertThrows(LlmException.class, () -> Engine.checkModel(dir));
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
