package dev.ember.kv;

/**
 * The chained hash of one full KV block: a function of the previous block's hash and this block's tokens, so
 * equal hashes mean (up to collisions, which {@link BlockManager} checks for) equal whole prefixes.
 */
@FunctionalInterface
interface BlockHasher {

    /** Hash of the first block's parent. */
    long ROOT = 0x6A09E667F3BCC908L;

    long hash(long parentHash, int[] tokens, int from, int length);

    /** 64-bit: every token goes through a full avalanche mix (Stafford's variant 13 of the SplitMix64 finalizer). */
    BlockHasher STRONG = (parentHash, tokens, from, length) -> {
        long h = mix(parentHash ^ 0x9E3779B97F4A7C15L);
        for (int i = from; i < from + length; i++) {
            h = mix(h + (tokens[i] & 0xFFFFFFFFL) * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L);
        }
        return h;
    };

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
