package dev.ember.scheduler;

import dev.ember.LlmException;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.api.FinishReason;
import dev.ember.kv.BlockManager;
import dev.ember.kv.PrefixHit;
import dev.ember.sampling.SamplingParams;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The continuous batch: decides, step by step, which sequences run and which of their tokens, within
 * {@code maxNumSeqs} sequences and {@code maxNumBatchedTokens} new tokens per step.
 *
 * <p>Each {@link #schedule()} first gives every running sequence that has exactly one token to compute (a decode)
 * its token, oldest admission first; then continues running sequences whose prompt is only partly computed; then
 * admits waiting sequences in FIFO order while KV blocks, sequence slots and budget allow (the head of the queue is
 * never overtaken). A prompt longer than the budget left is split: its first chunk shares the step with the
 * decodes and the rest follows in later steps (chunked prefill). A token is sampled for a sequence only in the step
 * that computes the last of its known tokens. An admitted sequence first takes the longest cached run of its full
 * blocks from the prefix cache ({@link BlockManager}), so only the rest is computed.
 *
 * <p>A guided sequence samples only once the mask of its constraint's next state is built (on the constraint
 * cache's background pool, {@code TokenGuide#maskReady}): until then a decode sits steps out while the others run,
 * a prompt computes all but its last token, and an admission at the head of the queue waits. When nothing else can
 * run, {@link #schedule} returns null and {@link #maskWait} says when to try again.
 *
 * <p>When a running sequence needs a KV block and none is free, the most recently admitted running sequence is
 * preempted (possibly the one asking): its blocks are freed, it keeps its output and goes back to the front of
 * the waiting queue; on readmission it recomputes prompt and output so far (mostly from its own blocks, if they are
 * still cached) and sampling continues at the same output index. No waiting sequence is admitted in a step that
 * preempted. Requests are never dropped: the oldest running sequence always progresses, since every context fits
 * the whole cache (see {@link #add} and {@link #postprocess}).
 *
 * <p>Every {@link ScheduledBatch} must go through {@link #postprocess} before the next {@code schedule()}, unless
 * all its sequences were finished or aborted meanwhile (what an engine does when a step fails). Not thread-safe:
 * the engine's step-loop thread only.
 */
public final class Scheduler {
    private final BlockManager blockManager;
    private final int maxNumSeqs;
    private final int maxNumBatchedTokens;
    private final int maxModelLen;
    private final Set<Integer> eosTokenIds;

    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>(); // admission order
    private final Map<Long, Sequence> unfinished = new HashMap<>();
    private ScheduledBatch outstanding;
    /** A batch advanced before its tokens were known (see advance), and where each sequence's placeholder sits. */
    private ScheduledBatch ahead;
    private int[] aheadTokenIndex;
    private long numPreemptions;
    private long numCachedPromptTokens;
    /** The masks the last schedule() left sequences waiting for. */
    private final List<CompletableFuture<?>> maskWaits = new ArrayList<>();
    private TextStop textStop = TextStop.NONE;

    /**
     * @param blockManager        the KV block bookkeeping; this scheduler is its only user
     * @param maxNumSeqs          most running sequences (>= 1)
     * @param maxNumBatchedTokens most new tokens per step, prefill chunks and decodes together (>= 1)
     * @param maxModelLen         most tokens, prompt plus output, of one sequence (>= 2)
     * @param eosTokenIds         ids that end a sequence unless its params ignore EOS
     */
    public Scheduler(BlockManager blockManager, int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen,
                     Set<Integer> eosTokenIds) {
        this.blockManager = Objects.requireNonNull(blockManager, "blockManager");
        if (maxNumSeqs < 1) {
            throw new IllegalArgumentException("maxNumSeqs is " + maxNumSeqs + "; expected >= 1");
        }
        if (maxNumBatchedTokens < 1) {
            throw new IllegalArgumentException("maxNumBatchedTokens is " + maxNumBatchedTokens + "; expected >= 1");
        }
        if (maxModelLen < 2) {
            throw new IllegalArgumentException("maxModelLen is " + maxModelLen + "; expected >= 2 (a prompt token and an output token)");
        }
        this.maxNumSeqs = maxNumSeqs;
        this.maxNumBatchedTokens = maxNumBatchedTokens;
        this.maxModelLen = maxModelLen;
        this.eosTokenIds = Set.copyOf(Objects.requireNonNull(eosTokenIds, "eosTokenIds"));
    }

    /**
     * Queues a new sequence at the back of the waiting queue.
     *
     * @throws LlmException if its prompt cannot be run: {@code maxModelLen} or more tokens (no room for output), or
     *                      more tokens than the whole KV cache holds ({@link BlockManager#capacityTokens()}). The
     *                      engine checks prompt plus max_tokens against both before it gets here.
     */
    public void add(Sequence seq) {
        Objects.requireNonNull(seq, "seq");
        if (seq.status() != SequenceStatus.WAITING || seq.numOutputTokens() != 0 || seq.numCachedTokens() != 0) {
            throw new IllegalArgumentException("only a new sequence can be added; got " + seq);
        }
        if (unfinished.containsKey(seq.seqId())) {
            throw new IllegalArgumentException("sequence id " + seq.seqId() + " is already scheduled");
        }
        if (seq.numPromptTokens() >= maxModelLen) {
            throw new LlmException("sequence " + seq.seqId() + " has a prompt of " + seq.numPromptTokens()
                    + " tokens; max_model_len is " + maxModelLen + ", so a prompt may have at most " + (maxModelLen - 1));
        }
        if (seq.numPromptTokens() > blockManager.capacityTokens()) {
            throw new LlmException("sequence " + seq.seqId() + " has a prompt of " + seq.numPromptTokens()
                    + " tokens; the KV cache holds only " + blockManager.capacityTokens() + " ("
                    + blockManager.numBlocks() + " blocks of " + blockManager.blockSize() + "); give it more blocks");
        }
        unfinished.put(seq.seqId(), seq);
        waiting.addLast(seq);
    }

    public boolean hasUnfinished() {
        return !unfinished.isEmpty();
    }

    /**
     * Plans the next step and reserves its KV slots: decodes, then prefill chunks of running sequences, then (unless
     * this step preempted) admissions.
     *
     * @return the step, or null exactly when no sequence is unfinished, or (while a batch is advanced ahead) when
     *         every unfinished sequence still waits for that batch's tokens, or when every sequence that could run
     *         waits for its constraint's next mask ({@link #maskWait})
     * @throws IllegalStateException if the previous batch was not postprocessed and still has unfinished sequences
     */
    public ScheduledBatch schedule() {
        checkOutstandingDone();
        maskWaits.clear();
        StepPlan plan = new StepPlan(maxNumBatchedTokens);
        scheduleRunning(plan, true);
        scheduleRunning(plan, false);
        if (!plan.preempted) {
            admitWaiting(plan);
        }
        List<Sequence> planned = plan.seqs;
        if (planned.isEmpty()) {
            if (hasUnfinished() && ahead == null && maskWaits.isEmpty()) {
                // cannot happen: the oldest running or the waiting head always fits
                throw new IllegalStateException("scheduler could not run any of " + running.size() + " running and "
                        + waiting.size() + " waiting sequences with " + blockManager.numFreeBlocks() + " free blocks");
            }
            return null;
        }
        outstanding = new ScheduledBatch(planned, BatchBuilder.build(planned, blockManager.blockSize()));
        return outstanding;
    }

    /**
     * Completes when one of the masks the last {@link #schedule} left sequences waiting for is built (at once when it
     * left none): a step loop that got no step waits on it, briefly, before scheduling again.
     */
    public CompletableFuture<?> maskWait() {
        return maskWaits.isEmpty() ? CompletableFuture.completedFuture(null)
                : CompletableFuture.anyOf(maskWaits.toArray(new CompletableFuture<?>[0]));
    }

    /** Whether the last {@link #schedule} left a sequence out because its next mask was not built yet. */
    public boolean waitsForMasks() {
        return !maskWaits.isEmpty();
    }

    /**
     * Whether {@code seq} may sample now: unconstrained, or its next mask is built. Otherwise its build is under way
     * and noted for {@link #maskWait}.
     */
    private boolean maskReady(Sequence seq) {
        if (seq.guide() == null || seq.guide().maskReady()) {
            return true;
        }
        maskWaits.add(seq.guide().maskBuilt());
        return false;
    }

    /**
     * Takes in a step's results: the computed tokens count as cached (full blocks enter the prefix cache), each
     * sampled sequence gets its token appended and is checked for its end. A sequence ends with
     * {@link FinishReason#STOP} on an EOS id (unless its params ignore EOS) or one of its stop token ids, once it has
     * at least min_tokens earlier tokens (a guided sequence at once: see {@link #finishReason}); else with
     * {@link FinishReason#LENGTH} at max_tokens output tokens, at {@code maxModelLen} tokens, or when its next token
     * could not be computed because its context would exceed the whole KV cache. Finished sequences free their
     * blocks and leave the batch. Sequences finished or aborted since {@code schedule()} are skipped.
     *
     * @return the sequences that got a token this step, finished or not, in batch order
     */
    public List<Sequence> postprocess(ScheduledBatch batch, StepOutput out) {
        if (batch == null || batch != outstanding) {
            throw new IllegalStateException("postprocess takes the batch of the last schedule(), once");
        }
        outstanding = null;
        ForwardBatch fb = outputOf(batch, out);
        List<Sequence> sampled = new ArrayList<>();
        for (int s = 0; s < fb.numSeqs; s++) {
            Sequence seq = batch.sequences().get(s);
            seq.setNumScheduledTokens(0);
            if (seq.isFinished()) {
                continue;
            }
            seq.setNumCachedTokens(seq.numCachedTokens() + fb.queryLen(s));
            blockManager.commit(seq.blockTable(), seq.tokenArray(), seq.numCachedTokens());
            if (!fb.sample[s]) {
                continue;
            }
            takeToken(seq, out.tokens()[s], -1);
            sampled.add(seq);
        }
        return sampled;
    }

    /**
     * Gives the sequence its sampled token (appended, or in place of its run-ahead placeholder at {@code index} when
     * that is >= 0) and ends it if the token does.
     */
    private void takeToken(Sequence seq, int token, int index) {
        if (token < 0) {
            throw new IllegalStateException("backend sampled no token for sequence " + seq.seqId() + " though asked");
        }
        if (index >= 0) {
            seq.setTokenAt(index, token);
        } else {
            seq.appendToken(token);
        }
        FinishReason reason = finishReason(seq, token);
        if (reason != null) {
            finish(seq, reason);
        }
    }

    /**
     * Whether the step after {@code batch} (the last scheduled, not yet postprocessed) may be planned before
     * {@code batch}'s tokens are known: a pure decode step of every running sequence, nothing waiting, room for a new
     * block for each (so planning ahead never preempts), and no sequence whose next sampling needs the token just
     * sampled on the host (repetition, frequency or presence penalties, a min_tokens mask, or a guided constraint,
     * whose next mask follows that token).
     */
    public boolean canRunAhead(ScheduledBatch batch) {
        if (batch == null || batch != outstanding || !waiting.isEmpty()) {
            return false;
        }
        ForwardBatch fb = batch.forwardBatch();
        if (!fb.isDecodeOnly() || fb.numSeqs != running.size() || blockManager.numFreeBlocks() < running.size()) {
            return false;
        }
        for (int s = 0; s < fb.numSeqs; s++) {
            Sequence seq = batch.sequences().get(s);
            SamplingParams p = seq.params();
            if (seq.isFinished() || !fb.sample[s] || seq.guide() != null || p.repetitionPenalty() != 1
                    || p.frequencyPenalty() != 0
                    || p.presencePenalty() != 0 || seq.numOutputTokens() + 1 < p.minTokens()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The first half of {@link #postprocess} for a batch whose tokens are not known yet ({@link #canRunAhead} must
     * hold): its tokens count as computed, and each sequence gets the placeholder token {@code -(s + 1)} (s: its
     * index in the batch; the backend resolves it on the device), unless this token ends it by length, in which case
     * it takes no part in the next step. {@link #schedule} may then plan the next step; {@link #resolve} finishes this
     * one.
     */
    public void advance(ScheduledBatch batch) {
        if (!canRunAhead(batch)) {
            throw new IllegalStateException("advance takes the last scheduled batch, when canRunAhead holds");
        }
        outstanding = null;
        ForwardBatch fb = batch.forwardBatch();
        int[] index = new int[fb.numSeqs];
        for (int s = 0; s < fb.numSeqs; s++) {
            Sequence seq = batch.sequences().get(s);
            seq.setNumScheduledTokens(0);
            seq.setNumCachedTokens(seq.numCachedTokens() + fb.queryLen(s));
            blockManager.commit(seq.blockTable(), seq.tokenArray(), seq.numCachedTokens());
            if (reachesLength(seq, 1)) {
                index[s] = -1;
            } else {
                seq.appendToken(-(s + 1));
                index[s] = seq.numTokens() - 1;
            }
        }
        ahead = batch;
        aheadTokenIndex = index;
    }

    /**
     * The second half of {@link #postprocess} for a batch that went through {@link #advance}: each sequence's real
     * token replaces its placeholder and is checked for the end, exactly as postprocess would have done.
     *
     * @return the sequences that got a token this step, finished or not, in batch order
     */
    public List<Sequence> resolve(ScheduledBatch batch, StepOutput out) {
        if (batch == null || batch != ahead) {
            throw new IllegalStateException("resolve takes the batch of the last advance(), once");
        }
        ahead = null;
        ForwardBatch fb = outputOf(batch, out);
        List<Sequence> sampled = new ArrayList<>();
        for (int s = 0; s < fb.numSeqs; s++) {
            Sequence seq = batch.sequences().get(s);
            if (seq.isFinished()) {
                continue;
            }
            takeToken(seq, out.tokens()[s], aheadTokenIndex[s]);
            sampled.add(seq);
        }
        return sampled;
    }

    /** The batch's ForwardBatch, once the step output is checked to have one token slot per sequence. */
    private static ForwardBatch outputOf(ScheduledBatch batch, StepOutput out) {
        ForwardBatch fb = batch.forwardBatch();
        if (out.tokens().length != fb.numSeqs) {
            throw new IllegalStateException("step output has " + out.tokens().length + " tokens for " + fb.numSeqs + " sequences");
        }
        return fb;
    }

    /**
     * Whether the sequence, with {@code more} tokens beyond its current ones, is at its length limit: max_tokens
     * output tokens, {@code maxModelLen} tokens, or a context the whole KV cache cannot hold.
     */
    private boolean reachesLength(Sequence seq, int more) {
        return seq.numOutputTokens() + more >= seq.params().maxTokens() || seq.numTokens() + more >= maxModelLen
                || seq.numTokens() + more > blockManager.capacityTokens();
    }

    /**
     * Ends a waiting or running sequence (e.g. the engine matched a stop string, or its step failed) and frees its
     * blocks; a no-op if it already finished, so a sequence finishes exactly once with its first reason.
     */
    public void finish(Sequence seq, FinishReason reason) {
        Objects.requireNonNull(reason, "reason");
        if (seq.isFinished()) {
            return;
        }
        if (unfinished.get(seq.seqId()) != seq) {
            throw new IllegalArgumentException("sequence " + seq.seqId() + " was not added to this scheduler");
        }
        if (seq.status() == SequenceStatus.RUNNING) {
            running.remove(seq);
        } else {
            waiting.remove(seq);
        }
        blockManager.free(seq.blockTable());
        seq.finish(reason);
        unfinished.remove(seq.seqId());
    }

    /**
     * Finishes the sequence with {@link FinishReason#ABORT} wherever it is and frees its blocks; false if no
     * unfinished sequence has the id. The caller reports it: {@link #postprocess} will not return it, even when it
     * was in the batch being run.
     */
    public boolean abort(long seqId) {
        Sequence seq = unfinished.get(seqId);
        if (seq == null) {
            return false;
        }
        finish(seq, FinishReason.ABORT);
        return true;
    }

    public int numRunning() {
        return running.size();
    }

    public int numWaiting() {
        return waiting.size();
    }

    /** Times a running sequence was preempted (its blocks freed, to be recomputed). */
    public long numPreemptions() {
        return numPreemptions;
    }

    /**
     * Prompt tokens taken from the prefix cache instead of computed, so far, at each sequence's first admission
     * (so at most its prompt length minus one); hits of preempted sequences readmitted onto their own still-cached
     * blocks are not counted. Divided by the prompt tokens added, it is the prefix-cache hit rate.
     */
    public long numCachedPromptTokens() {
        return numCachedPromptTokens;
    }

    public BlockManager blockManager() {
        return blockManager;
    }

    /** Schedules the running sequences with one token left to compute (decodes), or the others (prefill chunks). */
    private void scheduleRunning(StepPlan plan, boolean decodes) {
        for (int i = 0; i < running.size() && plan.budget > 0; i++) {
            Sequence seq = running.get(i);
            int remaining = seq.numTokens() - seq.numCachedTokens();
            if (remaining == 0) {
                continue; // advanced ahead with its last token still to come (see advance)
            }
            if ((remaining == 1) != decodes) {
                continue;
            }
            int n = Math.min(remaining, plan.budget);
            if (n == remaining && !maskReady(seq)) {
                if (n == 1) {
                    continue; // a decode whose mask is being built: the others run without it
                }
                n--; // the prompt's last token waits with the sampling
            }
            int target = seq.numCachedTokens() + n;
            while (!blockManager.canAppend(seq.blockTable(), target)) {
                Sequence victim = running.get(running.size() - 1);
                preempt(victim);
                plan.preempted = true;
                plan.drop(victim);
                if (victim == seq) {
                    return; // it was the newest left, so no running sequence after it remains
                }
            }
            blockManager.append(seq.blockTable(), target);
            plan.add(seq, n);
        }
    }

    /** Admits waiting sequences in FIFO order while the head fits (sequence slots, budget, KV blocks). */
    private void admitWaiting(StepPlan plan) {
        while (plan.budget > 0 && running.size() < maxNumSeqs && !waiting.isEmpty()) {
            Sequence seq = waiting.peekFirst();
            PrefixHit hit = blockManager.lookup(seq.tokenArray(), seq.numTokens());
            int hitTokens = hit.numBlocks() * blockManager.blockSize();
            int n = Math.min(seq.numTokens() - hitTokens, plan.budget);
            if (hitTokens + n == seq.numTokens() && !maskReady(seq)) {
                if (n == 1) {
                    return; // nothing to compute before its sampling: it is admitted once its mask is built
                }
                n--;
            }
            if (!blockManager.canAllocate(hit, hitTokens + n)) {
                return;
            }
            waiting.pollFirst();
            blockManager.allocate(seq.blockTable(), hit, hitTokens + n);
            seq.setNumCachedTokens(hitTokens);
            if (!seq.wasAdmitted()) {
                numCachedPromptTokens += hitTokens; // a readmission's hits are mostly its own blocks: not counted
                seq.markAdmitted();
            }
            seq.setStatus(SequenceStatus.RUNNING);
            running.add(seq);
            plan.add(seq, n);
        }
    }

    private void preempt(Sequence seq) {
        running.remove(seq);
        blockManager.free(seq.blockTable());
        seq.setNumCachedTokens(0);
        seq.setStatus(SequenceStatus.WAITING);
        waiting.addFirst(seq);
        numPreemptions++;
    }

    /**
     * Why the token just appended ends the sequence, or null: the one place where a token's finish reason is decided,
     * in this order — {@link FinishReason#STOP} for EOS (unless ignore_eos) or a stop id once min_tokens tokens are
     * out (the sampler suppresses them before that), or at once on a guided row (its sampler draws EOS before
     * min_tokens only when the output is complete); STOP when the text reached a stop string ({@link TextStop}, which
     * waits for min_tokens too; the string wins over a length limit reached by the same token);
     * {@link FinishReason#LENGTH} at max_tokens, at {@code maxModelLen} tokens, or when the next token's context would
     * exceed the whole KV cache. The other two reasons come from outside a token: {@link FinishReason#ERROR} for a
     * row the backend drew no token for (the engine's step loop) and {@link FinishReason#ABORT} ({@link #abort}).
     */
    private FinishReason finishReason(Sequence seq, int token) {
        SamplingParams p = seq.params();
        // the sampler masks EOS and stop ids until min_tokens, except on a guided row whose constraint allows only
        // EOS (its output is complete): such an EOS ends it, or it would draw EOS again until min_tokens
        boolean stopAllowed = seq.numOutputTokens() > p.minTokens() || seq.guide() != null;
        if (stopAllowed && ((!p.ignoreEos() && eosTokenIds.contains(token)) || p.stopTokenIds().contains(token))) {
            return FinishReason.STOP;
        }
        boolean byLength = reachesLength(seq, 0);
        if (textStop.reached(seq, byLength)) {
            return FinishReason.STOP;
        }
        return byLength ? FinishReason.LENGTH : null;
    }

    /**
     * Whether a sequence's text, with the token just appended, reached one of its stop strings: the engine keeps the
     * text (its detokenizer), the scheduler asks once per token that no token stop ended.
     */
    @FunctionalInterface
    public interface TextStop {
        TextStop NONE = (seq, last) -> false;

        /** @param last the token ends the sequence by length unless a stop string does (the text is complete) */
        boolean reached(Sequence seq, boolean last);
    }

    /** Sets how stop strings are matched (default: never). */
    public void setTextStop(TextStop textStop) {
        this.textStop = Objects.requireNonNull(textStop, "textStop");
    }

    private void checkOutstandingDone() {
        if (outstanding == null) {
            return;
        }
        for (Sequence seq : outstanding.sequences()) {
            if (!seq.isFinished()) {
                throw new IllegalStateException("the previous batch was not postprocessed; its sequence " + seq.seqId() + " is unfinished");
            }
        }
        for (Sequence seq : outstanding.sequences()) {
            seq.setNumScheduledTokens(0);
        }
        outstanding = null;
    }

    /** The step being planned: its sequences in batch order, the token budget left, whether it preempted. */
    private static final class StepPlan {
        final List<Sequence> seqs = new ArrayList<>();
        int budget;
        boolean preempted;

        StepPlan(int budget) {
            this.budget = budget;
        }

        void add(Sequence seq, int numTokens) {
            seq.setNumScheduledTokens(numTokens);
            seqs.add(seq);
            budget -= numTokens;
        }

        /** Takes a preempted sequence out again if it was already planned. */
        void drop(Sequence seq) {
            if (seq.numScheduledTokens() > 0) {
                seqs.remove(seq);
                budget += seq.numScheduledTokens();
                seq.setNumScheduledTokens(0);
            }
        }
    }
}
