package dev.ember.scheduler;

/**
 * A deterministic stand-in for a language model: the next token is a hash of every (token, position) pair of
 * the context, of the sampling seed and of the output index. Any change in what a sequence "sees" — a token read
 * from the wrong KV slot, a wrong position, a missing or extra context token — changes the token it produces.
 */
final class FakeModel {
    static final int VOCAB = 64;

    private long h;

    FakeModel(long seed, int outputIndex) {
        h = mix(seed ^ 0x243F6A8885A308D3L) + outputIndex;
    }

    void feed(int token, int position) {
        h = mix(h ^ mix(((long) token << 32) ^ (position * 0x9E3779B97F4A7C15L)));
    }

    int token() {
        return (int) Math.floorMod(mix(h), (long) VOCAB);
    }

    /** The token after {@code context[0, length)} with positions 0..length-1. */
    static int next(long seed, int outputIndex, int[] context, int length) {
        FakeModel m = new FakeModel(seed, outputIndex);
        for (int p = 0; p < length; p++) {
            m.feed(context[p], p);
        }
        return m.token();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}
