package dev.ember.sampling;

/**
 * Philox4x32-10, the counter-based generator of Salmon et al. ("Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011), as in Random123: four 32-bit counter words, two 32-bit key words, ten rounds with multipliers
 * {@code 0xD2511F53}, {@code 0xCD9E8D57} and key increments {@code 0x9E3779B9}, {@code 0xBB67AE85}.
 *
 * <p><b>Ember's sampling stream</b> (the CUDA sampler implements exactly this, so both backends draw the same
 * numbers): for a request with 64-bit {@code seed}, the uniform used for vocabulary entry {@code vocabIndex} when
 * sampling the request's {@code outputIndex}-th generated token is
 * <pre>
 *   key     = (k0, k1)         = ((int) seed, (int) (seed >>> 32))
 *   counter = (c0, c1, c2, c3) = (vocabIndex >>> 2, outputIndex, 0, 0)
 *   (x0, x1, x2, x3) = philox4x32_10(counter, key)
 *   x = x[vocabIndex &amp; 3]
 *   u = ((x >>> 9) + 0.5f) * 2^-23         // float, exact: strictly inside (0, 1), in [2^-24, 1 - 2^-24]
 * </pre>
 * One generator call serves four consecutive vocabulary entries (until 2026-12-06 each entry had its own call and
 * used only x0: the ten rounds' multiplications were most of a sampling kernel's work).
 * Twenty-three bits, not twenty-four: {@code k + 0.5} is a float for every {@code k < 2^23}, while the top value of
 * 24 bits, {@code 2^24 - 0.5}, is not and rounded to {@code 2^24}, giving {@code u = 1}, a Gumbel key of
 * {@code +inf} and a token drawn regardless of its probability (once in 2^24 draws, about one sampled token in a
 * hundred over a 150k vocabulary; the stream used 24 bits until 2026-12-06).
 * Every draw is a pure function of (seed, outputIndex, vocabIndex), so a request's
 * tokens do not depend on which other requests shared its batch.
 *
 * <p>Stateless and thread-safe (static methods), but for a {@link Row}, which one caller walks alone.
 */
public final class Philox {
    static final int M0 = 0xD2511F53;
    static final int M1 = 0xCD9E8D57;
    static final int W0 = 0x9E3779B9;
    static final int W1 = 0xBB67AE85;
    private static final long MASK32 = 0xffffffffL;
    private static final float TWO_POW_MINUS_23 = 0x1.0p-23f;

    private Philox() {
    }

    /**
     * The raw generator: ten rounds over a 4-word counter under a 2-word key.
     *
     * @param counter four 32-bit words (c0..c3)
     * @param key     two 32-bit words (k0, k1)
     * @return the four output words (x0..x3)
     */
    public static int[] philox4x32(int[] counter, int[] key) {
        if (counter.length != 4 || key.length != 2) {
            throw new IllegalArgumentException("Philox4x32 needs a counter of 4 words and a key of 2 words; got "
                    + counter.length + " and " + key.length);
        }
        int[] out = new int[4];
        rounds(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
        return out;
    }

    /** The ten rounds: writes the output words (x0..x3) of counter (c0..c3) under key (k0, k1) into {@code out}. */
    private static void rounds(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & MASK32) * (c0 & MASK32);
            long p1 = (M1 & MASK32) * (c2 & MASK32);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c0 = n0;
            c1 = (int) p1;
            c2 = n2;
            c3 = (int) p0;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * The uniform in (0, 1) of Ember's sampling stream (see the class comment) for one vocabulary entry.
     *
     * @param seed        the request's effective seed
     * @param outputIndex index of the token being sampled among the request's generated tokens (0 for the first)
     * @param vocabIndex  the vocabulary entry
     */
    public static float uniform(long seed, int outputIndex, int vocabIndex) {
        return new Row(seed, outputIndex).uniform(vocabIndex);
    }

    /**
     * The draws of one sampled token ({@code seed}, {@code outputIndex}) for any vocabulary entries, keeping the last
     * generator block: entries visited in order cost one generator call per four. Not thread-safe.
     */
    static final class Row {
        private final int k0;
        private final int k1;
        private final int outputIndex;
        private final int[] words = new int[4];
        private int block = -1;

        Row(long seed, int outputIndex) {
            this.k0 = (int) seed;
            this.k1 = (int) (seed >>> 32);
            this.outputIndex = outputIndex;
        }

        /** {@link Philox#uniform} of this row's seed and output index for entry {@code vocabIndex}. */
        float uniform(int vocabIndex) {
            int b = vocabIndex >>> 2;
            if (b != block) {
                rounds(b, outputIndex, 0, 0, k0, k1, words);
                block = b;
            }
            return uniformOf(words[vocabIndex & 3]);
        }
    }

    /** The uniform of one generator word: its top 23 bits, centred in their cell of the 2^-23 grid. */
    static float uniformOf(int x0) {
        return ((x0 >>> 9) + 0.5f) * TWO_POW_MINUS_23;
    }
}
