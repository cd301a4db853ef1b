package dev.ember.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.ModelFormatException;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The special tokens a text prompt gets before and after its own tokens when tokenizer_config.json sets
 * {@code add_bos_token} or {@code add_eos_token}. transformers 5 then replaces tokenizer.json's post-processor by
 * "[bos] $A [eos]" (TokenizersBackend.update_post_processor), so a flag decides for its token whatever tokenizer.json
 * says; DJL reads tokenizer.json only, which kept a BOS the config turned off and missed one it turned on. A flag the
 * config leaves out keeps what tokenizer.json's post-processor does for that token (transformers' defaults for a
 * missing flag depend on the tokenizer class: LlamaTokenizer adds BOS, the generic backend does not; the file is the
 * better guide). Immutable.
 */
final class SpecialTokenAffixes {
    private final int[] prefix;
    private final int[] suffix;

    private SpecialTokenAffixes(int[] prefix, int[] suffix) {
        this.prefix = prefix;
        this.suffix = suffix;
    }

    /** The affixes of this config, or null when it sets neither flag (tokenizer.json's post-processor decides). */
    static SpecialTokenAffixes of(HuggingFaceTokenizer hf, JsonNode config, Path configFile) {
        if (config == null || !(config.has("add_bos_token") || config.has("add_eos_token"))) {
            return null;
        }
        // what the post-processor adds around a neutral text
        long[] with = hf.encode("a", true, false).getIds();
        long[] without = hf.encode("a", false, false).getIds();
        int at = indexOf(with, without);
        int[] prefix = at < 0 ? new int[0] : toInts(Arrays.copyOfRange(with, 0, at));
        int[] suffix = at < 0 ? new int[0] : toInts(Arrays.copyOfRange(with, at + without.length, with.length));
        if (config.has("add_bos_token")) {
            prefix = tokenIf(hf, config, configFile, "add_bos_token", "bos_token");
        }
        if (config.has("add_eos_token")) {
            suffix = tokenIf(hf, config, configFile, "add_eos_token", "eos_token");
        }
        return new SpecialTokenAffixes(prefix, suffix);
    }

    int[] wrap(int[] ids) {
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }

    /** The token's id when the flag is true and the token is set (transformers adds nothing for an unset token). */
    private static int[] tokenIf(HuggingFaceTokenizer hf, JsonNode config, Path file, String flag, String tokenKey) {
        JsonNode value = config.get(flag);
        if (value.isNull()) {
            return new int[0];
        }
        if (!value.isBoolean()) {
            throw new ModelFormatException(flag + " in " + file + " is " + value + "; expected true or false");
        }
        String token = ChatFormatter.tokenText(config.get(tokenKey));
        if (!value.asBoolean() || token == null) {
            return new int[0];
        }
        long[] ids = hf.encode(token, false, false).getIds();
        if (ids.length != 1) {
            throw new ModelFormatException(tokenKey + " '" + token + "' in " + file + " is " + ids.length
                    + " tokens of tokenizer.json, not one; " + flag + " needs it as a single token");
        }
        return new int[] {Math.toIntExact(ids[0])};
    }

    private static int indexOf(long[] haystack, long[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    /** DJL's token ids as ints (a vocabulary fits an int). */
    static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }
}
