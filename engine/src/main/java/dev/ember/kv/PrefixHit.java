package dev.ember.kv;

/**
 * The result of {@link BlockManager#lookup}: the cached blocks that hold a sequence's leading full blocks,
 * ready to be shared by {@link BlockManager#allocate}. Valid only until the block manager next changes; using
 * it later fails instead of sharing blocks that may have been reused. Immutable.
 */
public final class PrefixHit {
    final int[] blockIds;
    final int numQueriedBlocks;
    final long version;
    final long lastHash;
    final long lastRegistration;

    PrefixHit(int[] blockIds, int numQueriedBlocks, long version, long lastHash, long lastRegistration) {
        this.blockIds = blockIds;
        this.numQueriedBlocks = numQueriedBlocks;
        this.version = version;
        this.lastHash = lastHash;
        this.lastRegistration = lastRegistration;
    }

    /** Cached blocks found. */
    public int numBlocks() {
        return blockIds.length;
    }

    /** Full blocks that were looked up (the hit blocks plus the misses). */
    public int numQueriedBlocks() {
        return numQueriedBlocks;
    }

    /** Block id of the i-th hit block. */
    public int blockId(int i) {
        return blockIds[i];
    }
}
