package dev.ember.kv;

/** Block managers with deliberately bad hashes, for tests in other packages that must survive collisions. */
public final class TestBlockManagers {
    private TestBlockManagers() {
    }

    /** Every block hashes to one of four values by its first token, ignoring its prefix: collisions everywhere. */
    public static BlockManager withWeakHash(int numBlocks, int blockSize) {
        return new BlockManager(numBlocks, blockSize, true, (parent, tokens, from, length) -> tokens[from] & 3);
    }

    /** A strong hash of the block's own tokens that ignores its prefix: equal blocks after different prefixes collide. */
    public static BlockManager withPrefixBlindHash(int numBlocks, int blockSize) {
        return new BlockManager(numBlocks, blockSize, true,
                (parent, tokens, from, length) -> BlockHasher.STRONG.hash(BlockHasher.ROOT, tokens, from, length));
    }
}
