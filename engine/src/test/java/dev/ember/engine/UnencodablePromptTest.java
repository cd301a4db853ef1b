package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A valid tokenizer that cannot encode some text: that row gets an error naming the tokenizer, the others run. */
class UnencodablePromptTest {
    /** A Unigram tokenizer over the letters a..z with no unk_id: any other character cannot be encoded. */
    static String unigramWithoutUnk() {
        StringBuilder vocab = new StringBuilder();
        for (char c = 'a'; c <= 'z'; c++) {
            vocab.append(c == 'a' ? "" : ",").append("[\"").append(c).append("\", -1.0]");
        }
        return "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [],"
                + " \"normalizer\": null, \"pre_tokenizer\": null, \"post_processor\": null, \"decoder\": null,"
                + " \"model\": {\"type\": \"Unigram\", \"unk_id\": null, \"vocab\": [" + vocab + "], \"byte_fallback\": false}}";
    }

    @Test
    void aPromptTheTokenizerCannotEncodeFailsOnlyItsRow(@TempDir Path dir) throws Exception {
        DemoModel.write(dir);
        Files.writeString(dir.resolve("tokenizer.json"), unigramWithoutUnk());
        Files.deleteIfExists(dir.resolve("tokenizer_config.json"));
        SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(2).build();
        try (Engine engine = Engine.create(EngineConfig.builder(dir).numThreads(2).cpuKvCacheBytes(8L << 20).build())) {
            List<Result> results = engine.generate(List.of(Request.ofText("ok", "hello", p),
                    Request.ofText("bad", "hello 42 ✓", p), Request.ofText("ok2", "world", p)));
            assertNull(results.get(0).error());
            assertNull(results.get(2).error());
            Result bad = results.get(1);
            assertEquals(FinishReason.ERROR, bad.finishReason());
            assertTrue(bad.error().contains("the tokenizer " + dir.resolve("tokenizer.json") + " cannot encode this text"),
                    bad.error());
            assertEquals(1, engine.metrics().requestErrors());
        }
    }
}
