package dev.ember.guided;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One constraint compiled against one vocabulary: its byte DFA and, per DFA state, the mask of tokens whose bytes
 * keep the output completable (found by walking the vocabulary trie), plus the EOS ids where the state accepts.
 * Masks are built lazily, the first time a generation reaches a state, and cached up to a byte budget. When a
 * state allows no token (a vocabulary that cannot spell what the constraint needs) the EOS ids are allowed so the
 * row ends, and its result reports the incomplete output. Thread-safe; shared by every request with an equal
 * constraint.
 */
public final class TokenIndex {
    /** Masks kept per constraint before the cache is cleared (they are rebuilt on demand). */
    static final long MASK_BUDGET_BYTES = 64L << 20;

    private final Constraint constraint;
    private final ByteDfa dfa;
    private final TokenTrie trie;
    private final int[] eosIds;
    private final int maskBits;
    private final ConcurrentHashMap<Integer, TokenMask> masks = new ConcurrentHashMap<>();
    private final AtomicLong maskBytes = new AtomicLong();

    TokenIndex(Constraint constraint, TokenTrie trie, Set<Integer> eosIds, int maskBits) {
        this.constraint = constraint;
        ByteNfa nfa = new ByteNfa(constraint.toRx(), constraint.describe());
        this.dfa = new ByteDfa(nfa, constraint.describe());
        if (dfa.start() == ByteDfa.DEAD) {
            throw new dev.ember.ConfigException(constraint.describe() + " matches no output at all");
        }
        this.trie = trie;
        this.eosIds = eosIds.stream().mapToInt(Integer::intValue).filter(i -> i >= 0 && i < maskBits).sorted().toArray();
        this.maskBits = maskBits;
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

    /** The tokens allowed in {@code state}; for {@link ByteDfa#DEAD}, only the EOS ids. */
    public TokenMask mask(int state) {
        TokenMask m = masks.get(state);
        if (m != null) {
            return m;
        }
        m = buildMask(state);
        long bytes = 16L + 8L * m.bits().length;
        if (maskBytes.addAndGet(bytes) > MASK_BUDGET_BYTES) {
            masks.clear();
            maskBytes.set(bytes);
        }
        masks.put(state, m);
        return m;
    }

    private TokenMask buildMask(int state) {
        long[] bits = new long[(maskBits + 63) >>> 6];
        int count = state < 0 ? 0 : trie.allowed(dfa, state, bits, maskBits);
        if (count == 0 || dfa.accepting(state)) {
            for (int id : eosIds) {
                bits[id >>> 6] |= 1L << id;
            }
        }
        return new TokenMask(bits, count == 0);
    }

    /** The byte automaton (for tests). */
    ByteDfa dfa() {
        return dfa;
    }

    /** DFA states built so far (for tests and benchmarks). */
    int numDfaStates() {
        return dfa.numStates();
    }

    /** A fresh per-request cursor at the start state. */
    public TokenGuide newGuide() {
        return new TokenGuide(this);
    }
}
