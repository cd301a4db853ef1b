package dev.ember.demo;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoTokenizerTest {
    @TempDir
    static Path dir;
    static HuggingFaceTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        DemoTokenizer.write(dir);
        tokenizer = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of("addSpecialTokens", "false"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static long[] ids(String text) {
        return tokenizer.encode(text).getIds();
    }

    @Test
    void asciiRoundTripsAndMergesShortenCommonWords() {
        String text = "The quick brown fox jumps over the lazy dog. Hello, how are you?";
        long[] ids = ids(text);
        assertEquals(text, tokenizer.decode(ids));
        // byte tokens alone would need one id per byte; learned merges must do better on English
        assertTrue(ids.length < text.length() / 2, "only " + text.length() + "/" + ids.length + " chars per token");
        for (long id : ids) {
            assertTrue(id >= 0 && id < DemoTokenizer.ENDOFTEXT_ID, "id " + id);
        }
    }

    @Test
    void multiByteUtf8RoundTripsThroughByteTokens() {
        for (String text : new String[] {"héllo 世界 🙂", "naïve café — ünïcödé", "\t tabs\nand  spaces  ", "日本語"}) {
            long[] ids = ids(text);
            assertEquals(text, tokenizer.decode(ids), Arrays.toString(ids));
        }
        // a character outside the training text is spelled in byte tokens: id = byte value
        byte[] smiley = "🙂".getBytes(StandardCharsets.UTF_8);
        long[] expected = new long[smiley.length];
        for (int i = 0; i < smiley.length; i++) {
            expected[i] = smiley[i] & 0xff;
        }
        assertArrayEquals(expected, ids("🙂"));
    }

    @Test
    void specialTokensAreSingleIds() {
        assertArrayEquals(new long[] {DemoTokenizer.IM_START_ID}, ids("<|im_start|>"));
        assertArrayEquals(new long[] {DemoTokenizer.IM_END_ID}, ids("<|im_end|>"));
        assertArrayEquals(new long[] {DemoTokenizer.ENDOFTEXT_ID}, ids("<|endoftext|>"));
        String chat = "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n";
        long[] ids = ids(chat);
        assertEquals(DemoTokenizer.IM_START_ID, ids[0]);
        assertEquals(2, Arrays.stream(ids).filter(i -> i == DemoTokenizer.IM_START_ID).count());
        assertEquals(1, Arrays.stream(ids).filter(i -> i == DemoTokenizer.IM_END_ID).count());
        assertEquals(chat, tokenizer.decode(ids, false));
        assertEquals("user\nhi there\nassistant\n", tokenizer.decode(ids, true));
    }

    @Test
    void vocabularyHasExactlyTheDocumentedIds() throws Exception {
        JsonNode json = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile());
        JsonNode vocab = json.path("model").path("vocab");
        assertEquals(256 + DemoTokenizer.NUM_MERGES, vocab.size());
        assertEquals(DemoTokenizer.NUM_MERGES, json.path("model").path("merges").size());
        assertEquals(0, vocab.get("Ā").asInt()); // byte 0 in GPT-2's alphabet
        assertEquals(32, vocab.get("Ġ").asInt()); // the space byte
        assertEquals(65, vocab.get("A").asInt());
        assertEquals(DemoTokenizer.VOCAB_SIZE, 643);
        assertEquals("Ġ", ByteLevelBpe.byteToUnicode()[' '] + "");
    }

    @Test
    void tokenizerConfigNamesEosAndTemplate() throws Exception {
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals("<|im_end|>", cfg.get("eos_token").asText());
        assertEquals("<|endoftext|>", cfg.get("pad_token").asText());
        assertEquals("<|im_end|>", cfg.path("added_tokens_decoder").path(String.valueOf(DemoTokenizer.IM_END_ID))
                .path("content").asText());
        assertEquals(DemoTokenizer.CHAT_TEMPLATE, cfg.get("chat_template").asText());
    }

    @Test
    void writesTheSameBytesEveryTime(@TempDir Path other) throws Exception {
        DemoTokenizer.write(other);
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
            assertArrayEquals(Files.readAllBytes(dir.resolve(f)), Files.readAllBytes(other.resolve(f)), f);
        }
    }
}
