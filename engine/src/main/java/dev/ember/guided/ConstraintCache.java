package dev.ember.guided;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine's compiled constraints: one {@link TokenIndex} per distinct {@link Constraint}, compiled on first use
 * (concurrent first uses wait for one compilation), so 100,000 rows sharing a schema compile it once. Holds the
 * vocabulary trie, built on the first constraint. When more than {@value #MAX_ENTRIES} distinct constraints were
 * seen (per-row regexes), the cache starts over. Owns the small pool that builds the indexes' state masks off the
 * engine's step loop (its threads end when idle, and at {@link #close}). Thread-safe.
 */
public final class ConstraintCache implements AutoCloseable {
    static final int MAX_ENTRIES = 1024;

    private final TokenVocabulary vocabulary;
    private final Set<Integer> eosIds;
    private final int maskBits;
    private final ConcurrentHashMap<Constraint, TokenIndex> compiled = new ConcurrentHashMap<>();
    private volatile TokenTrie trie;
    private final ThreadPoolExecutor maskBuilders; // null: masks are built by the thread that asks (the step loop)

    /** A cache whose masks are built by the thread that asks for them. */
    public ConstraintCache(TokenVocabulary vocabulary, Set<Integer> eosIds, int maskBits) {
        this(vocabulary, eosIds, maskBits, 0);
    }

    /**
     * @param vocabulary  the tokenizer's token bytes
     * @param eosIds      the model's EOS ids, allowed where the constraint is complete
     * @param maskBits    the model's vocabulary (logits) size; ids at or past the tokenizer's are never allowed
     * @param maskThreads threads that build state masks in the background (engine option guided_mask_threads); 0
     *                    builds them on the thread that asks
     */
    public ConstraintCache(TokenVocabulary vocabulary, Set<Integer> eosIds, int maskBits, int maskThreads) {
        if (maskThreads < 0) {
            throw new IllegalArgumentException("maskThreads is " + maskThreads + "; expected >= 0");
        }
        this.vocabulary = vocabulary;
        this.eosIds = Set.copyOf(eosIds);
        this.maskBits = maskBits;
        if (maskThreads == 0) {
            this.maskBuilders = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            this.maskBuilders = new ThreadPoolExecutor(maskThreads, maskThreads, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, "ember-guided-masks-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            maskBuilders.allowCoreThreadTimeOut(true); // an engine that stopped seeing constraints holds no threads
        }
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
        return compiled.computeIfAbsent(c, k -> new TokenIndex(k, trie(), eosIds, maskBits, maskBuilders));
    }

    /** Builds the vocabulary trie now rather than on the first constraint (benchmarks time it apart). */
    public void warm() {
        trie();
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

    /**
     * Stops the mask builders: masks asked for afterwards are built by the asking thread. Builds already queued
     * still run (so no one waits forever on a mask), then the threads end.
     */
    @Override
    public void close() {
        if (maskBuilders != null) {
            maskBuilders.shutdown();
        }
    }
}
