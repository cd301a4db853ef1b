package dev.ember.kv;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Bookkeeping of the paged KV cache: which of {@code numBlocks} fixed-size blocks each sequence holds, their
 * reference counts, and the prefix cache. Holds no tensors; the backend owns the memory the ids point into.
 *
 * <p>Callers ask before they act: {@link #canAllocate}/{@link #allocate} give a waiting sequence its first
 * blocks (sharing cached prefix blocks from {@link #lookup}), {@link #canAppend}/{@link #append} grow a running
 * sequence, {@link #free} returns a sequence's blocks. An act whose question was answered "no" throws.
 *
 * <p>Prefix cache: once a block is full of computed tokens ({@link #commit}) it is registered under the chained
 * hash of its tokens and of every token before it. A later sequence with the same leading tokens shares it (ref
 * count + 1) instead of recomputing it. A hit is accepted only when the cached block's own tokens are equal and
 * its parent is the very cache entry matched for the previous block, so a 64-bit hash collision can cost a hit
 * but never returns another prefix's K/V. Freed blocks that are registered stay in the cache until they are
 * reused, least recently freed first; freed blocks with nothing cached are reused before them. Only full
 * blocks are shared, and only blocks that will not be written again: {@link #lookup} always leaves at least one
 * token for the sequence to compute, so new tokens go into blocks it owns alone.
 *
 * <p>Not thread-safe: the engine's step-loop thread only.
 */
public final class BlockManager {
    private final int numBlocks;
    private final int blockSize;
    private final boolean enablePrefixCaching;
    private final BlockHasher hasher;

    private final int[] refCounts;
    private final FreeBlockQueue freeBlocks;
    // Per block, while it is in the prefix cache (registration != 0): its chained hash, a unique id of this cache
    // entry, the entry id of its parent block (0 for a first block) and a copy of its tokens.
    private final long[] blockHash;
    private final long[] registration;
    private final long[] parentRegistration;
    private final int[][] blockTokens;
    private final Map<Long, Integer> cachedBlockByHash = new HashMap<>();
    private long nextRegistration = 1;
    private long version;

    private long hitBlocks;
    private long missBlocks;
    private long evictedBlocks;

    public BlockManager(int numBlocks, int blockSize, boolean enablePrefixCaching) {
        this(numBlocks, blockSize, enablePrefixCaching, BlockHasher.STRONG);
    }

    BlockManager(int numBlocks, int blockSize, boolean enablePrefixCaching, BlockHasher hasher) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("numBlocks is " + numBlocks + "; expected >= 1");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize is " + blockSize + "; expected >= 1");
        }
        if ((long) numBlocks * blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("numBlocks * blockSize is " + (long) numBlocks * blockSize
                    + "; KV slots are int indices, so at most " + Integer.MAX_VALUE);
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.enablePrefixCaching = enablePrefixCaching;
        this.hasher = hasher;
        this.refCounts = new int[numBlocks];
        this.freeBlocks = new FreeBlockQueue(numBlocks);
        this.blockHash = new long[numBlocks];
        this.registration = new long[numBlocks];
        this.parentRegistration = new long[numBlocks];
        this.blockTokens = new int[numBlocks][];
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int blockSize() {
        return blockSize;
    }

    public boolean prefixCachingEnabled() {
        return enablePrefixCaching;
    }

    /** Tokens the whole cache holds: the longest context any one sequence can ever have. */
    public int capacityTokens() {
        return numBlocks * blockSize;
    }

    /** Blocks needed to hold {@code numTokens} tokens. */
    public int numBlocksFor(int numTokens) {
        return (numTokens + blockSize - 1) / blockSize;
    }

    /** Blocks no sequence holds (some may still hold reusable prefix cache). */
    public int numFreeBlocks() {
        return freeBlocks.size();
    }

    /** Fraction of blocks held by sequences, 0..1. */
    public double usage() {
        return (double) (numBlocks - freeBlocks.size()) / numBlocks;
    }

    /** How many sequences hold the block. */
    public int refCount(int blockId) {
        return refCounts[blockId];
    }

    /** Blocks currently registered in the prefix cache (held or free). */
    public int numCachedBlocks() {
        return cachedBlockByHash.size();
    }

    /** Full blocks found in the prefix cache by allocations so far. */
    public long hitBlocks() {
        return hitBlocks;
    }

    /** Full blocks looked up by allocations so far and not found (with prefix caching on). */
    public long missBlocks() {
        return missBlocks;
    }

    /** Cached blocks dropped from the prefix cache because their block was reused. */
    public long evictedBlocks() {
        return evictedBlocks;
    }

    /**
     * Finds the cached blocks holding the leading full blocks of {@code tokens[0, numTokens)}. Stops at the first
     * miss and never covers the last token, so the caller always computes at least one token (the one whose
     * logits it samples from) into a block of its own. Changes nothing; empty when prefix caching is off.
     */
    public PrefixHit lookup(int[] tokens, int numTokens) {
        if (numTokens < 1 || numTokens > tokens.length) {
            throw new IllegalArgumentException("numTokens is " + numTokens + "; expected 1.." + tokens.length);
        }
        if (!enablePrefixCaching) {
            return new PrefixHit(new int[0], 0, version, 0, 0);
        }
        int maxBlocks = (numTokens - 1) / blockSize;
        int[] hits = new int[maxBlocks];
        int numHits = 0;
        long hash = BlockHasher.ROOT;
        long parent = 0;
        while (numHits < maxBlocks) {
            int from = numHits * blockSize;
            long h = hasher.hash(hash, tokens, from, blockSize);
            Integer b = cachedBlockByHash.get(h);
            if (b == null || parentRegistration[b] != parent || !Arrays.equals(blockTokens[b], 0, blockSize, tokens, from, from + blockSize)) {
                break;
            }
            hits[numHits++] = b;
            hash = h;
            parent = registration[b];
        }
        return new PrefixHit(Arrays.copyOf(hits, numHits), maxBlocks, version, hash, parent);
    }

    /** Whether {@link #allocate} can give a sequence {@code hit}'s blocks plus fresh ones up to {@code numTokens}. */
    public boolean canAllocate(PrefixHit hit, int numTokens) {
        checkCurrent(hit);
        int hitTokens = hit.numBlocks() * blockSize;
        if (numTokens <= hitTokens) {
            throw new IllegalArgumentException("numTokens is " + numTokens + "; expected more than the " + hitTokens + " cached tokens");
        }
        int needed = numBlocksFor(numTokens) - hit.numBlocks();
        for (int b : hit.blockIds) {
            if (refCounts[b] == 0) {
                needed++; // a free cached block leaves the free queue when shared
            }
        }
        return needed <= freeBlocks.size();
    }

    /**
     * Fills an empty table: shares {@code hit}'s blocks, then takes fresh blocks until it holds {@code numTokens}
     * tokens. Counts the hit and missed blocks.
     */
    public void allocate(BlockTable table, PrefixHit hit, int numTokens) {
        if (!table.isEmpty()) {
            throw new IllegalStateException("allocate needs an empty block table; this one holds " + table);
        }
        if (!canAllocate(hit, numTokens)) {
            throw new IllegalStateException("not enough free KV blocks for " + numTokens + " tokens: "
                    + freeBlocks.size() + " free; ask canAllocate first");
        }
        for (int b : hit.blockIds) {
            if (refCounts[b] == 0) {
                freeBlocks.remove(b);
            }
            refCounts[b]++;
            table.add(b);
        }
        table.numHashedBlocks = hit.numBlocks();
        table.lastHash = hit.lastHash;
        table.lastRegistration = hit.lastRegistration;
        hitBlocks += hit.numBlocks();
        missBlocks += hit.numQueriedBlocks - hit.numBlocks();
        growTo(table, numTokens);
    }

    /** Whether {@link #append} can grow the table to hold {@code numTokens} tokens. */
    public boolean canAppend(BlockTable table, int numTokens) {
        return numBlocksFor(numTokens) - table.numBlocks() <= freeBlocks.size();
    }

    /** Takes fresh blocks until the table holds {@code numTokens} tokens (no-op when it already does). */
    public void append(BlockTable table, int numTokens) {
        if (!canAppend(table, numTokens)) {
            throw new IllegalStateException("not enough free KV blocks to grow " + table + " to " + numTokens
                    + " tokens: " + freeBlocks.size() + " free; ask canAppend first");
        }
        growTo(table, numTokens);
    }

    /**
     * Registers in the prefix cache every full block of the table whose tokens are now all computed:
     * {@code tokens[0, numComputedTokens)} are the sequence's tokens with K/V in the cache. No-op when prefix
     * caching is off.
     */
    public void commit(BlockTable table, int[] tokens, int numComputedTokens) {
        if (!enablePrefixCaching || table.chainBroken) {
            return;
        }
        int numFull = Math.min(numComputedTokens / blockSize, table.numBlocks());
        for (int i = table.numHashedBlocks; i < numFull; i++) {
            int from = i * blockSize;
            long h = hasher.hash(i == 0 ? BlockHasher.ROOT : table.lastHash, tokens, from, blockSize);
            int b = table.blockId(i);
            Integer existing = cachedBlockByHash.get(h);
            if (existing == null) {
                register(b, h, table.lastRegistration, tokens, from);
            } else if (parentRegistration[existing] == table.lastRegistration
                    && Arrays.equals(blockTokens[existing], 0, blockSize, tokens, from, from + blockSize)) {
                // Same prefix computed twice (both missed). Keep one entry; move it onto our block if the
                // other copy is free, since a held block cannot be evicted under a hit.
                if (refCounts[existing] == 0) {
                    long entry = registration[existing];
                    uncache(existing);
                    freeBlocks.remove(existing);
                    freeBlocks.pushFirst(existing);
                    register(b, h, table.lastRegistration, tokens, from);
                    registration[b] = entry; // children registered under the old copy stay reachable
                }
            } else {
                table.chainBroken = true; // a hash collision: cache nothing more of this sequence
                version++;
                return;
            }
            table.lastHash = h;
            table.lastRegistration = registration[cachedBlockByHash.get(h)];
            table.numHashedBlocks = i + 1;
        }
        version++;
    }

    /** Releases the table's blocks (last block first, so a prompt's leading blocks stay cached longest) and empties it. */
    public void free(BlockTable table) {
        for (int i = table.numBlocks() - 1; i >= 0; i--) {
            int b = table.blockId(i);
            if (refCounts[b] <= 0) {
                throw new IllegalStateException("KV block " + b + " freed more often than it was taken");
            }
            if (--refCounts[b] == 0) {
                if (registration[b] != 0) {
                    freeBlocks.pushLast(b);
                } else {
                    freeBlocks.pushFirst(b);
                }
            }
        }
        table.clear();
        version++;
    }

    private void growTo(BlockTable table, int numTokens) {
        int target = numBlocksFor(numTokens);
        while (table.numBlocks() < target) {
            int b = freeBlocks.popFirst();
            if (registration[b] != 0) {
                uncache(b);
                evictedBlocks++;
            }
            refCounts[b] = 1;
            table.add(b);
        }
        version++;
    }

    private void register(int b, long hash, long parent, int[] tokens, int from) {
        if (blockTokens[b] == null) {
            blockTokens[b] = new int[blockSize];
        }
        System.arraycopy(tokens, from, blockTokens[b], 0, blockSize);
        blockHash[b] = hash;
        parentRegistration[b] = parent;
        registration[b] = nextRegistration++;
        cachedBlockByHash.put(hash, b);
    }

    private void uncache(int b) {
        Integer mapped = cachedBlockByHash.get(blockHash[b]);
        if (mapped != null && mapped == b) {
            cachedBlockByHash.remove(blockHash[b]);
        }
        registration[b] = 0;
    }

    private void checkCurrent(PrefixHit hit) {
        if (hit.version != version) {
            throw new IllegalStateException("stale PrefixHit: the block manager changed since lookup; look up again");
        }
    }
}
