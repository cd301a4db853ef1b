package dev.ember.engine;

import dev.ember.api.ChatMessage;
import dev.ember.api.Request;
import dev.ember.sampling.SamplingParams;
import dev.ember.tokenizer.QwenFixture;
import dev.ember.tokenizer.SentencePieceFixture;
import dev.ember.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The prompt tokens of the three request kinds, against transformers' rules for special tokens. */
class PromptPreparerTest {
    private static final SamplingParams PARAMS = SamplingParams.builder().maxTokens(4).build();
    private static final int BOS = 1;

    private static PromptPreparer preparer(Tokenizer t, int vocab) {
        return new PromptPreparer(t, vocab, 4096, 1 << 20, 0);
    }

    /**
     * A Llama / Mistral style template writes {{ bos_token }} itself, and tokenizer.json's post-processor adds BOS too.
     * transformers' apply_chat_template(tokenize=True) encodes the rendered text with add_special_tokens=False, so the
     * chat prompt starts with one BOS, not two; a plain text prompt gets the post-processor's one.
     */
    @Test
    void aTemplateThatWritesBosGetsOneBos(@TempDir Path dir) throws Exception {
        SentencePieceFixture.write(dir, "{\"add_bos_token\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\","
                + " \"chat_template\": \"{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}\"}");
        try (Tokenizer t = Tokenizer.load(dir)) {
            PromptPreparer p = preparer(t, SentencePieceFixture.VOCAB_SIZE);
            int[] hello = {BOS, SentencePieceFixture.id("▁Hello")};
            assertArrayEquals(hello, p.tokens(Request.ofChat("c", List.of(new ChatMessage("user", "Hello")), PARAMS)));
            assertArrayEquals(hello, p.tokens(Request.ofText("t", "Hello", PARAMS)));
            // ids are taken as given: no BOS added (as vLLM's prompt_token_ids)
            assertArrayEquals(new int[] {SentencePieceFixture.id("▁Hello")},
                    p.tokens(Request.ofTokens("i", new int[] {SentencePieceFixture.id("▁Hello")}, PARAMS)));
        }
    }

    /**
     * A special token typed inside a user's text becomes that special token on both paths, as transformers (and vLLM,
     * which tokenizes through it) encodes by default (split_special_tokens=False): the text path and the chat path
     * agree, so a row's meaning does not depend on which column form it came in.
     */
    @Test
    void aSpecialTokenTypedInTextIsTheSameTokenOnBothPaths() {
        Path q = QwenFixture.dir();
        assumeTrue(q != null, "the Qwen tokenizer fixture is absent");
        try (Tokenizer t = Tokenizer.load(q)) {
            PromptPreparer p = preparer(t, 151669);
            int imEnd = 151645;
            int[] text = p.tokens(Request.ofText("t", "a<|im_end|>b", PARAMS));
            assertArrayEquals(new int[] {t.encode("a", false)[0], imEnd, t.encode("b", false)[0]}, text);
            int[] chat = p.tokens(Request.ofChat("c", List.of(new ChatMessage("user", "a<|im_end|>b")), PARAMS));
            int count = 0;
            for (int id : chat) {
                count += id == imEnd ? 1 : 0;
            }
            // the template's own <|im_end|> closing the user turn, and the typed one
            org.junit.jupiter.api.Assertions.assertEquals(2, count, java.util.Arrays.toString(chat));
        }
    }

    /**
     * A chat template this renderer cannot parse (here a for without endfor) concerns chat requests only: transformers
     * loads such a tokenizer and raises only in apply_chat_template, and vLLM serves completions for it. Text and
     * token-id requests must run; a chat request gets the template's syntax error as its row's error. (The whole
     * tokenizer used to fail to load, so no request of any kind could run on the model.)
     */
    @Test
    void aTemplateThatDoesNotParseFailsOnlyChatRequests(@TempDir Path dir) throws Exception {
        SentencePieceFixture.write(dir, "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\","
                + " \"chat_template\": \"{% for m in messages %}{{ m['content'] }}\"}");
        try (Tokenizer t = Tokenizer.load(dir)) {
            PromptPreparer p = preparer(t, SentencePieceFixture.VOCAB_SIZE);
            assertArrayEquals(new int[] {BOS, SentencePieceFixture.id("▁Hello")},
                    p.tokens(Request.ofText("t", "Hello", PARAMS)));
            PromptPreparer.BadRequest e = org.junit.jupiter.api.Assertions.assertThrows(PromptPreparer.BadRequest.class,
                    () -> p.tokens(Request.ofChat("c", List.of(new ChatMessage("user", "Hello")), PARAMS)));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("chat template failed: ")
                    && e.getMessage().contains("endfor"), e.getMessage());
        }
    }
}
