package dev.ember.guided;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One constraint compiled against one vocabulary: its byte DFA and, per DFA state, the mask of tokens whose bytes
 * keep the output completable (found by walking the vocabulary trie), plus the EOS ids where the state accepts.
 * Masks are built lazily, the first time a generation reaches a state, on the constraint cache's background pool
 * (so the engine's step loop goes on with other sequences meanwhile, see {@link #requestMask}), and cached up to a
 * byte budget. When a state allows no token (a vocabulary that cannot spell what the constraint needs) the EOS ids
 * are allowed so the row ends, and its result reports the incomplete output. Thread-safe; shared by every request
 * with an equal constraint.
 */
public final class TokenIndex {
    /** Masks kept per constraint before the cache is cleared (they are rebuilt on demand). */
    static final long MASK_BUDGET_BYTES = 64L << 20;

    private final Constraint constraint;
    private final ByteDfa dfa;
    private final TokenTrie trie;
    private final int[] eosIds;
    private final int maskBits;
    private final ConcurrentHashMap<Integer, CompletableFuture<TokenMask>> masks = new ConcurrentHashMap<>();
    private final AtomicLong maskBytes = new AtomicLong();
    private final Executor builders; // null: masks are built by the thread that asks
    private final TokenMask deadMask;
    private final AtomicInteger builtInBackground = new AtomicInteger();
    private final AtomicInteger builtInline = new AtomicInteger();

    TokenIndex(Constraint constraint, TokenTrie trie, Set<Integer> eosIds, int maskBits) {
        this(constraint, trie, eosIds, maskBits, null);
    }

    /** @param builders the pool that builds masks {@link #requestMask} asks for; null to build them inline */
    TokenIndex(Constraint constraint, TokenTrie trie, Set<Integer> eosIds, int maskBits, Executor builders) {
        this.builders = builders;
        this.constraint = constraint;
        ByteNfa nfa = new ByteNfa(constraint.toRx(), constraint.describe());
        this.dfa = new ByteDfa(nfa, constraint.describe());
        if (dfa.start() == ByteDfa.DEAD) {
            throw new dev.ember.ConfigException(constraint.describe() + " matches no output at all");
        }
        this.trie = trie;
        this.eosIds = eosIds.stream().mapToInt(Integer::intValue).filter(i -> i >= 0 && i < maskBits).sorted().toArray();
        this.maskBits = maskBits;
        this.deadMask = buildMask(ByteDfa.DEAD);
    }

    public Constraint constraint() {
        return constraint;
    }

    public int start() {
        return dfa.start();
    }

    /** The state after {@code token}; {@link ByteDfa#DEAD} (-1) when the token cannot continue the output. */
    public int next(int state, int token) {
        byte[] b = trie.vocabulary.bytes(token);
        if (b == null || state < 0) {
            return ByteDfa.DEAD;
        }
        return dfa.walk(state, b);
    }

    /** Whether the output so far is a complete match. */
    public boolean accepting(int state) {
        return dfa.accepting(state);
    }

    /** The bytes {@code token} adds to the output; null for a special token or an id past the vocabulary. */
    public byte[] tokenBytes(int token) {
        return token < 0 ? null : trie.vocabulary.bytes(token);
    }

    public boolean isEos(int token) {
        return Arrays.binarySearch(eosIds, token) >= 0;
    }

    /** Whether {@code text} as a whole satisfies the constraint (its UTF-8 bytes run through the DFA). */
    public boolean matches(String text) {
        return dfa.matches(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The tokens allowed in {@code state}; for {@link ByteDfa#DEAD}, only the EOS ids. Builds the mask on this thread
     * when no one has (or waits for a build under way): the step loop asks {@link #requestMask} first, so that it
     * never waits here.
     */
    public TokenMask mask(int state) {
        if (state < 0) {
            return deadMask;
        }
        CompletableFuture<TokenMask> f = masks.get(state);
        if (f == null) {
            CompletableFuture<TokenMask> mine = new CompletableFuture<>();
            f = masks.putIfAbsent(state, mine);
            if (f == null) {
                build(mine, state, false);
                f = mine;
            }
        }
        return joined(f);
    }

    /**
     * The mask of {@code state}, built or under way: its build starts on the background pool unless it was built or
     * started before. Without a pool (guided_mask_threads=0) it is built now, on this thread. A build that failed
     * (an automaton too large to enforce) completes the future exceptionally.
     */
    public CompletableFuture<TokenMask> requestMask(int state) {
        if (state < 0) {
            return CompletableFuture.completedFuture(deadMask);
        }
        CompletableFuture<TokenMask> f = masks.get(state);
        if (f != null) {
            return f;
        }
        CompletableFuture<TokenMask> mine = new CompletableFuture<>();
        f = masks.putIfAbsent(state, mine);
        if (f != null) {
            return f;
        }
        if (builders == null) {
            build(mine, state, false);
            return mine;
        }
        try {
            builders.execute(() -> build(mine, state, true));
        } catch (RejectedExecutionException e) {
            build(mine, state, false); // the pool is closed (the engine is closing): nothing else would build it
        }
        return mine;
    }

    /** The mask of {@code f}, rethrowing the build's own exception. */
    static TokenMask joined(CompletableFuture<TokenMask> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    private void build(CompletableFuture<TokenMask> f, int state, boolean inBackground) {
        TokenMask m;
        try {
            m = buildMask(state);
        } catch (RuntimeException | Error e) {
            masks.remove(state, f);
            f.completeExceptionally(e);
            return;
        }
        (inBackground ? builtInBackground : builtInline).incrementAndGet();
        long bytes = 16L + 8L * m.bits().length;
        if (maskBytes.addAndGet(bytes) > MASK_BUDGET_BYTES) {
            // holders of a cleared future keep their mask; others rebuild it on demand
            masks.clear();
            maskBytes.set(bytes);
            masks.put(state, f);
        }
        f.complete(m);
    }

    private TokenMask buildMask(int state) {
        long[] bits = new long[(maskBits + 63) >>> 6];
        int count = state < 0 ? 0 : trie.allowed(dfa, state, bits, maskBits);
        // an EOS id the tokenizer gives text (not marked special) is found by the trie walk, but the guide takes it
        // as the end: it counts as an end token, never as text that continues the output
        for (int id : eosIds) {
            if ((bits[id >>> 6] & (1L << id)) != 0) {
                bits[id >>> 6] &= ~(1L << id);
                count--;
            }
        }
        if (count == 0 || dfa.accepting(state)) {
            for (int id : eosIds) {
                bits[id >>> 6] |= 1L << id;
            }
        }
        return new TokenMask(bits, count == 0);
    }

    /** Masks built on the background pool so far (for tests and benchmarks). */
    public int masksBuiltInBackground() {
        return builtInBackground.get();
    }

    /** Masks built on the thread that asked for them so far (for tests and benchmarks). */
    public int masksBuiltInline() {
        return builtInline.get();
    }

    /** The byte automaton (for tests). */
    ByteDfa dfa() {
        return dfa;
    }

    /** DFA states built so far (for tests and benchmarks). */
    public int numDfaStates() {
        return dfa.numStates();
    }

    /** A fresh per-request cursor at the start state. */
    public TokenGuide newGuide() {
        return new TokenGuide(this);
    }
}
