package dev.ember.scheduler;

/** Where a {@link Sequence} is: queued for (re)admission, holding KV blocks in the running batch, or done. */
public enum SequenceStatus {
    /** In the waiting queue: new, or preempted (blocks freed, output kept, to be recomputed). */
    WAITING,
    /** Admitted: holds KV blocks and is scheduled in the following steps. */
    RUNNING,
    /** Done; {@link Sequence#finishReason()} says why. Holds no blocks. */
    FINISHED
}
