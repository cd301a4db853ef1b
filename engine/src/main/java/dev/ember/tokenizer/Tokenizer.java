package dev.ember.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ConfigException;
import dev.ember.LlmException;
import dev.ember.ModelFormatException;
import dev.ember.api.ChatMessage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's tokenizer: Hugging Face {@code tokenizer.json} through DJL's binding of the Rust tokenizers
 * (no truncation, no padding; added and special tokens respected) and the chat template of
 * {@code tokenizer_config.json}. Thread-safe: encode and decode may be called from many threads.
 * Owns the native tokenizer; {@link #close()} is idempotent.
 */
public final class Tokenizer implements AutoCloseable {
    private static final String CONFIG_FILE = "tokenizer_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer hf;
    private final ChatFormatter chat;
    /** Null when tokenizer.json's post-processor decides which special tokens a text gets. */
    private final SpecialTokenAffixes affixes;
    private final Path file;
    private volatile boolean closed;

    private Tokenizer(HuggingFaceTokenizer hf, ChatFormatter chat, SpecialTokenAffixes affixes, Path file) {
        this.hf = hf;
        this.chat = chat;
        this.affixes = affixes;
        this.file = file;
    }

    /** Loads {@code dir/tokenizer.json} and, when present, the chat template of {@code dir/tokenizer_config.json}. */
    public static Tokenizer load(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("tokenizer.json not found in " + dir
                    + "; Ember needs the Hugging Face fast-tokenizer file beside the weights");
        }
        preferBundledNativeLibrary();
        Path configFile = dir.resolve(CONFIG_FILE);
        JsonNode config = readConfig(dir);
        ChatFormatter chat = ChatFormatter.load(dir, config);
        Map<String, String> options = new LinkedHashMap<>();
        options.put("addSpecialTokens", "true");
        options.put("truncation", "false");
        options.put("padding", "false");
        options.put("modelMaxLength", String.valueOf(Integer.MAX_VALUE));
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(file, options);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
        try {
            return new Tokenizer(hf, chat, SpecialTokenAffixes.of(hf, config, configFile), file);
        } catch (RuntimeException e) {
            hf.close();
            throw e;
        }
    }

    /**
     * DJL picks a CUDA build of its tokenizer library when it sees a GPU and downloads it, which fails on hosts
     * without network (GPU executors usually are). The CPU build inside the jar does the same work, so use it unless
     * the user chose a flavor ({@code RUST_FLAVOR} environment variable or system property). DJL's telemetry is
     * opted out the same way.
     */
    private static void preferBundledNativeLibrary() {
        setUnlessSet("RUST_FLAVOR", "cpu");
        // DJL's tokenizer factory "calls home" on every creation: on EC2 or SageMaker it reads the instance's metadata
        // and requests a telemetry URL with the instance id (ai.djl.util.Ec2Utils.callHome). Ember sends nothing of
        // its own and opts out, unless the user decided (OPT_OUT_TRACKING environment variable or system property)
        setUnlessSet("OPT_OUT_TRACKING", "true");
    }

    private static void setUnlessSet(String name, String value) {
        if (System.getenv(name) == null && System.getProperty(name) == null) {
            System.setProperty(name, value);
        }
    }

    /**
     * Token ids of {@code text}; {@code addSpecialTokens} adds what transformers' tokenizer adds (e.g. BOS): the
     * post-processor of tokenizer.json, or the tokens tokenizer_config.json's add_bos_token / add_eos_token ask for.
     * Special tokens written in the text (say "&lt;|im_end|&gt;") become their single ids, as transformers encodes them
     * by default (split_special_tokens=False).
     *
     * @throws LlmException naming the tokenizer file when the tokenizer cannot encode the text
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding e;
        try {
            e = hf.encode(text, addSpecialTokens && affixes == null, false);
        } catch (RuntimeException ex) {
            // e.g. a Unigram model without unk_id meeting a character it lacks: this text's fault, not the engine's
            throw new LlmException("the tokenizer " + file + " cannot encode this text: " + ex.getMessage(), ex);
        }
        int[] out = SpecialTokenAffixes.toInts(e.getIds());
        return addSpecialTokens && affixes != null ? affixes.wrap(out) : out;
    }

    /** Text of {@code ids} with special tokens skipped. */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return hf.decode(l, true);
    }

    public boolean hasChatTemplate() {
        return chat != null;
    }

    /** The conversation rendered by the model's chat template, with the generation prompt added. */
    public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (chat == null) {
            throw new ConfigException("the model has no chat template (chat_template.jinja, or chat_template in"
                    + " tokenizer_config.json); send plain prompts instead of messages");
        }
        return chat.render(messages, addGenerationPrompt);
    }

    public IncrementalDetokenizer newDetokenizer(int[] promptTokens) {
        return new IncrementalDetokenizer(this, promptTokens);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            hf.close();
        }
    }

    /** {@code dir}'s tokenizer_config.json, or null when there is none. */
    static JsonNode readConfig(Path dir) {
        Path file = dir.resolve(CONFIG_FILE);
        return Files.isRegularFile(file) ? readJson(file) : null;
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static List<Map<String, Object>> toMaps(List<ChatMessage> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            out.add(map);
        }
        return out;
    }
}
