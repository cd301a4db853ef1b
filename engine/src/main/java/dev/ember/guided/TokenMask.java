package dev.ember.guided;

/**
 * The tokens one constraint state allows, as a packed bitmask: bit {@code t & 63} of {@code bits[t >>> 6]} is set
 * when token {@code t} may be sampled. The array is shared and must not be modified.
 *
 * @param bits    ceil(vocab / 64) words over the model's vocabulary (logits) size
 * @param endOnly only end-of-sequence ids are allowed (the output is complete): min_tokens does not apply
 */
public record TokenMask(long[] bits, boolean endOnly) {
    public boolean allows(int token) {
        return token >= 0 && (token >>> 6) < bits.length && (bits[token >>> 6] & (1L << token)) != 0;
    }
}
