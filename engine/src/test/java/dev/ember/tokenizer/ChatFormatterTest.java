package dev.ember.tokenizer;

import dev.ember.api.ChatMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChatFormatterTest {
    /**
     * transformers renders with {@code **self.special_tokens_map} (apply_chat_template's template_kwargs): in v5 every
     * named special token that is set — bos, eos, unk, sep, pad, cls, mask — and no unset one (so it is undefined and
     * {@code is defined} tells). Templates of encoder-style or infilling models use sep_token / cls_token /
     * mask_token; they rendered as empty here.
     */
    @Test
    void everyNamedSpecialTokenReachesTheTemplate(@TempDir Path dir) throws Exception {
        String template = "bos={{ bos_token }};eos={{ eos_token }};unk={{ unk_token }};sep={{ sep_token }};"
                + "pad={{ pad_token }};cls={{ cls_token }};"
                + "mask={{ mask_token if mask_token is defined else 'undefined' }};";
        String config = "{\"bos_token\": \"[B]\", \"eos_token\": {\"content\": \"[E]\"}, \"unk_token\": \"[U]\","
                + " \"sep_token\": \"[SEP]\", \"pad_token\": \"[P]\", \"cls_token\": \"[CLS]\", \"mask_token\": null,"
                + " \"chat_template\": "
                + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(template)
                + "}";
        Files.writeString(dir.resolve("tokenizer_config.json"), config);
        ChatFormatter f = ChatFormatter.load(dir);
        assertEquals("bos=[B];eos=[E];unk=[U];sep=[SEP];pad=[P];cls=[CLS];mask=undefined;",
                f.render(List.of(new ChatMessage("user", "hi")), true));
    }

    /**
     * A chat_template.jinja beside tokenizer_config.json wins over the config's chat_template: transformers'
     * from_pretrained lets the file clobber the config's template (its test_chat_template_file_priority saves "a" in
     * the config, writes "b" to chat_template.jinja and expects "b"). Checkpoints re-saved by newer transformers keep
     * the current template in the file, and the config's may be stale.
     */
    @Test
    void chatTemplateJinjaWinsOverTheConfigsTemplate(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"config:{{ messages[0]['content'] }}\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "file:{{ messages[0]['content'] }}");
        assertEquals("file:hi", ChatFormatter.load(dir).render(List.of(new ChatMessage("user", "hi")), false));
        // the config's template still serves when there is no file
        Files.delete(dir.resolve("chat_template.jinja"));
        assertEquals("config:hi", ChatFormatter.load(dir).render(List.of(new ChatMessage("user", "hi")), false));
    }

    /** Named templates without a "default" fail chat rendering, naming the file, not the load (as transformers). */
    @Test
    void namedTemplatesWithoutADefaultFailOnlyRendering(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"x\"}]}");
        ChatFormatter f = ChatFormatter.load(dir);
        dev.ember.ModelFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.ember.ModelFormatException.class, () -> f.render(List.of(new ChatMessage("user", "hi")), true));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("tokenizer_config.json")
                && e.getMessage().contains("'default'"), e.getMessage());
    }
}
