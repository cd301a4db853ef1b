package dev.ember.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ember.LlmException;

import dev.ember.model.ModelConfigLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A small byte-level BPE tokenizer, written by code as a Hugging Face {@code tokenizer.json} plus
 * {@code tokenizer_config.json} with a ChatML chat template, for the demo model and for tests.
 *
 * <p>Vocabulary: ids 0..255 are the 256 byte tokens (id = byte value, spelled in GPT-2's byte-to-unicode
 * alphabet), ids 256..639 the {@value #NUM_MERGES} merges learned from a built-in English text, then the
 * special tokens {@code <|endoftext|>} ({@value #ENDOFTEXT_ID}), {@code <|im_start|>} ({@value #IM_START_ID})
 * and {@code <|im_end|>} ({@value #IM_END_ID}, the EOS token). Any UTF-8 text encodes (through the byte tokens)
 * and decodes back unchanged. The same bytes are written every time.
 */
public final class DemoTokenizer {
    public static final int NUM_MERGES = 384;
    public static final int ENDOFTEXT_ID = 256 + NUM_MERGES;
    public static final int IM_START_ID = ENDOFTEXT_ID + 1;
    public static final int IM_END_ID = ENDOFTEXT_ID + 2;
    /** Number of ids the tokenizer can produce (byte tokens, merges, special tokens). */
    public static final int VOCAB_SIZE = ENDOFTEXT_ID + 3;

    public static final String ENDOFTEXT = "<|endoftext|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";

    /** ChatML as Qwen2 renders it: a default system turn, one block per message, then the assistant prompt. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Two-space indent and "\n" line ends on every platform, so the files are the same bytes everywhere. */
    private static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private DemoTokenizer() {
    }

    /** Learned once per JVM, on first use (the holder idiom); the list is never modified. */
    private static final class LearnedMerges {
        static final List<String[]> MERGES = List.copyOf(ByteLevelBpe.learnMerges(TrainingText.TEXT, NUM_MERGES));
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir} (created if needed). */
    public static void write(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(ModelConfigLoader.TOKENIZER), tokenizerJson(), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve(ModelConfigLoader.TOKENIZER_CONFIG), tokenizerConfigJson(),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LlmException("cannot write the demo tokenizer to " + dir + ": " + e.getMessage(), e);
        }
    }

    static String tokenizerJson() throws JsonProcessingException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {ENDOFTEXT, IM_START, IM_END};
        for (int i = 0; i < specials.length; i++) {
            added.addObject().put("id", ENDOFTEXT_ID + i).put("content", specials[i]).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(false, true));
        root.set("post_processor", byteLevel(false, false));
        root.set("decoder", byteLevel(true, true));

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        char[] alphabet = ByteLevelBpe.byteToUnicode();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(alphabet[b]), b);
        }
        List<String[]> merges = LearnedMerges.MERGES;
        ArrayNode mergeList = model.putArray("merges");
        for (int i = 0; i < merges.size(); i++) {
            String[] pair = merges.get(i);
            vocab.put(pair[0] + pair[1], 256 + i);
            // the "left right" string form is read by every tokenizers version (the [left, right] form only by >= 0.20)
            mergeList.add(pair[0] + " " + pair[1]);
        }
        return PRETTY.writeValueAsString(root) + "\n";
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", addPrefixSpace);
        node.put("trim_offsets", trimOffsets);
        node.put("use_regex", true);
        return node;
    }

    static String tokenizerConfigJson() throws JsonProcessingException {
        ObjectNode root = JSON.createObjectNode();
        root.put("add_bos_token", false);
        root.put("add_prefix_space", false);
        ObjectNode decoder = root.putObject("added_tokens_decoder");
        String[] specials = {ENDOFTEXT, IM_START, IM_END};
        for (int i = 0; i < specials.length; i++) {
            decoder.putObject(String.valueOf(ENDOFTEXT_ID + i)).put("content", specials[i]).put("lstrip", false)
                    .put("normalized", false).put("rstrip", false).put("single_word", false).put("special", true);
        }
        root.putArray("additional_special_tokens").add(IM_START).add(IM_END);
        root.putNull("bos_token");
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("clean_up_tokenization_spaces", false);
        root.put("eos_token", IM_END);
        root.put("errors", "replace");
        root.put("model_max_length", 32768);
        root.put("pad_token", ENDOFTEXT);
        root.put("split_special_tokens", false);
        root.put("tokenizer_class", "Qwen2Tokenizer");
        root.putNull("unk_token");
        return PRETTY.writeValueAsString(root) + "\n";
    }
}
