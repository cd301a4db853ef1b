package dev.ember.kv;

import java.util.Arrays;

/**
 * The KV blocks of one sequence, in position order: token at position {@code p} lives in block
 * {@code blockId(p / blockSize)} at offset {@code p % blockSize}. Also remembers how far the sequence's full
 * blocks have been entered into the prefix cache. Read by anyone; changed only by {@link BlockManager}.
 * Not thread-safe (the engine's step-loop thread only).
 */
public final class BlockTable {
    private int[] blockIds = new int[8];
    private int numBlocks;

    // Prefix-cache chain state: how many leading full blocks were hashed, the hash of the last one, and the
    // registration that stands for it in the cache (0 for none). chainBroken stops hashing after a collision.
    int numHashedBlocks;
    long lastHash;
    long lastRegistration;
    boolean chainBroken;

    public int numBlocks() {
        return numBlocks;
    }

    public int blockId(int index) {
        if (index < 0 || index >= numBlocks) {
            throw new IndexOutOfBoundsException("block index " + index + " of a table with " + numBlocks + " blocks");
        }
        return blockIds[index];
    }

    /** A copy of the block ids, exactly {@link #numBlocks()} long. */
    public int[] toArray() {
        return Arrays.copyOf(blockIds, numBlocks);
    }

    public boolean isEmpty() {
        return numBlocks == 0;
    }

    void add(int blockId) {
        if (numBlocks == blockIds.length) {
            blockIds = Arrays.copyOf(blockIds, blockIds.length * 2);
        }
        blockIds[numBlocks++] = blockId;
    }

    void clear() {
        numBlocks = 0;
        numHashedBlocks = 0;
        lastHash = 0;
        lastRegistration = 0;
        chainBroken = false;
    }

    @Override
    public String toString() {
        return Arrays.toString(toArray());
    }
}
