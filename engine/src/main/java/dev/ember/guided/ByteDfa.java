package dev.ember.guided;

import dev.ember.ConfigException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A deterministic automaton over bytes, built lazily from a {@link ByteNfa} by the subset construction: a state
 * and its transitions are made the first time a walk needs them, so compiling a constraint costs only its NFA,
 * and a schema whose full DFA would be large costs only the states generations visit. {@link #DEAD} is the state
 * of every byte string that cannot be extended to a match; every other state can still reach an accepting one.
 * Thread-safe: the lazily filled tables are guarded by this object's lock, which a mask build holds for its whole
 * trie walk (tens of milliseconds on a large vocabulary); {@link #walk} and {@link #accepting} read transitions
 * already made without it, so the step loop advancing a guide along a token its mask allowed (whose transitions
 * that mask's build made) never waits for another build.
 */
final class ByteDfa {
    static final int DEAD = -1;
    private static final int UNKNOWN = -2;
    /** Caps the lazily built states (each holds a 1 KiB transition row). */
    static final int MAX_STATES = 200_000;

    private final ByteNfa nfa;
    private final String what;
    private final List<int[]> sets = new ArrayList<>();
    private final Map<Key, Integer> ids = new HashMap<>();
    private int[] trans = new int[256 * 64];
    private boolean[] accepting = new boolean[64];
    // The tables as last published (replaced under the lock after every growth, once filled) for lock-free reads:
    // an entry is UNKNOWN or its final value, never anything else, so a stale read only sends the reader to the lock.
    private volatile int[] transView = new int[0];
    private volatile boolean[] acceptingView = new boolean[0];
    private final int[] stamp;
    private int stampCounter;
    private final int start;

    ByteDfa(ByteNfa nfa, String what) {
        this.nfa = nfa;
        this.what = what;
        this.stamp = new int[nfa.numStates()];
        int[] init = closure(new int[] {nfa.start}, 1);
        this.start = init.length == 0 ? DEAD : intern(init);
    }

    /** The start state, or {@link #DEAD} when the constraint matches nothing. */
    int start() {
        return start;
    }

    boolean accepting(int state) {
        if (state < 0) {
            return false;
        }
        boolean[] a = acceptingView;
        if (state < a.length && a[state]) {
            return true;
        }
        synchronized (this) {
            return accepting[state];
        }
    }

    /** The state after {@code b} (0..255), or {@link #DEAD}. */
    synchronized int step(int state, int b) {
        return stepHeld(state, b);
    }

    /**
     * {@link #step} for a caller that already holds this object's lock (a trie walk makes ~10^5 steps per mask;
     * taking the lock once instead of per step is most of its speed).
     */
    int stepHeld(int state, int b) {
        if (state < 0) {
            return DEAD;
        }
        int t = trans[state * 256 + b];
        if (t == UNKNOWN) {
            t = computeStep(state, b);
            trans[state * 256 + b] = t;
        }
        return t;
    }

    /** The state after all of {@code bytes}, or {@link #DEAD}. */
    int walk(int state, byte[] bytes) {
        int[] view = transView;
        int i = 0;
        for (; i < bytes.length && state >= 0; i++) {
            int at = state * 256 + (bytes[i] & 0xff);
            int t = at < view.length ? view[at] : UNKNOWN;
            if (t == UNKNOWN) {
                break; // not made yet (or not seen yet): the rest under the lock
            }
            state = t;
        }
        if (i == bytes.length || state < 0) {
            return state;
        }
        synchronized (this) {
            for (; i < bytes.length && state >= 0; i++) {
                state = stepHeld(state, bytes[i] & 0xff);
            }
            return state;
        }
    }

    /** Whether the whole of {@code bytes} is matched (for validation and tests). */
    boolean matches(byte[] bytes) {
        return accepting(walk(start, bytes));
    }

    synchronized int numStates() {
        return sets.size();
    }

    private int computeStep(int state, int b) {
        int[] set = sets.get(state);
        int[] targets = new int[8];
        int n = 0;
        for (int s : set) {
            for (int e = nfa.firstEdge(s); e >= 0; e = nfa.nextEdge(e)) {
                int lo = nfa.edgeLo(e);
                if (lo >= 0 && b >= lo && b <= nfa.edgeHi(e) && nfa.live(nfa.edgeTo(e))) {
                    if (n == targets.length) {
                        targets = Arrays.copyOf(targets, n * 2);
                    }
                    targets[n++] = nfa.edgeTo(e);
                }
            }
        }
        if (n == 0) {
            return DEAD;
        }
        int[] next = closure(Arrays.copyOf(targets, n), n);
        return next.length == 0 ? DEAD : intern(next);
    }

    /** The live states reachable from {@code seeds[0..n)} through epsilon edges, sorted. */
    private int[] closure(int[] seeds, int n) {
        if (++stampCounter == Integer.MAX_VALUE) {
            Arrays.fill(stamp, 0);
            stampCounter = 1;
        }
        int mark = stampCounter;
        int[] stack = new int[Math.max(16, n)];
        int sp = 0;
        int[] out = new int[16];
        int count = 0;
        for (int i = 0; i < n; i++) {
            int s = seeds[i];
            if (stamp[s] != mark && nfa.live(s)) {
                stamp[s] = mark;
                stack[sp++] = s;
            }
        }
        while (sp > 0) {
            int s = stack[--sp];
            if (count == out.length) {
                out = Arrays.copyOf(out, count * 2);
            }
            out[count++] = s;
            for (int e = nfa.firstEdge(s); e >= 0; e = nfa.nextEdge(e)) {
                int t = nfa.edgeTo(e);
                if (nfa.edgeLo(e) < 0 && stamp[t] != mark && nfa.live(t)) {
                    stamp[t] = mark;
                    if (sp == stack.length) {
                        stack = Arrays.copyOf(stack, sp * 2);
                    }
                    stack[sp++] = t;
                }
            }
        }
        int[] r = Arrays.copyOf(out, count);
        Arrays.sort(r);
        return r;
    }

    private int intern(int[] set) {
        Key key = new Key(set);
        Integer id = ids.get(key);
        if (id != null) {
            return id;
        }
        int s = sets.size();
        if (s == MAX_STATES) {
            throw new ConfigException(what + " is too large to enforce: its automaton passes " + MAX_STATES
                    + " deterministic states; use smaller repetition counts or string lengths");
        }
        sets.add(set);
        ids.put(key, s);
        if ((s + 1) * 256 > trans.length) {
            int old = trans.length;
            trans = Arrays.copyOf(trans, old * 2);
            Arrays.fill(trans, old, trans.length, UNKNOWN);
            accepting = Arrays.copyOf(accepting, accepting.length * 2);
        } else if (s == 0) {
            Arrays.fill(trans, UNKNOWN);
        }
        accepting[s] = Arrays.binarySearch(set, nfa.accept) >= 0;
        if (transView != trans) {
            transView = trans;
        }
        if (acceptingView != accepting) {
            acceptingView = accepting;
        }
        return s;
    }

    private record Key(int[] set) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(set, k.set);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(set);
        }
    }
}
