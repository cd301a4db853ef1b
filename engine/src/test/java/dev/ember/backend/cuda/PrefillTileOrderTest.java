package dev.ember.backend.cuda;

import org.junit.jupiter.api.Test;

import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrefillTileOrderTest {
    /** Two decode rows, then a new prompt of 50 tokens, a chunk of 30 after 100 cached, one of 7 after 400. */
    private static final int[] QUERY_START = {0, 1, 2, 52, 82, 89};
    private static final int[] CONTEXT_LENS = {17, 300, 50, 130, 407};
    private static final int TILE = 16;
    private static final int OFFSET = 5;

    /** The tiles in token order, as StepInputs laid them out before (the reference the order must permute). */
    private static List<int[]> tokenOrder(int fromSeq) {
        List<int[]> tiles = new ArrayList<>();
        for (int i = fromSeq; i < QUERY_START.length - 1; i++) {
            for (int q = QUERY_START[i]; q < QUERY_START[i + 1]; q += TILE) {
                tiles.add(new int[] {i, q, Math.min(TILE, QUERY_START[i + 1] - q)});
            }
        }
        return tiles;
    }

    private static int keysSeen(int[] tile) {
        int end = QUERY_START[tile[0] + 1];
        return CONTEXT_LENS[tile[0]] - (end - (tile[1] + tile[2]));
    }

    private static List<int[]> written(int fromSeq) {
        IntBuffer out = IntBuffer.allocate(OFFSET + 3 * 64);
        int n = new PrefillTileOrder(64).write(QUERY_START, CONTEXT_LENS, fromSeq, QUERY_START.length - 1, TILE, out,
                OFFSET);
        List<int[]> tiles = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            tiles.add(new int[] {out.get(OFFSET + 3 * k), out.get(OFFSET + 3 * k + 1), out.get(OFFSET + 3 * k + 2)});
        }
        for (int k = 0; k < OFFSET; k++) {
            assertEquals(0, out.get(k), "wrote before its offset");
        }
        return tiles;
    }

    /** The kernels run the array from its end (block i takes tile numTiles - 1 - i): read that way, longest first. */
    @Test
    void readFromTheEndTheTilesAreTheTokenOrderTilesLongestFirst() {
        List<int[]> got = written(2);
        Collections.reverse(got);
        List<int[]> expected = tokenOrder(2);
        // keys seen: prompt 16, 32, 48, 50; chunk 116, 130 (after 100 cached: tokens 100..129); chunk 407
        expected.sort(Comparator.comparingInt(PrefillTileOrderTest::keysSeen).reversed());  // stable: ties in token order
        assertEquals(expected.size(), got.size());
        for (int k = 0; k < got.size(); k++) {
            assertArrayEquals(expected.get(k), got.get(k), "tile " + k + " from the end");
        }
        assertArrayEquals(new int[] {4, 82, 7}, got.get(0), "the chunk after 400 cached tokens has the most keys");
        assertArrayEquals(new int[] {2, 2, 16}, got.get(got.size() - 1), "the prompt's first tile has the fewest");
    }

    /** The keys of a tile are those its last token sees: a short last tile can outrank another sequence's full one. */
    @Test
    void aTileIsRankedByTheKeysOfItsLastToken() {
        int[] queryStart = {0, 21, 37};
        int[] contextLens = {21, 26};  // sequence 1: 16 new tokens after 10 cached
        IntBuffer out = IntBuffer.allocate(9);
        assertEquals(3, new PrefillTileOrder(4).write(queryStart, contextLens, 0, 2, TILE, out, 0));
        // from the end: (1, 21, 16) sees 26 keys, (0, 16, 5) 21, (0, 0, 16) 16; by first tokens it would be 10, 16, 0
        assertArrayEquals(new int[] {0, 0, 16, 0, 16, 5, 1, 21, 16}, out.array());
    }

    @Test
    void tiesKeepTokenOrderFromTheEnd() {
        int[] queryStart = {0, 16, 32};
        int[] contextLens = {16, 16};  // two prompts of one tile each: the same keys
        IntBuffer out = IntBuffer.allocate(6);
        assertEquals(2, new PrefillTileOrder(4).write(queryStart, contextLens, 0, 2, TILE, out, 0));
        assertArrayEquals(new int[] {1, 16, 16, 0, 0, 16}, out.array(), "sequence 0's tile last, so it starts first");
    }

    @Test
    void everyQueryTokenOfThePrefillSequencesIsInExactlyOneTile() {
        for (int from = 0; from <= 2; from++) {
            int[] covered = new int[QUERY_START[QUERY_START.length - 1]];
            for (int[] tile : written(from)) {
                assertTrue(tile[2] >= 1 && tile[2] <= TILE, "tile size " + tile[2]);
                assertTrue(tile[1] >= QUERY_START[tile[0]] && tile[1] + tile[2] <= QUERY_START[tile[0] + 1],
                        "tile " + Arrays.toString(tile) + " leaves its sequence");
                for (int t = tile[1]; t < tile[1] + tile[2]; t++) {
                    covered[t]++;
                }
            }
            for (int t = 0; t < covered.length; t++) {
                assertEquals(t >= QUERY_START[from] ? 1 : 0, covered[t], "token " + t + " from sequence " + from);
            }
        }
    }

    @Test
    void moreTilesThanTheCapacityFailNamingIt() {
        IntBuffer out = IntBuffer.allocate(64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new PrefillTileOrder(3).write(QUERY_START, CONTEXT_LENS, 2, QUERY_START.length - 1, TILE, out, 0));
        assertTrue(e.getMessage().contains("more than 3 prefill tiles"), e.getMessage());
    }
}
