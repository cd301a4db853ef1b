package dev.ember.backend.cuda;

import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * Lays out a step's prefill tiles so the GPU starts the longest first. A tile is (sequence, first query token, query
 * tokens) and its work is the keys it attends to: causal, up to its last query token. The GPU starts a grid's blocks
 * roughly in order, and the prefill kernels take the tiles from the end of the array (block i runs tile
 * numTiles - 1 - i, which for one sequence in token order already starts its longest tile first). With several
 * sequences that reversal still ends on a sequence's short tiles only by luck: sorting every tile of the step by key
 * count is list scheduling's remedy (LPT) across sequences too. So the array is written shortest first, ties in
 * reverse token order, for the kernels to run it from the end. The order changes no output (a tile writes only its
 * own rows), only when each tile runs. Owns scratch arrays for {@code maxTiles} tiles; not thread-safe.
 */
final class PrefillTileOrder {
    private final long[] keys;
    private final int[] seq;
    private final int[] first;
    private final int[] count;

    PrefillTileOrder(int maxTiles) {
        keys = new long[maxTiles];
        seq = new int[maxTiles];
        first = new int[maxTiles];
        count = new int[maxTiles];
    }

    /**
     * Writes the tiles of sequences {@code fromSeq} to {@code numSeqs - 1} ({@code tileTokens} query tokens each, the
     * last of a sequence shorter) into {@code out} at {@code offset}, as (sequence, first token, tokens) triples,
     * fewest keys first, ties in reverse token order: read from the end, longest first, ties in token order.
     *
     * @param queryStart  (numSeqs + 1) prefix sums of the sequences' new tokens
     * @param contextLens (numSeqs) keys of each sequence once the step's tokens are in the cache
     * @return the number of tiles written
     */
    int write(int[] queryStart, int[] contextLens, int fromSeq, int numSeqs, int tileTokens, IntBuffer out, int offset) {
        int n = 0;
        for (int i = fromSeq; i < numSeqs; i++) {
            int end = queryStart[i + 1];
            for (int q = queryStart[i]; q < end; q += tileTokens) {
                if (n == keys.length) {
                    throw new IllegalArgumentException("more than " + keys.length + " prefill tiles in one step");
                }
                int tokens = Math.min(tileTokens, end - q);
                int keysSeen = contextLens[i] - (end - (q + tokens));  // the tile's last query token attends to these
                seq[n] = i;
                first[n] = q;
                count[n] = tokens;
                // ascending sort of (keys, -index): the fewest keys first, equal ones in reverse token order
                keys[n] = ((long) keysSeen << 32) | (Integer.MAX_VALUE - n);
                n++;
            }
        }
        Arrays.sort(keys, 0, n);
        for (int k = 0; k < n; k++) {
            int t = Integer.MAX_VALUE - (int) keys[k];
            int base = offset + 3 * k;
            out.put(base, seq[t]);
            out.put(base + 1, first[t]);
            out.put(base + 2, count[t]);
        }
        return n;
    }
}
