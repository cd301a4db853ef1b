package dev.ember.engine;

import dev.ember.LlmException;
import dev.ember.api.Request;
import dev.ember.tokenizer.Tokenizer;

/**
 * Turns a request into prompt token ids on the caller's thread (so tokenization runs in parallel with the step
 * loop), or into the reason the request cannot run. Stateless apart from its immutable settings; thread-safe.
 */
final class PromptPreparer {
    private final Tokenizer tokenizer;
    private final int vocabSize;
    private final int maxModelLen;
    private final int kvCapacityTokens;
    private final long jobSeed;

    PromptPreparer(Tokenizer tokenizer, int vocabSize, int maxModelLen, int kvCapacityTokens, long jobSeed) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.maxModelLen = maxModelLen;
        this.kvCapacityTokens = kvCapacityTokens;
        this.jobSeed = jobSeed;
    }

    /**
     * The prompt's tokens; throws {@link BadRequest} with a message for the request's error column (also for stop
     * token ids outside the vocabulary).
     */
    int[] tokens(Request r) {
        for (int id : r.params().stopTokenIds()) {
            if (id >= vocabSize) {
                // it could never be drawn: an option with no effect is refused where it is given
                throw new BadRequest("stop_token_ids holds " + id + ", outside the vocabulary [0, " + vocabSize
                        + "): it could never be generated");
            }
        }
        int[] ids;
        if (r.promptTokenIds() != null) {
            ids = r.promptTokenIds();
            for (int id : ids) {
                if (id < 0 || id >= vocabSize) {
                    throw new BadRequest("prompt token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
                }
            }
        } else if (r.messages() != null) {
            if (r.messages().isEmpty()) {
                throw new BadRequest("messages is empty; a chat request needs at least one message");
            }
            String rendered;
            try {
                rendered = tokenizer.applyChatTemplate(r.messages(), true);
            } catch (LlmException e) {
                throw new BadRequest("chat template failed: " + e.getMessage());
            }
            ids = encode(rendered, false);
        } else {
            if (r.prompt() == null) {
                throw new BadRequest("prompt is null");
            }
            if (r.prompt().isEmpty()) {
                throw new BadRequest("prompt is empty");
            }
            ids = encode(r.prompt(), true);
        }
        if (ids.length == 0) {
            throw new BadRequest("prompt has no tokens");
        }
        if (ids.length >= maxModelLen) {
            throw new BadRequest("prompt has " + ids.length + " tokens; the model's context (max_model_len) is "
                    + maxModelLen + ", which must leave room for at least one generated token");
        }
        if (ids.length >= kvCapacityTokens) {
            throw new BadRequest("prompt has " + ids.length + " tokens but the whole KV cache holds " + kvCapacityTokens
                    + "; raise num_kv_blocks / cpu_kv_cache_mb / gpu_memory_utilization");
        }
        return ids;
    }

    private int[] encode(String text, boolean addSpecialTokens) {
        try {
            return tokenizer.encode(text, addSpecialTokens);
        } catch (LlmException e) {
            throw new BadRequest(e.getMessage());
        }
    }

    /** The request's seed, or one derived from the job seed and the prompt so retries reproduce the same rows. */
    long seed(Request r, int[] promptTokens) {
        if (r.params().seed() != null) {
            return r.params().seed();
        }
        long h = jobSeed ^ 0x9E3779B97F4A7C15L;
        for (int t : promptTokens) {
            h = mix(h ^ t);
        }
        return mix(h ^ promptTokens.length);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A request that cannot run; its message goes into the result's error column. */
    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
