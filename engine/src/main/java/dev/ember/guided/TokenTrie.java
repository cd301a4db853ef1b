package dev.ember.guided;

import java.util.Arrays;

/**
 * The vocabulary's byte strings as a trie, so the tokens a DFA state allows are found by one walk that abandons a
 * branch at its first dead byte instead of walking each of ~150,000 tokens. Built once per vocabulary; immutable;
 * thread-safe.
 */
final class TokenTrie {
    private int numNodes = 1; // node 0 is the root
    private int[] firstChild;
    private int[] nextSibling;
    private int[] label;
    private int[] firstToken; // per node: first token ending here, -1 none
    private final int[] nextToken; // per token: next token ending at the same node
    final TokenVocabulary vocabulary;
    // The walk's layout, renumbered breadth-first so each node's children are contiguous: node n's children are
    // [childStart[n], childStart[n + 1]); walking them is a linear scan instead of chasing sibling links.
    private final int[] childStart;
    private final int[] nodeLabel;
    private final int[] nodeToken;

    TokenTrie(TokenVocabulary vocabulary) {
        this.vocabulary = vocabulary;
        int cap = 1 << 16;
        firstChild = new int[cap];
        nextSibling = new int[cap];
        label = new int[cap];
        firstToken = new int[cap];
        Arrays.fill(firstChild, -1);
        Arrays.fill(firstToken, -1);
        nextToken = new int[vocabulary.size()];
        Arrays.fill(nextToken, -1);
        for (int id = 0; id < vocabulary.size(); id++) {
            byte[] b = vocabulary.bytes(id);
            if (b == null || b.length == 0) {
                continue;
            }
            int node = 0;
            for (byte x : b) {
                node = child(node, x & 0xff);
            }
            nextToken[id] = firstToken[node];
            firstToken[node] = id;
        }
        int[] order = new int[numNodes]; // new number -> old
        childStart = new int[numNodes + 1];
        int tail = 1;
        for (int head = 0; head < numNodes; head++) {
            int old = order[head];
            childStart[head] = tail;
            for (int c = firstChild[old]; c >= 0; c = nextSibling[c]) {
                order[tail++] = c;
            }
        }
        childStart[numNodes] = tail;
        nodeLabel = new int[numNodes];
        nodeToken = new int[numNodes];
        for (int n = 0; n < numNodes; n++) {
            nodeLabel[n] = label[order[n]];
            nodeToken[n] = firstToken[order[n]];
        }
        // the build-time arrays are not needed by the walk
        firstChild = null;
        nextSibling = null;
        label = null;
        firstToken = null;
    }

    private int child(int node, int b) {
        for (int c = firstChild[node]; c >= 0; c = nextSibling[c]) {
            if (label[c] == b) {
                return c;
            }
        }
        if (numNodes == label.length) {
            int n = label.length * 2;
            firstChild = Arrays.copyOf(firstChild, n);
            nextSibling = Arrays.copyOf(nextSibling, n);
            label = Arrays.copyOf(label, n);
            firstToken = Arrays.copyOf(firstToken, n);
            Arrays.fill(firstChild, numNodes, n, -1);
            Arrays.fill(firstToken, numNodes, n, -1);
        }
        int c = numNodes++;
        label[c] = b;
        nextSibling[c] = firstChild[node];
        firstChild[node] = c;
        return c;
    }

    /**
     * Sets in {@code mask} the bit of every token whose bytes, from {@code state}, keep {@code dfa} alive.
     *
     * @return the number of tokens set
     */
    int allowed(ByteDfa dfa, int state, long[] mask, int maskBits) {
        int count = 0;
        int[] nodes = new int[256];
        int[] states = new int[256];
        int sp = 0;
        nodes[sp] = 0;
        states[sp++] = state;
        synchronized (dfa) {
            while (sp > 0) {
                int node = nodes[--sp];
                int st = states[sp];
                for (int c = childStart[node], end = childStart[node + 1]; c < end; c++) {
                    int next = dfa.stepHeld(st, nodeLabel[c]);
                    if (next == ByteDfa.DEAD) {
                        continue;
                    }
                    for (int t = nodeToken[c]; t >= 0; t = nextToken[t]) {
                        if (t < maskBits) {
                            mask[t >>> 6] |= 1L << t;
                            count++;
                        }
                    }
                    if (childStart[c + 1] > childStart[c]) {
                        if (sp == nodes.length) {
                            nodes = Arrays.copyOf(nodes, sp * 2);
                            states = Arrays.copyOf(states, sp * 2);
                        }
                        nodes[sp] = c;
                        states[sp++] = next;
                    }
                }
            }
        }
        return count;
    }

    int numNodes() {
        return numNodes;
    }
}
