package dev.ember.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Which special tokens a plain text prompt gets. transformers 5 (TokenizersBackend.__init__, the reference of the
 * template fixtures) rebuilds the tokenizer's post-processor when tokenizer_config.json sets add_bos_token or
 * add_eos_token: update_post_processor() makes it the template "[bos] $A [eos]" with bos only when add_bos_token is
 * true and eos only when add_eos_token is true, whatever tokenizer.json's own post-processor said. A flag left out
 * defaults by tokenizer class there (LlamaTokenizer: add_bos_token=True); Ember keeps tokenizer.json's behaviour for
 * it. The fixture's tokenizer.json adds {@code <s>} (id 1); {@code </s>} is id 2.
 */
class TokenizerSpecialTokensTest {
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final int HELLO = SentencePieceFixture.id("▁Hello");
    private static final String TOKENS = "\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"unk_token\": \"<unk>\"";

    private static int[] encode(Path dir, String config, boolean bosPostProcessor) throws Exception {
        SentencePieceFixture.write(dir, config, bosPostProcessor);
        try (Tokenizer t = Tokenizer.load(dir)) {
            return t.encode("Hello", true);
        }
    }

    @Test
    void withoutFlagsTheTokenizerJsonDecides(@TempDir Path dir) throws Exception {
        assertArrayEquals(new int[] {BOS, HELLO}, encode(dir, "{" + TOKENS + "}", true));
        assertArrayEquals(new int[] {HELLO}, encode(dir, "{" + TOKENS + "}", false));
    }

    @Test
    void addBosTokenFalseDropsThePostProcessorsBos(@TempDir Path dir) throws Exception {
        assertArrayEquals(new int[] {HELLO}, encode(dir, "{\"add_bos_token\": false, " + TOKENS + "}", true));
    }

    @Test
    void addBosTokenTrueAddsBosTheTokenizerJsonLacks(@TempDir Path dir) throws Exception {
        assertArrayEquals(new int[] {BOS, HELLO}, encode(dir, "{\"add_bos_token\": true, " + TOKENS + "}", false));
        // an AddedToken object names the token as well as a string does
        assertArrayEquals(new int[] {BOS, HELLO}, encode(dir, "{\"add_bos_token\": true, \"bos_token\": {\"content\":"
                + " \"<s>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false,"
                + " \"__type\": \"AddedToken\"}}", false));
    }

    @Test
    void addEosTokenTrueAppendsEos(@TempDir Path dir) throws Exception {
        assertArrayEquals(new int[] {BOS, HELLO, EOS},
                encode(dir, "{\"add_bos_token\": true, \"add_eos_token\": true, " + TOKENS + "}", true));
    }

    @Test
    void aFlagLeftOutKeepsTheTokenizerJson(@TempDir Path dir) throws Exception {
        // a Llama checkpoint fine-tuned with add_eos_token: true (LlamaTokenizer's add_bos_token defaults to True)
        assertArrayEquals(new int[] {BOS, HELLO, EOS}, encode(dir, "{\"add_eos_token\": true, " + TOKENS + "}", true));
        assertArrayEquals(new int[] {HELLO, EOS}, encode(dir, "{\"add_eos_token\": true, " + TOKENS + "}", false));
    }

    @Test
    void aFlagThatIsNotABooleanIsNamed(@TempDir Path dir) throws Exception {
        SentencePieceFixture.write(dir, "{\"add_bos_token\": \"yes\", " + TOKENS + "}", true);
        dev.ember.ModelFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.ember.ModelFormatException.class, () -> Tokenizer.load(dir));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("add_bos_token")
                && e.getMessage().contains("\"yes\"") && e.getMessage().contains("true or false"), e.getMessage());
    }

    @Test
    void withoutSpecialTokensNothingIsAdded(@TempDir Path dir) throws Exception {
        SentencePieceFixture.write(dir, "{\"add_bos_token\": true, \"add_eos_token\": true, " + TOKENS + "}", false);
        try (Tokenizer t = Tokenizer.load(dir)) {
            // the chat path: apply_chat_template(tokenize=True) encodes with add_special_tokens=False
            assertArrayEquals(new int[] {HELLO}, t.encode("Hello", false));
        }
    }

    /**
     * Decoding skips special tokens (vLLM's default skip_special_tokens=True) and applies no
     * clean_up_tokenization_spaces, even where tokenizer_config.json sets it (Llama 3 does): vLLM's incremental
     * detokenizer does not apply it either, and it cannot be applied token by token (" ." only becomes "." once the
     * "." arrives). transformers' decode() would give "Hello." here.
     */
    @Test
    void decodingSkipsSpecialTokensAndKeepsSpaces(@TempDir Path dir) throws Exception {
        SentencePieceFixture.write(dir, "{\"clean_up_tokenization_spaces\": true, " + TOKENS + "}", true);
        try (Tokenizer t = Tokenizer.load(dir)) {
            int[] ids = t.encode("Hello .", true);
            int[] want = {BOS, HELLO, SentencePieceFixture.id("▁"), SentencePieceFixture.BYTE0 + '.'};
            assertArrayEquals(want, ids);
            org.junit.jupiter.api.Assertions.assertEquals("Hello .", t.decode(ids));
            org.junit.jupiter.api.Assertions.assertEquals("Hello .", t.newDetokenizer(new int[] {BOS}).appendAll(
                    java.util.Arrays.copyOfRange(ids, 1, ids.length)));
        }
    }
}
