package dev.ember.kv;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockManagerTest {

    private static int[] range(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }

    /** Allocates a table for all of {@code tokens} (sharing cached blocks), as the scheduler admits a sequence. */
    private static BlockTable admit(BlockManager bm, int[] tokens) {
        BlockTable table = new BlockTable();
        bm.allocate(table, bm.lookup(tokens, tokens.length), tokens.length);
        return table;
    }

    /** Admits and marks every token computed, so its full blocks enter the prefix cache. */
    private static BlockTable admitAndCompute(BlockManager bm, int[] tokens) {
        BlockTable table = admit(bm, tokens);
        bm.commit(table, tokens, tokens.length);
        return table;
    }

    @Test
    void allocatesDistinctBlocksAndFreesThemAll() {
        BlockManager bm = new BlockManager(10, 4, false);
        BlockTable a = admit(bm, range(1, 9)); // 3 blocks
        BlockTable b = admit(bm, range(1, 4)); // 1 block
        assertEquals(3, a.numBlocks());
        assertEquals(1, b.numBlocks());
        assertEquals(6, bm.numFreeBlocks());
        assertEquals(0.4, bm.usage(), 1e-12);
        Set<Integer> ids = new HashSet<>();
        for (BlockTable t : List.of(a, b)) {
            for (int i = 0; i < t.numBlocks(); i++) {
                assertTrue(ids.add(t.blockId(i)));
                assertEquals(1, bm.refCount(t.blockId(i)));
            }
        }
        bm.free(a);
        bm.free(b);
        assertEquals(10, bm.numFreeBlocks());
        assertEquals(0, a.numBlocks());
        for (int id : ids) {
            assertEquals(0, bm.refCount(id));
        }
        assertEquals(0.0, bm.usage());
    }

    @Test
    void asksBeforeActing() {
        BlockManager bm = new BlockManager(3, 4, false);
        int[] tokens = range(1, 13);
        PrefixHit hit = bm.lookup(tokens, 13);
        assertFalse(bm.canAllocate(hit, 13)); // 4 blocks
        assertThrows(IllegalStateException.class, () -> bm.allocate(new BlockTable(), hit, 13));
        assertEquals(3, bm.numFreeBlocks());
        BlockTable t = new BlockTable();
        assertTrue(bm.canAllocate(bm.lookup(tokens, 13), 5));
        bm.allocate(t, bm.lookup(tokens, 13), 5);
        assertEquals(2, t.numBlocks());
        assertTrue(bm.canAppend(t, 8));
        bm.append(t, 8); // fits in the blocks it has
        assertEquals(2, t.numBlocks());
        bm.append(t, 12);
        assertEquals(3, t.numBlocks());
        assertFalse(bm.canAppend(t, 13));
        assertThrows(IllegalStateException.class, () -> bm.append(t, 13));
        assertThrows(IllegalStateException.class, () -> bm.allocate(t, bm.lookup(tokens, 13), 1), "table not empty");
    }

    @Test
    void staleLookupIsRefused() {
        BlockManager bm = new BlockManager(4, 2, true);
        PrefixHit hit = bm.lookup(range(1, 4), 4);
        admit(bm, range(7, 2));
        assertThrows(IllegalStateException.class, () -> bm.canAllocate(hit, 4));
    }

    @Test
    void sharesCachedFullBlocksAndLeavesTheLastTokenToCompute() {
        BlockManager bm = new BlockManager(16, 4, true);
        int[] prompt = range(1, 10); // blocks [1..4] [5..8] and a partial [9, 10]
        BlockTable a = admitAndCompute(bm, prompt);
        assertEquals(2, bm.numCachedBlocks());

        PrefixHit same = bm.lookup(prompt, 10);
        assertEquals(2, same.numBlocks());
        assertEquals(a.blockId(0), same.blockId(0));
        assertEquals(a.blockId(1), same.blockId(1));
        BlockTable b = new BlockTable();
        bm.allocate(b, same, 10);
        assertEquals(2, bm.refCount(a.blockId(0)));
        assertEquals(2, bm.refCount(a.blockId(1)));
        assertNotEquals(a.blockId(2), b.blockId(2), "the partial block is never shared");
        assertEquals(1, bm.refCount(b.blockId(2)));
        assertEquals(2, bm.hitBlocks());

        // A prompt of exactly two full blocks, both cached: the last one is a miss so its last token is computed.
        PrefixHit eight = bm.lookup(prompt, 8);
        assertEquals(1, eight.numBlocks());
        assertEquals(1, eight.numQueriedBlocks());
        // A different second block: only the first block hits.
        int[] other = prompt.clone();
        other[5] = 99;
        assertEquals(1, bm.lookup(other, 10).numBlocks());
        // A different first block: nothing hits, even though the second block's tokens match.
        other = prompt.clone();
        other[0] = 99;
        assertEquals(0, bm.lookup(other, 10).numBlocks());

        bm.free(a);
        assertEquals(1, bm.refCount(b.blockId(0)), "still held by b");
        bm.free(b);
        assertEquals(16, bm.numFreeBlocks());
        assertEquals(2, bm.numCachedBlocks(), "freed blocks stay cached");
        BlockTable c = admit(bm, prompt);
        assertEquals(4, bm.hitBlocks());
        assertEquals(13, bm.numFreeBlocks(), "two cached blocks left the free queue, one fresh block taken");
        assertEquals(1, bm.refCount(c.blockId(0)));
    }

    @Test
    void outputTokensEnterTheCacheOnceComputed() {
        BlockManager bm = new BlockManager(8, 4, true);
        int[] tokens = range(1, 12); // a 6-token prompt and 6 outputs
        BlockTable t = new BlockTable();
        bm.allocate(t, bm.lookup(tokens, 6), 6);
        bm.commit(t, tokens, 6);
        assertEquals(1, bm.numCachedBlocks());
        bm.append(t, 9);
        bm.commit(t, tokens, 7); // block 1 not yet full of computed tokens
        assertEquals(1, bm.numCachedBlocks());
        bm.commit(t, tokens, 8);
        assertEquals(2, bm.numCachedBlocks());
        bm.free(t);
        assertEquals(2, bm.lookup(tokens, 9).numBlocks(), "a recompute finds its own prompt and output blocks");
    }

    @Test
    void reusesFreedBlocksLeastRecentlyFreedFirstAndUncachedOnesBeforeThat() {
        BlockManager bm = new BlockManager(6, 2, true);
        int[] a = {1, 2, 3, 4, 5};   // 2 full blocks + 1 partial
        int[] b = {6, 7, 8, 9, 10};
        BlockTable ta = admitAndCompute(bm, a);
        BlockTable tb = admitAndCompute(bm, b);
        int aFirst = ta.blockId(0);
        int aSecond = ta.blockId(1);
        int aPartial = ta.blockId(2);
        int bFirst = tb.blockId(0);
        int bPartial = tb.blockId(2);
        bm.free(ta); // a freed before b: a's cache is older
        bm.free(tb);
        assertEquals(4, bm.numCachedBlocks());

        // The two uncached partial blocks go first, then a's blocks, last block first.
        BlockTable x = new BlockTable();
        bm.allocate(x, bm.lookup(range(50, 6), 6), 6);
        assertTrue(contains(x, bPartial));
        assertTrue(contains(x, aPartial));
        assertTrue(contains(x, aSecond));
        assertFalse(contains(x, aFirst), "a prompt's first block is evicted after its later ones");
        assertEquals(1, bm.evictedBlocks());
        assertEquals(1, bm.lookup(a, 5).numBlocks(), "a keeps its first block");
        assertEquals(2, bm.lookup(b, 5).numBlocks(), "b, freed later, is still cached whole");
        bm.free(x);

        // Reusing every block evicts the rest.
        BlockTable all = new BlockTable();
        bm.allocate(all, bm.lookup(range(100, 12), 12), 12);
        assertEquals(0, bm.numCachedBlocks());
        assertEquals(0, bm.lookup(b, 5).numBlocks());
        assertTrue(contains(all, bFirst));
    }

    private static boolean contains(BlockTable t, int block) {
        for (int i = 0; i < t.numBlocks(); i++) {
            if (t.blockId(i) == block) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aHashCollisionNeverSharesADifferentBlock() {
        BlockManager bm = new BlockManager(16, 2, true, (parent, tokens, from, length) -> 7L);
        BlockTable a = admitAndCompute(bm, new int[] {1, 2, 3});
        assertEquals(1, bm.numCachedBlocks());
        assertEquals(0, bm.lookup(new int[] {1, 9, 3}, 3).numBlocks(), "same hash, different tokens");
        assertEquals(1, bm.lookup(new int[] {1, 2, 3}, 3).numBlocks(), "the real match still hits");
        BlockTable b = admitAndCompute(bm, new int[] {1, 9, 3});
        assertNotEquals(a.blockId(0), b.blockId(0));
        assertEquals(1, bm.refCount(a.blockId(0)));
        assertEquals(0, bm.lookup(new int[] {1, 9, 3}, 3).numBlocks(), "the colliding block was not cached");
    }

    @Test
    void aBlockIsSharedOnlyAfterTheSamePrefix() {
        // The hash ignores the prefix, so block [5, 6] after [1, 2] and after [3, 4] hash alike.
        BlockManager bm = TestBlockManagers.withPrefixBlindHash(16, 2);
        BlockTable a = admitAndCompute(bm, new int[] {1, 2, 5, 6, 9});
        BlockTable c = admitAndCompute(bm, new int[] {3, 4, 9, 9, 9});
        int cFirst = c.blockId(0);
        bm.free(c);
        assertEquals(2, bm.lookup(new int[] {1, 2, 5, 6, 7}, 5).numBlocks());
        PrefixHit hit = bm.lookup(new int[] {3, 4, 5, 6, 7}, 5);
        assertEquals(1, hit.numBlocks(), "[3, 4] hits, but [5, 6] was computed after [1, 2]");
        assertEquals(cFirst, hit.blockId(0));
        // Computing it there is a collision: the sequence caches nothing further, and a's entry is kept.
        BlockTable d = new BlockTable();
        int[] dTokens = {3, 4, 5, 6, 7, 8, 1};
        bm.allocate(d, bm.lookup(dTokens, 7), 7);
        bm.commit(d, dTokens, 7);
        assertEquals(2, bm.lookup(new int[] {1, 2, 5, 6, 7}, 5).numBlocks());
        assertEquals(1, bm.lookup(dTokens, 7).numBlocks());
        bm.free(a);
        bm.free(d);
        assertEquals(16, bm.numFreeBlocks());
    }

    @Test
    void theSamePrefixComputedTwiceKeepsOneEntryOnAHeldBlock() {
        BlockManager bm = new BlockManager(16, 2, true);
        int[] tokens = {1, 2, 3, 4, 5};
        BlockTable a = admit(bm, tokens);
        BlockTable b = admit(bm, tokens); // both missed: nothing was computed yet
        assertEquals(0, bm.hitBlocks());
        bm.commit(a, tokens, 5);
        Set<Integer> aFull = Set.of(a.blockId(0), a.blockId(1));
        bm.free(a); // a's blocks are now free but cached
        bm.commit(b, tokens, 5); // b computed the same blocks: the entries move onto b's held blocks
        assertEquals(2, bm.numCachedBlocks());
        PrefixHit hit = bm.lookup(tokens, 5);
        assertEquals(2, hit.numBlocks());
        assertEquals(b.blockId(0), hit.blockId(0));
        assertEquals(b.blockId(1), hit.blockId(1));
        // a's old copies are plain free blocks now, reused before anything cached.
        BlockTable x = admit(bm, new int[] {9, 9, 9});
        assertEquals(aFull, Set.of(x.blockId(0), x.blockId(1)));
        assertEquals(0, bm.evictedBlocks());
        assertEquals(2, bm.lookup(tokens, 5).numBlocks());
    }

    @Test
    void prefixCachingOffNeverHits() {
        BlockManager bm = new BlockManager(8, 2, false);
        int[] tokens = {1, 2, 3, 4, 5};
        bm.free(admitAndCompute(bm, tokens));
        assertEquals(0, bm.lookup(tokens, 5).numBlocks());
        assertEquals(0, bm.numCachedBlocks());
        assertEquals(0, bm.hitBlocks());
        assertEquals(0, bm.missBlocks());
    }

    @Test
    void countsHitsAndMisses() {
        BlockManager bm = new BlockManager(16, 2, true);
        int[] tokens = {1, 2, 3, 4, 5, 6, 7};
        BlockTable a = admitAndCompute(bm, tokens);
        assertEquals(0, bm.hitBlocks());
        assertEquals(3, bm.missBlocks());
        BlockTable b = admit(bm, tokens);
        assertEquals(3, bm.hitBlocks());
        assertEquals(3, bm.missBlocks());
        assertArrayEquals(java.util.Arrays.copyOf(a.toArray(), 3), java.util.Arrays.copyOf(b.toArray(), 3));
    }

    @Test
    void freeQueueKeepsOrderAndRefusesDoubleFree() {
        FreeBlockQueue q = new FreeBlockQueue(4);
        q.remove(2);
        q.pushFirst(2);
        q.remove(0);
        q.pushLast(0);
        List<Integer> order = new ArrayList<>();
        while (q.size() > 0) {
            order.add(q.popFirst());
        }
        assertEquals(List.of(2, 1, 3, 0), order);
        assertThrows(IllegalStateException.class, q::popFirst);
        q.pushLast(1);
        assertThrows(IllegalStateException.class, () -> q.pushLast(1));
        assertThrows(IllegalStateException.class, () -> q.remove(3));
    }

    @Test
    void rejectsBadSizes() {
        assertThrows(IllegalArgumentException.class, () -> new BlockManager(0, 16, true));
        assertThrows(IllegalArgumentException.class, () -> new BlockManager(4, 0, true));
        assertThrows(IllegalArgumentException.class, () -> new BlockManager(1 << 20, 1 << 12, true));
    }
}
