package dev.ember.guided;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An engine's compiled constraints: one {@link TokenIndex} per distinct {@link Constraint}, compiled on first use
 * (concurrent first uses wait for one compilation), so 100,000 rows sharing a schema compile it once. Holds the
 * vocabulary trie, built on the first constraint. When more than {@value #MAX_ENTRIES} distinct constraints were
 * seen (per-row regexes), the cache starts over. Thread-safe.
 */
public final class ConstraintCache {
    static final int MAX_ENTRIES = 1024;

    private final TokenVocabulary vocabulary;
    private final Set<Integer> eosIds;
    private final int maskBits;
    private final ConcurrentHashMap<Constraint, TokenIndex> compiled = new ConcurrentHashMap<>();
    private volatile TokenTrie trie;

    /**
     * @param vocabulary the tokenizer's token bytes
     * @param eosIds     the model's EOS ids, allowed where the constraint is complete
     * @param maskBits   the model's vocabulary (logits) size; ids at or past the tokenizer's are never allowed
     */
    public ConstraintCache(TokenVocabulary vocabulary, Set<Integer> eosIds, int maskBits) {
        this.vocabulary = vocabulary;
        this.eosIds = Set.copyOf(eosIds);
        this.maskBits = maskBits;
    }

    /** The compiled index of {@code c}; throws {@link dev.ember.ConfigException} when it cannot be enforced. */
    public TokenIndex get(Constraint c) {
        TokenIndex hit = compiled.get(c);
        if (hit != null) {
            return hit;
        }
        if (compiled.size() >= MAX_ENTRIES) {
            compiled.clear();
        }
        return compiled.computeIfAbsent(c, k -> new TokenIndex(k, trie(), eosIds, maskBits));
    }

    private TokenTrie trie() {
        TokenTrie t = trie;
        if (t == null) {
            synchronized (this) {
                t = trie;
                if (t == null) {
                    t = new TokenTrie(vocabulary);
                    trie = t;
                }
            }
        }
        return t;
    }

    public int size() {
        return compiled.size();
    }
}
