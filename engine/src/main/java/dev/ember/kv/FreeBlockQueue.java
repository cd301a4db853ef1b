package dev.ember.kv;

/**
 * The free blocks of a {@link BlockManager} in eviction order: the head is taken first. An intrusive
 * doubly-linked list over block ids (two int arrays), so push, pop and removing any block from the middle
 * (a prefix-cache hit on a free block) are all O(1) with no allocation. Not thread-safe.
 */
final class FreeBlockQueue {
    private static final int NONE = -1;

    private final int[] prev;
    private final int[] next;
    private final boolean[] queued;
    private int head = NONE;
    private int tail = NONE;
    private int size;

    /** A queue holding blocks 0..numBlocks-1 in id order. */
    FreeBlockQueue(int numBlocks) {
        prev = new int[numBlocks];
        next = new int[numBlocks];
        queued = new boolean[numBlocks];
        for (int b = 0; b < numBlocks; b++) {
            pushLast(b);
        }
    }

    int size() {
        return size;
    }

    boolean contains(int block) {
        return queued[block];
    }

    /** Removes and returns the head (the block to reuse next). */
    int popFirst() {
        if (head == NONE) {
            throw new IllegalStateException("no free KV block");
        }
        int b = head;
        remove(b);
        return b;
    }

    /** Queues a block to be reused last (a freed block that still holds reusable cache). */
    void pushLast(int block) {
        checkNotQueued(block);
        prev[block] = tail;
        next[block] = NONE;
        if (tail == NONE) {
            head = block;
        } else {
            next[tail] = block;
        }
        tail = block;
        queued[block] = true;
        size++;
    }

    /** Queues a block to be reused first (a freed block with nothing worth keeping). */
    void pushFirst(int block) {
        checkNotQueued(block);
        prev[block] = NONE;
        next[block] = head;
        if (head == NONE) {
            tail = block;
        } else {
            prev[head] = block;
        }
        head = block;
        queued[block] = true;
        size++;
    }

    void remove(int block) {
        if (!queued[block]) {
            throw new IllegalStateException("KV block " + block + " is not free");
        }
        int p = prev[block];
        int n = next[block];
        if (p == NONE) {
            head = n;
        } else {
            next[p] = n;
        }
        if (n == NONE) {
            tail = p;
        } else {
            prev[n] = p;
        }
        queued[block] = false;
        size--;
    }

    private void checkNotQueued(int block) {
        if (queued[block]) {
            throw new IllegalStateException("KV block " + block + " is already free");
        }
    }
}
