package dev.ember.backend.cuda;

import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.sampling.Sampler;
import dev.ember.sampling.SamplingParams;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Set;

/**
 * Sampling with {@link Sampler}'s exact semantics, on the GPU (sampling.cu): greedy, temperature, top-k, top-p
 * and min-p rows, with penalties and min_tokens masks applied as sparse edits; only the chosen tokens and
 * log-probabilities come back to the host. Used in two phases per step: {@link #plan} before the inputs are
 * uploaded (it writes each row's parameters there), {@link #sample} after the forward pass. Not thread-safe.
 */
final class GpuSampler implements AutoCloseable {
    private final Kernels kernels;
    private final Activations act;
    private final StepInputs in;
    private final CudaStream stream;
    private final int[] eosIds;
    private final int vocab;
    private final int maxSeqs;
    private final int multiprocessors;
    /** sampling.cu's SplitParts of split rows: (maxSeqs, MAX_SPLITS) of 32 bytes. */
    private final DeviceBuffer splitParts;
    /** Results of the last two launches, used in turn, each with the event recorded after its copy. */
    private final PinnedBuffer[] results = new PinnedBuffer[2];
    private final CUevent[] copied = new CUevent[2];
    private int nextSlot;
    private final int maskLongs; // 64-bit words per guided row (the kernel reads them as pairs of 32-bit words)
    private PinnedBuffer hostMasks;
    private DeviceBuffer deviceMasks;
    private DeviceBuffer penaltyEntries;
    // per-token scratch of penaltyEntries, valid where tokenStamps holds the current sequence's stamp
    private final int[] tokenStamps;
    private final int[] tokenCounts;
    private final int[] tokenFlags;
    private final int[] touched;
    private int stampCounter;

    /**
     * Per sequence: the token whose logits it needs (-1: none), its logits row (sampled sequences take rows
     * 0, 1, ... in order; -1: none) and its GPU sampler row (-1: sampled on the host, or not sampled); and whether
     * any GPU row asked for logprobs (only such rows need the softmax sum: sampling.cu).
     */
    record Plan(int[] logitTokenOf, int[] logitRowOf, int[] gpuIndexOf, int numLogitRows, int numGpuRows,
                boolean anyLogprobs) {
    }

    static final int MAX_SPLITS = 32;
    private static final int SPLIT_PART_BYTES = 32;

    GpuSampler(Kernels kernels, Activations act, StepInputs in, CudaStream stream, Set<Integer> eosTokenIds, int vocab,
               int maxSeqs) {
        this(kernels, act, in, stream, eosTokenIds, vocab, maxSeqs, 0);
    }

    /**
     * @param multiprocessors the GPU's SMs, which a small batch's one-pass rows are split to fill (see
     *                        {@link #splits}); 0: never split
     */
    GpuSampler(Kernels kernels, Activations act, StepInputs in, CudaStream stream, Set<Integer> eosTokenIds, int vocab,
               int maxSeqs, int multiprocessors) {
        this.kernels = kernels;
        this.act = act;
        this.in = in;
        this.stream = stream;
        this.eosIds = eosTokenIds.stream().mapToInt(Integer::intValue).sorted().toArray();
        this.vocab = vocab;
        this.maxSeqs = maxSeqs;
        this.multiprocessors = multiprocessors;
        this.tokenStamps = new int[vocab];
        this.tokenCounts = new int[vocab];
        this.tokenFlags = new int[vocab];
        this.touched = new int[vocab];
        this.maskLongs = (vocab + 63) >>> 6;
        this.splitParts = new DeviceBuffer((long) maxSeqs * MAX_SPLITS * SPLIT_PART_BYTES, "sampler split parts");
        try {
            for (int i = 0; i < 2; i++) {
                results[i] = new PinnedBuffer((long) maxSeqs * Activations.outputInts() * 4, "sampler outputs (host)");
                copied[i] = new CUevent();
                Cuda.check(JCudaDriver.cuEventCreate(copied[i], jcuda.driver.CUevent_flags.CU_EVENT_DISABLE_TIMING),
                        "cuEventCreate");
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Assigns logits rows (in sequence order) and writes the GPU rows' parameters into the step inputs. */
    Plan plan(ForwardBatch b) {
        int[] tokenOf = new int[b.numSeqs];
        int[] rowOf = new int[b.numSeqs];
        int[] gpuOf = new int[b.numSeqs];
        int rows = 0;
        int gpu = 0;
        int maskRows = 0;
        boolean anyLogprobs = false;
        int[] p = new int[StepInputs.SAMPLE_PARAM_INTS];
        for (int s = 0; s < b.numSeqs; s++) {
            gpuOf[s] = -1;
            if (!b.sample[s]) {
                tokenOf[s] = -1;
                rowOf[s] = -1;
                continue;
            }
            tokenOf[s] = b.queryStart[s + 1] - 1;
            rowOf[s] = rows;
            SamplingParams sp = b.params[s];
            long topP = Double.doubleToRawLongBits(sp.topP());
            p[0] = rows;
            p[1] = sp.greedy() ? 1 : 0;
            p[2] = Float.floatToRawIntBits((float) sp.temperature());
            p[3] = Float.floatToRawIntBits((float) sp.minP());
            p[4] = (int) b.seeds[s];
            p[5] = (int) (b.seeds[s] >>> 32);
            p[6] = b.outputIndex[s];
            p[7] = sp.logprobs();
            anyLogprobs |= sp.logprobs() > 0;
            p[8] = sp.topK() > 0 && sp.topK() < vocab ? sp.topK() : 0;
            p[9] = (int) topP;
            p[10] = (int) (topP >>> 32);
            p[11] = b.tokenMasks[s] != null ? maskRows++ : -1;
            in.writeSampleParams(gpu, p);
            gpuOf[s] = gpu++;
            rows++;
        }
        return new Plan(tokenOf, rowOf, gpuOf, rows, gpu, anyLogprobs);
    }

    /** Runs the penalties and the sampling kernel, then collects every sampled sequence's result. */
    StepOutput sample(ForwardBatch b, Plan plan) {
        return collect(b, plan, launch(b, plan));
    }

    /**
     * How many CTAs each one-pass row (greedy or plain temperature) of a batch of {@code rows} is split over: about
     * four CTAs of 256 threads per SM, at least 2 and at most {@value #MAX_SPLITS} a row (sampling.cu's "Split
     * rows"; the result is bit for bit the unsplit one). With few rows a CTA per row leaves SMs idle while each walks
     * the whole vocabulary; with many, sample_rows' 1,024-thread blocks fit one per SM by registers and run in
     * waves, where 256-thread chunks all fit at once.
     */
    static int splits(int rows, int multiprocessors) {
        if (multiprocessors <= 0 || rows <= 0) {
            return 1;
        }
        return Math.max(2, Math.min(MAX_SPLITS, (4 * multiprocessors + rows - 1) / rows));
    }

    /**
     * Enqueues the penalties, the sampling kernel and the copy of the results to the host; returns the result slot
     * for {@link #collect}. At most two launches may be uncollected.
     */
    int launch(ForwardBatch b, Plan plan) {
        long raw = act.logits.address();
        long work = raw;
        int[] entries = penaltyEntries(b, plan);
        if (entries.length > 0) {
            long bytes = (long) plan.numLogitRows() * vocab * 4;
            Cuda.check(JCudaDriver.cuMemcpyDtoDAsync(act.logitsWork.at(0), act.logits.at(0), bytes, stream.handle()),
                    "cuMemcpyDtoDAsync(logits)");
            ensurePenaltyCapacity(entries.length);
            penaltyEntries.upload(0, entries);
            work = act.logitsWork.address();
            kernels.applyPenalties(work, penaltyEntries.address(), entries.length / 8, vocab);
        }
        int n = plan.numGpuRows();
        long masks = uploadMasks(b, plan);
        long out = act.outputs.address();
        long topIds = out + 8L * maxSeqs;
        long topLps = topIds + 4L * maxSeqs * Kernels.MAX_TOP_LOGPROBS;
        long params = in.address(in.sampleParams);
        int splits = splits(n, multiprocessors);
        if (splits > 1) {
            kernels.sampleSplit(splitParts.address(), raw, work, params, masks, n, vocab, splits, plan.anyLogprobs());
        }
        kernels.sampleRows(out, out + 4L * maxSeqs, topIds, topLps, raw, work, params, masks, n, vocab,
                splitParts.address(), splits);
        int slot = nextSlot;
        nextSlot ^= 1;
        results[slot].copyFromDeviceAsync(0, act.outputs, 0, (long) maxSeqs * Activations.outputInts() * 4, stream);
        Cuda.check(JCudaDriver.cuEventRecord(copied[slot], stream.handle()), "cuEventRecord(sampler results)");
        return slot;
    }

    /** Waits for the launch's results (slot from {@link #launch}) and reads every sampled sequence's. */
    StepOutput collect(ForwardBatch b, Plan plan, int slot) {
        Cuda.check(JCudaDriver.cuEventSynchronize(copied[slot]), "cuEventSynchronize(sampler results)");

        int s = b.numSeqs;
        int[] tokens = new int[s];
        float[] logprobs = new float[s];
        int[][] topTokenIds = new int[s][];
        float[][] topLogprobs = new float[s][];
        Arrays.fill(tokens, -1);
        Arrays.fill(logprobs, Float.NaN);
        ByteBuffer r = results[slot].buffer();
        for (int i = 0; i < s; i++) {
            int row = plan.logitRowOf()[i];
            if (row < 0) {
                continue;
            }
            int g = plan.gpuIndexOf()[i];
            if (g >= 0) {
                tokens[i] = r.getInt(4 * g);
                logprobs[i] = r.getFloat(4 * (maxSeqs + g));
                int k = b.params[i].logprobs();
                if (k > 0 && tokens[i] >= 0) {
                    topTokenIds[i] = new int[k];
                    topLogprobs[i] = new float[k];
                    for (int j = 0; j < k; j++) {
                        topTokenIds[i][j] = r.getInt(4 * (2 * maxSeqs + g * Kernels.MAX_TOP_LOGPROBS + j));
                        topLogprobs[i][j] = r.getFloat(4 * (2 * maxSeqs + Kernels.MAX_TOP_LOGPROBS * maxSeqs
                                + g * Kernels.MAX_TOP_LOGPROBS + j));
                    }
                }
            }
        }
        return new StepOutput(tokens, logprobs, topTokenIds, topLogprobs);
    }

    /**
     * Packs the guided rows' masks (in GPU row order, as plan numbered them) into pinned memory and copies them to
     * the device in one async copy: ceil(vocab / 64) 64-bit words per guided row (little-endian, so word w of the
     * kernel's 32-bit view holds tokens 32w..32w+31), nothing for unconstrained rows. Returns
     * the device address, or 0 when no row is guided.
     */
    private long uploadMasks(ForwardBatch b, Plan plan) {
        int rows = 0;
        for (int s = 0; s < b.numSeqs; s++) {
            if (plan.gpuIndexOf()[s] >= 0 && b.tokenMasks[s] != null) {
                rows++;
            }
        }
        if (rows == 0) {
            return 0;
        }
        long bytes = 8L * maskLongs * rows;
        if (hostMasks == null || deviceMasks.sizeBytes() < bytes) {
            closeMasks();
            long capacity = Math.max(bytes, 8L * maskLongs * Math.min(maxSeqs, 16));
            hostMasks = new PinnedBuffer(capacity, "guided masks (host)");
            deviceMasks = new DeviceBuffer(capacity, "guided masks");
        }
        ByteBuffer h = hostMasks.buffer();
        int row = 0;
        for (int s = 0; s < b.numSeqs; s++) {
            if (plan.gpuIndexOf()[s] < 0 || b.tokenMasks[s] == null) {
                continue;
            }
            long[] bits = b.tokenMasks[s].bits();
            int base = 8 * maskLongs * row++;
            int n = Math.min(bits.length, maskLongs);
            h.position(base);
            h.asLongBuffer().put(bits, 0, n); // a bulk copy, no per-token work
            for (int w = n; w < maskLongs; w++) {
                h.putLong(base + 8 * w, 0L);
            }
        }
        h.position(0);
        hostMasks.copyToDeviceAsync(deviceMasks, 0, bytes, stream);
        return deviceMasks.address();
    }

    private void closeMasks() {
        try {
            if (hostMasks != null) {
                hostMasks.close();
            }
        } finally {
            if (deviceMasks != null) {
                deviceMasks.close();
            }
            hostMasks = null;
            deviceMasks = null;
        }
    }

    /**
     * Sparse edits for the GPU rows: one entry per distinct (row, token) seen in the history (repetition,
     * frequency and presence penalties) or masked by min_tokens. See sampling.cu for the layout. The distinct
     * tokens of a sequence are collected in vocabulary-sized scratch arrays stamped per sequence (no maps, no
     * clearing), since this runs for every penalized sequence on every step.
     */
    private int[] penaltyEntries(ForwardBatch b, Plan plan) {
        int[] out = new int[0];
        int n = 0;
        for (int s = 0; s < b.numSeqs; s++) {
            int thisRow = plan.logitRowOf()[s];
            if (thisRow < 0 || plan.gpuIndexOf()[s] < 0) {
                continue;
            }
            SamplingParams p = b.params[s];
            boolean penalize = p.repetitionPenalty() != 1 || p.frequencyPenalty() != 0 || p.presencePenalty() != 0;
            // min_tokens yields when the guided output is complete (only EOS allowed), as in Sampler
            boolean mask = b.outputIndex[s] < p.minTokens() && (b.tokenMasks[s] == null || !b.tokenMasks[s].endOnly());
            if (!penalize && !mask) {
                continue;
            }
            int stamp = nextStamp();
            int distinct = 0;
            if (penalize) {
                int end = b.numPromptTokens[s] + b.outputIndex[s];
                for (int i = 0; i < end; i++) {
                    int t = b.tokenHistory[s][i];
                    if (t < 0 || t >= vocab) {
                        continue;
                    }
                    distinct = touch(t, stamp, distinct);
                    tokenFlags[t] |= 1;
                    if (i >= b.numPromptTokens[s]) {
                        tokenCounts[t]++;
                    }
                }
            }
            if (mask) {
                for (int id : eosIds) {
                    if (id < vocab) {
                        distinct = touch(id, stamp, distinct);
                        tokenFlags[id] |= 2;
                    }
                }
                for (int id : p.stopTokenIds()) {
                    if (id < vocab) {
                        distinct = touch(id, stamp, distinct);
                        tokenFlags[id] |= 2;
                    }
                }
            }
            // a token penalized only because of min_tokens must not get the penalties
            float rp = penalize && p.repetitionPenalty() != 1 ? (float) p.repetitionPenalty() : 1f;
            if (out.length < 8 * (n + distinct)) {
                out = Arrays.copyOf(out, Math.max(2 * out.length, 8 * (n + distinct)));
            }
            for (int d = 0; d < distinct; d++) {
                int token = touched[d];
                int base = 8 * n++;
                int flags = tokenFlags[token];
                out[base] = thisRow;
                out[base + 1] = token;
                out[base + 2] = (flags & 1) != 0 ? tokenCounts[token] : 0;
                out[base + 3] = (flags & 1) != 0 && p.repetitionPenalty() != 1 ? flags : flags & 2;
                out[base + 4] = Float.floatToRawIntBits(rp);
                out[base + 5] = Float.floatToRawIntBits(p.frequencyPenalty() != 0 ? (float) p.frequencyPenalty() : 0f);
                out[base + 6] = Float.floatToRawIntBits(p.presencePenalty() != 0 ? (float) p.presencePenalty() : 0f);
                out[base + 7] = 0;
            }
        }
        return Arrays.copyOf(out, 8 * n);
    }

    /** Starts a new sequence's collection: a stamp no token carries yet. */
    private int nextStamp() {
        if (++stampCounter == Integer.MAX_VALUE) {
            Arrays.fill(tokenStamps, 0);
            stampCounter = 1;
        }
        return stampCounter;
    }

    /** Resets {@code token}'s scratch entry the first time this sequence sees it; returns the distinct count. */
    private int touch(int token, int stamp, int distinct) {
        if (tokenStamps[token] != stamp) {
            tokenStamps[token] = stamp;
            tokenCounts[token] = 0;
            tokenFlags[token] = 0;
            touched[distinct++] = token;
        }
        return distinct;
    }

    private void ensurePenaltyCapacity(int ints) {
        if (penaltyEntries == null || penaltyEntries.sizeBytes() < 4L * ints) {
            if (penaltyEntries != null) {
                penaltyEntries.close();
            }
            penaltyEntries = new DeviceBuffer(Math.max(4L * ints, 1 << 16), "penalty entries");
        }
    }

    @Override
    public void close() {
        try {
            if (penaltyEntries != null) {
                penaltyEntries.close();
            }
        } finally {
            try {
                closeMasks();
            } finally {
                for (int i = 0; i < 2; i++) {
                    if (results[i] != null) {
                        results[i].close();
                    }
                    if (copied[i] != null) {
                        JCudaDriver.cuEventDestroy(copied[i]);
                    }
                }
                splitParts.close();
            }
        }
    }
}
