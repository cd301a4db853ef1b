package dev.ember.sampling;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhiloxTest {

    /** Random123's kat_vectors for philox4x32 with 10 rounds. */
    @Test
    void matchesPublishedKnownAnswers() {
        assertArrayEquals(words(0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8),
                Philox.philox4x32(words(0, 0, 0, 0), words(0, 0)));
        assertArrayEquals(words(0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd),
                Philox.philox4x32(words(-1, -1, -1, -1), words(-1, -1)));
        assertArrayEquals(words(0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1),
                Philox.philox4x32(words(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), words(0xa4093822, 0x299f31d0)));
    }

    /** Entry i takes word i &amp; 3 of the block of counter (i / 4, outputIndex, 0, 0): four entries a generator call. */
    @Test
    void uniformFollowsTheDocumentedStream() {
        long seed = 0x1234_5678_9abc_def0L;
        int[] block = Philox.philox4x32(words(19, 5, 0, 0), words(0x9abcdef0, 0x12345678));
        Philox.Row row = new Philox.Row(seed, 5);
        for (int i = 76; i < 80; i++) {
            float expected = ((block[i - 76] >>> 9) + 0.5f) * 0x1.0p-23f;
            assertEquals(expected, Philox.uniform(seed, 5, i), "entry " + i);
            assertEquals(expected, row.uniform(i), "entry " + i + " through a Row");
        }
        // a Row keeps one block: going back to an earlier one draws it again
        int[] first = Philox.philox4x32(words(0, 5, 0, 0), words(0x9abcdef0, 0x12345678));
        assertEquals(((first[2] >>> 9) + 0.5f) * 0x1.0p-23f, row.uniform(2));
        assertEquals(Philox.uniform(seed, 5, 79), row.uniform(79));
    }

    @Test
    void uniformIsStrictlyInsideTheUnitIntervalAndDependsOnEveryInput() {
        double sum = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            float u = Philox.uniform(42, 3, i);
            assertTrue(u > 0 && u < 1, "u=" + u);
            sum += u;
        }
        assertEquals(0.5, sum / n, 0.01);
        assertNotEquals(Philox.uniform(42, 3, 7), Philox.uniform(43, 3, 7));
        assertNotEquals(Philox.uniform(42, 3, 7), Philox.uniform(42, 4, 7));
        assertNotEquals(Philox.uniform(42, 3, 7), Philox.uniform(42, 3, 8));
        assertNotEquals(Philox.uniform(42, 3, 7), Philox.uniform(42L | (1L << 40), 3, 7));
    }

    /**
     * Every word the generator can give: u strictly inside (0, 1), so -log(-log(u)), the Gumbel noise of the draw, is
     * finite. (With 24 bits the top word gave u = 1 and an infinite key: that token won whatever its probability.)
     */
    @Test
    void everyWordGivesADistinctUniformInsideTheUnitIntervalAndAFiniteGumbelKey() {
        float previous = 0f;
        for (int k = 0; k < (1 << 23); k++) {
            float u = Philox.uniformOf(k << 9);
            assertTrue(u > previous && u < 1f, "word " + (k << 9) + ": u = " + u + " after " + previous);
            assertEquals(u, Philox.uniformOf((k << 9) | 0x1ff), "the low 9 bits are not used");
            previous = u;
        }
        float top = Philox.uniformOf(0xffffffff);
        assertEquals(1f - 0x1p-24f, top);
        float gumbel = -FloatMath.log(-FloatMath.log(top));
        assertTrue(Float.isFinite(gumbel) && gumbel < 16.7f, "largest Gumbel noise " + gumbel);
        assertEquals(0x1p-24f, Philox.uniformOf(0));
    }

    private static int[] words(int... w) {
        return w;
    }
}
