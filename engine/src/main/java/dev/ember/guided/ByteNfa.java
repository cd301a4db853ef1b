package dev.ember.guided;

import dev.ember.ConfigException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Thompson NFA over bytes built from an {@link Rx}: code-point sets become UTF-8 byte-range chains. States that
 * cannot reach the accepting state are marked dead, so every live state can still complete a match. Immutable
 * after construction; thread-safe.
 */
final class ByteNfa {
    /** Caps memory for huge counted repetitions: the error names the limit. */
    static final int MAX_STATES = 2_000_000;

    private int numStates;
    private int[] head = new int[1024];   // first edge of each state, -1 none
    private int numEdges;
    private int[] edgeNext = new int[4096];
    private int[] edgeLo = new int[4096]; // -1: epsilon
    private int[] edgeHi = new int[4096];
    private int[] edgeTo = new int[4096];
    final int start;
    final int accept;
    private final boolean[] live;
    private final String what;

    ByteNfa(Rx rx, String what) {
        this.what = what;
        start = newState();
        accept = build(rx, start);
        live = coReachable();
    }

    int numStates() {
        return numStates;
    }

    boolean live(int state) {
        return live[state];
    }

    int firstEdge(int state) {
        return head[state];
    }

    int nextEdge(int edge) {
        return edgeNext[edge];
    }

    /** Lowest byte of the edge, or -1 for an epsilon edge. */
    int edgeLo(int edge) {
        return edgeLo[edge];
    }

    int edgeHi(int edge) {
        return edgeHi[edge];
    }

    int edgeTo(int edge) {
        return edgeTo[edge];
    }

    private int newState() {
        if (numStates == MAX_STATES) {
            throw new ConfigException(what + " is too large to enforce: its automaton passes " + MAX_STATES
                    + " states; use smaller repetition counts or string lengths");
        }
        if (numStates == head.length) {
            head = Arrays.copyOf(head, head.length * 2);
        }
        head[numStates] = -1;
        return numStates++;
    }

    private void edge(int from, int lo, int hi, int to) {
        if (numEdges == edgeNext.length) {
            int n = edgeNext.length * 2;
            edgeNext = Arrays.copyOf(edgeNext, n);
            edgeLo = Arrays.copyOf(edgeLo, n);
            edgeHi = Arrays.copyOf(edgeHi, n);
            edgeTo = Arrays.copyOf(edgeTo, n);
        }
        edgeLo[numEdges] = lo;
        edgeHi[numEdges] = hi;
        edgeTo[numEdges] = to;
        edgeNext[numEdges] = head[from];
        head[from] = numEdges++;
    }

    private void epsilon(int from, int to) {
        edge(from, -1, -1, to);
    }

    /** Adds states for {@code rx} starting at {@code from}; returns its end state. */
    private int build(Rx rx, int from) {
        if (rx instanceof Rx.CharSet cs) {
            int end = newState();
            List<int[]> seqs = new ArrayList<>();
            int[] r = cs.ranges();
            for (int i = 0; i < r.length; i += 2) {
                Utf8Ranges.split(r[i], r[i + 1], seqs);
            }
            for (int[] seq : seqs) {
                int cur = from;
                for (int k = 0; k < seq.length; k += 2) {
                    int next = k + 2 == seq.length ? end : newState();
                    edge(cur, seq[k], seq[k + 1], next);
                    cur = next;
                }
            }
            return end;
        }
        if (rx instanceof Rx.Concat c) {
            int cur = from;
            for (Rx part : c.parts()) {
                cur = build(part, cur);
            }
            return cur;
        }
        if (rx instanceof Rx.Alt a) {
            int end = newState();
            for (Rx option : a.options()) {
                int s = newState();
                epsilon(from, s);
                epsilon(build(option, s), end);
            }
            return end;
        }
        Rx.Repeat rep = (Rx.Repeat) rx;
        int cur = from;
        for (int i = 0; i < rep.min(); i++) {
            cur = build(rep.body(), cur);
        }
        if (rep.max() < 0) {
            int loop = newState();
            epsilon(cur, loop);
            epsilon(build(rep.body(), loop), loop);
            return loop;
        }
        if (rep.max() == rep.min()) {
            return cur;
        }
        int end = newState();
        for (int i = rep.min(); i < rep.max(); i++) {
            epsilon(cur, end);
            cur = build(rep.body(), cur);
        }
        epsilon(cur, end);
        return end;
    }

    /** States from which the accepting state is reachable (reverse breadth-first search). */
    private boolean[] coReachable() {
        int[] revHead = new int[numStates];
        Arrays.fill(revHead, -1);
        int[] revNext = new int[numEdges];
        int[] revFrom = new int[numEdges];
        for (int s = 0; s < numStates; s++) {
            for (int e = head[s]; e >= 0; e = edgeNext[e]) {
                int t = edgeTo[e];
                revFrom[e] = s;
                revNext[e] = revHead[t];
                revHead[t] = e;
            }
        }
        boolean[] seen = new boolean[numStates];
        int[] stack = new int[numStates];
        int sp = 0;
        seen[accept] = true;
        stack[sp++] = accept;
        while (sp > 0) {
            int t = stack[--sp];
            for (int e = revHead[t]; e >= 0; e = revNext[e]) {
                int s = revFrom[e];
                if (!seen[s]) {
                    seen[s] = true;
                    stack[sp++] = s;
                }
            }
        }
        return seen;
    }
}
