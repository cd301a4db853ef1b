package dev.ember.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tiny Llama-2 / Mistral style tokenizer.json: SentencePiece BPE with byte fallback ({@code <0xE4>} tokens),
 * the "▁" word marker prepended by the normalizer, and the decoder chain transformers' LlamaConverter writes
 * (Replace "▁" by " ", ByteFallback, Fuse, Strip one leading space); the post-processor adds {@code <s>}. Ids: 0
 * {@code <unk>}, 1 {@code <s>}, 2 {@code </s>}, 3..258 the byte tokens {@code <0x00>}..{@code <0xFF>}, then the
 * pieces of {@link #PIECES}.
 */
public final class SentencePieceFixture {
    public static final int BYTE0 = 3;
    static final String[] PIECES = {"▁", "H", "e", "l", "o", "w", "r", "d", "▁H", "ll", "▁He", "▁Hell", "▁Hello",
            "▁w", "or", "▁wor", "▁worl", "▁world", "!"};
    private static final String[] MERGES = {"▁ H", "l l", "▁H e", "▁He ll", "▁Hell o", "▁ w", "o r", "▁w or",
            "▁wor l", "▁worl d"};
    public static final int VOCAB_SIZE = BYTE0 + 256 + PIECES.length;

    private SentencePieceFixture() {
    }

    public static int id(String piece) {
        for (int i = 0; i < PIECES.length; i++) {
            if (PIECES[i].equals(piece)) {
                return BYTE0 + 256 + i;
            }
        }
        throw new IllegalArgumentException(piece);
    }

    public static void write(Path dir, String tokenizerConfig) throws IOException {
        write(dir, tokenizerConfig, true);
    }

    /** With {@code bosPostProcessor} false the tokenizer.json has no post-processor (adds nothing). */
    public static void write(Path dir, String tokenizerConfig, boolean bosPostProcessor) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < specials.length; i++) {
            added.addObject().put("id", i).put("content", specials[i]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "Sequence");
        ArrayNode norms = normalizer.putArray("normalizers");
        norms.addObject().put("type", "Prepend").put("prepend", "▁");
        ObjectNode replace = norms.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "▁");
        root.putNull("pre_tokenizer");
        root.set("post_processor", !bosPostProcessor ? json.nullNode() : json.readTree("""
                {"type": "TemplateProcessing",
                 "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                 "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                          {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                 "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
                """));
        root.set("decoder", json.readTree("""
                {"type": "Sequence", "decoders": [
                  {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                  {"type": "ByteFallback"}, {"type": "Fuse"},
                  {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
                """));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < specials.length; i++) {
            vocab.put(specials[i], i);
        }
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), BYTE0 + b);
        }
        for (int i = 0; i < PIECES.length; i++) {
            vocab.put(PIECES[i], BYTE0 + 256 + i);
        }
        ArrayNode merges = model.putArray("merges");
        for (String m : MERGES) {
            merges.add(m);
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));
        if (tokenizerConfig != null) {
            Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        }
    }
}
