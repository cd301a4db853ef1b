package dev.ember.backend.cuda;

import dev.ember.weights.DType;

/**
 * Java launchers of Ember's CUDA kernels for one storage dtype (each launcher's kernel is documented in the
 * header of its .cu file under engine/src/main/cuda). Pointers are device addresses; arguments are ordered
 * outputs, inputs, sizes; every launch goes to the engine's stream and is checked. Not thread-safe.
 */
final class Kernels {
    /** Most dynamic shared memory a decode-attention block may use: fits every GPU from sm_80 on. */
    static final int DECODE_SHARED_LIMIT = 96 * 1024;
    static final int MAX_TOP_LOGPROBS = 20;
    /**
     * attention_paged.cu's launch shapes: decode blocks of 4 warps, prefill blocks of 8 warps of 16 query rows each
     * (paged::PREFILL_WARPS: a K/V tile serves 128 query rows), key tiles of 64, decode pipeline depth.
     */
    static final int TC_THREADS = 128;
    static final int TC_PREFILL_THREADS = 256;
    static final int TC_PREFILL_ROWS = TC_PREFILL_THREADS / 32 * 16;
    static final int TC_KEYS = 64;
    static final int TC_DECODE_STAGES = 2;

    private final KernelModule module;
    /** The sm_90a module of {@link WgmmaPrefill} (owned by the caller), or null: attn_prefill_tc everywhere. */
    private final KernelModule wgmma;
    private final CudaStream stream;
    private final DType dtype;
    private final String suffix;

    Kernels(KernelModule module, CudaStream stream, DType dtype) {
        this(module, null, stream, dtype);
    }

    /** @param wgmma {@link WgmmaPrefill}'s module where it was loaded, else null */
    Kernels(KernelModule module, KernelModule wgmma, CudaStream stream, DType dtype) {
        this.module = module;
        this.wgmma = wgmma;
        this.stream = stream;
        this.dtype = dtype;
        this.suffix = suffix(dtype);
        for (int hd : new int[] {64, 128}) {
            if (tensorCoreAttention()) {
                module.allowDynamicSharedMemory("attn_prefill_tc_hd" + hd + "_" + suffix, prefillSharedBytes(hd));
                module.allowDynamicSharedMemory("attn_decode_tc_hd" + hd + "_" + suffix, decodeSharedBytes(hd));
                module.allowDynamicSharedMemory("attn_decode_tc_rope_hd" + hd + "_" + suffix, decodeSharedBytes(hd));
            } else {
                module.allowDynamicSharedMemory("attn_decode_hd" + hd + "_" + suffix, DECODE_SHARED_LIMIT);
            }
        }
        if (wgmma != null && WgmmaPrefill.handles(dtype, WgmmaPrefill.HEAD_DIM)) {
            wgmma.allowDynamicSharedMemory(WgmmaPrefill.KERNEL, WgmmaPrefill.SHARED_BYTES);
            // two blocks a SM only fit when the SM gives shared memory all it can (the L1 keeps what is left)
            wgmma.preferMaxSharedMemory(WgmmaPrefill.KERNEL);
        }
    }

    static String suffix(DType dtype) {
        return switch (dtype) {
            case F32 -> "f32";
            case BF16 -> "bf16";
            case F16 -> "f16";
        };
    }

    CudaStream stream() {
        return stream;
    }

    /** out (rows, hidden) = table[ids[r]]; an id -(r + 1) takes prev[r] (the previous step's sampled token; 0: none). */
    void embed(long out, long table, long ids, long prev, int rows, int vocab, int hidden) {
        module.launch("embed_" + suffix, rows, 1, 1, 256, 0, stream, out, table, ids, prev, vocab, hidden);
    }

    /** out (rows, width) = in[rowIds[r]]. */
    void gatherRows(long out, long in, long rowIds, int rows, int width) {
        module.launch("gather_rows_" + suffix, rows, 1, 1, 256, 0, stream, out, in, rowIds, width);
    }

    /** residual = (accumulate ? residual + in : in) in float32; out = rmsnorm(residual) * weight. */
    void addRmsNorm(long out, long residual, long in, long weight, float eps, int rows, int hidden, boolean accumulate) {
        // rmsnorm.cu's vector path: 8 columns a thread, at most 4 chunks a thread
        int threads = hidden % 8 == 0 && hidden <= 8 * 4 * 256 ? 256 : 512;
        module.launch("add_rmsnorm_" + suffix, rows, 1, 1, threads, 0, stream, out, residual, in, weight, eps, hidden,
                accumulate ? 1 : 0);
    }

    /** Bias, q/k norm, RoPE and the K/V store for {@code tokens} rows of the fused QKV output. bias/norms may be 0. */
    void ropeStore(long qOut, long kCache, long vCache, long qkv, long bias, long qNorm, long kNorm, long positions,
                   long slots, long invFreq, int tokens, int numHeads, int numKvHeads, int headDim, int blockSize, float eps) {
        module.launch("rope_store_" + suffix, tokens, 1, 1, ropeThreads(numHeads, numKvHeads, tokens), 0, stream, qOut, kCache, vCache, qkv, bias, qNorm, kNorm,
                positions, slots, invFreq, numHeads, numKvHeads, headDim, blockSize, eps);
    }

    static final int ROPE_WARP_PER_HEAD_TOKENS = 1024;

    /**
     * rope_store's block (rope.cu): for a decode-sized step a warp per head (q, k and v heads, at most 1,024 threads),
     * so a token's heads load in one round trip (16-256 tokens: 3.5-4.0 against 5.9-6.3 us with 4 warps, H100);
     * above {@value #ROPE_WARP_PER_HEAD_TOKENS} tokens, 4 warps, which the many blocks of a prefill chunk keep busy
     * anyway (8,192 tokens: 42 against 52 us; about even at 1,024-2,048).
     */
    static int ropeThreads(int numHeads, int numKvHeads, int tokens) {
        return tokens <= ROPE_WARP_PER_HEAD_TOKENS ? 32 * Math.min(32, numHeads + 2 * numKvHeads) : 128;
    }

    /** out (rows, inter) = silu(gate) * up over gateUp (rows, 2 * inter). */
    void siluMul(long out, long gateUp, int rows, int inter) {
        long total = (long) rows * inter;
        if (inter % 8 == 0 && rows <= 65535) { // activation.cu's vector path: one row per grid row, 8 columns a thread
            module.launch("silu_mul_" + suffix, (inter / 8 + 255) / 256, rows, 1, 256, 0, stream, out, gateUp, inter, total);
        } else {
            int grid = (int) Math.min((total + 255) / 256, 65535L * 16);
            module.launch("silu_mul_" + suffix, grid, 1, 1, 256, 0, stream, out, gateUp, inter, total);
        }
    }

    /**
     * Whether attention runs on tensor cores (attention_paged.cu: 16-bit dtypes) or on CUDA cores
     * (attention_prefill.cu / attention_decode.cu: float32, whose parity with transformers is held to 2e-6).
     */
    boolean tensorCoreAttention() {
        return tensorCoreAttention(dtype);
    }

    static boolean tensorCoreAttention(DType dtype) {
        return dtype != DType.F32;
    }

    /** Query tokens per prefill tile: the tensor-core kernel packs 128 (token, head) rows of one KV head's group. */
    static int prefillTileTokens(DType dtype, int group) {
        return dtype == DType.F32 ? 16 : TC_PREFILL_ROWS / group;
    }

    /**
     * Query tokens per prefill tile of the kernel {@link #attnPrefill} launches at this head dim: attn_prefill_wgmma
     * takes {@value WgmmaPrefill#ROWS} rows a tile, the others as {@link #prefillTileTokens(DType, int)}.
     */
    int prefillTileTokens(int headDim, int group) {
        return usesWgmmaPrefill(headDim) ? WgmmaPrefill.ROWS / group : prefillTileTokens(dtype, group);
    }

    /**
     * Causal attention of the query tiles (tiles: (n, 3) ints of sequence, first token, count <=
     * {@link #prefillTileTokens(int, int)}). Runs attn_prefill_wgmma where {@link WgmmaPrefill}'s module was given and covers
     * the dtype and head dim, on the same tiles.
     */
    void attnPrefill(long out, long q, long kCache, long vCache, long tiles, int numTiles, long queryStart,
                     long contextLens, long blockTables, int btStride, int numHeads, int numKvHeads, int headDim,
                     int blockSize, float scale) {
        if (usesWgmmaPrefill(headDim)) {
            // the same stream as every other launch, so it stays ordered with rope_store and the projections
            wgmma.launch(WgmmaPrefill.KERNEL, numTiles, numKvHeads, 1, WgmmaPrefill.THREADS, WgmmaPrefill.SHARED_BYTES,
                    stream, out, q, kCache, vCache, tiles, queryStart, contextLens, blockTables, btStride, numHeads,
                    numKvHeads, blockSize, scale);
        } else if (tensorCoreAttention()) {
            module.launch("attn_prefill_tc_hd" + headDim + "_" + suffix, numTiles, numKvHeads, 1, TC_PREFILL_THREADS,
                    prefillSharedBytes(headDim), stream, out, q, kCache, vCache, tiles, queryStart, contextLens,
                    blockTables, btStride, numHeads, numKvHeads, blockSize, scale);
        } else {
            module.launch("attn_prefill_hd" + headDim + "_" + suffix, numTiles, numHeads, 1, 128, 0, stream, out, q,
                    kCache, vCache, tiles, queryStart, contextLens, blockTables, btStride, numHeads, numKvHeads,
                    blockSize, scale);
        }
    }

    boolean usesWgmmaPrefill(int headDim) {
        return wgmma != null && WgmmaPrefill.handles(dtype, headDim);
    }

    /** The kernel {@link #attnPrefill} launches at this head dim, for the start log. */
    String prefillKernel(int headDim) {
        if (usesWgmmaPrefill(headDim)) {
            return WgmmaPrefill.KERNEL;
        }
        return (tensorCoreAttention() ? "attn_prefill_tc_hd" : "attn_prefill_hd") + headDim + "_" + suffix;
    }

    /** Decode attention for {@code seqs} single-token queries, split into {@code numSplits} partitions of the context. */
    void attnDecode(long out, long partAcc, long partMl, long q, long kCache, long vCache, long contextLens,
                    long blockTables, int btStride, int seqs, int numHeads, int numKvHeads, int headDim, int blockSize,
                    float scale, int partition, int numSplits) {
        if (tensorCoreAttention()) {
            module.launch("attn_decode_tc_hd" + headDim + "_" + suffix, numKvHeads, seqs, numSplits, TC_THREADS,
                    decodeSharedBytes(headDim), stream, out, partAcc, partMl, q, kCache, vCache, contextLens,
                    blockTables, btStride, numHeads, numKvHeads, blockSize, scale, partition, numSplits);
        } else {
            int group = numHeads / numKvHeads;
            module.launch("attn_decode_hd" + headDim + "_" + suffix, numKvHeads, seqs, numSplits, 128,
                    4 * group * (headDim + partition), stream, out, partAcc, partMl, q, kCache, vCache, contextLens,
                    blockTables, btStride, numHeads, numKvHeads, blockSize, scale, partition, numSplits);
        }
        reduceSplits(out, partAcc, partMl, contextLens, seqs, numHeads, headDim, partition, numSplits);
    }

    /**
     * {@link #ropeStore} and {@link #attnDecode} in one kernel (attn_decode_tc_rope, tensor-core dtypes only) for a
     * pure decode step: token s of {@code qkv} is sequence s's new token, the last key of its context. The K/V store
     * happens inside the kernel (slots of -1 store nothing); the attention output, caches and bits are those of the
     * two launches, but no q is written. bias/norms may be 0.
     */
    void attnDecodeRope(long out, long partAcc, long partMl, long kCache, long vCache, long qkv, long bias, long qNorm,
                        long kNorm, long positions, long slots, long invFreq, long contextLens, long blockTables,
                        int btStride, int seqs, int numHeads, int numKvHeads, int headDim, int blockSize, float scale,
                        int partition, int numSplits, float eps) {
        if (!tensorCoreAttention()) {
            throw new IllegalStateException("attn_decode_tc_rope has no " + dtype + " kernel; use ropeStore and attnDecode");
        }
        module.launch("attn_decode_tc_rope_hd" + headDim + "_" + suffix, numKvHeads, seqs, numSplits, TC_THREADS,
                decodeSharedBytes(headDim), stream, out, partAcc, partMl, kCache, vCache, qkv, bias, qNorm, kNorm,
                positions, slots, invFreq, contextLens, blockTables, btStride, numHeads, numKvHeads, blockSize, scale,
                partition, numSplits, eps);
        reduceSplits(out, partAcc, partMl, contextLens, seqs, numHeads, headDim, partition, numSplits);
    }

    private void reduceSplits(long out, long partAcc, long partMl, long contextLens, int seqs, int numHeads, int headDim,
                              int partition, int numSplits) {
        if (numSplits > 1) {
            module.launch("attn_decode_reduce_" + suffix, numHeads, seqs, 1, headDim, 0, stream, out, partAcc, partMl,
                    contextLens, numHeads, headDim, numSplits, partition);
        }
    }

    /**
     * The largest decode partition the kernel for this dtype takes: the float32 kernel keeps a partition's scores
     * in shared memory; the tensor-core kernel streams keys and has no limit.
     */
    static int maxDecodePartition(DType dtype, int group, int headDim) {
        return dtype == DType.F32 ? (DECODE_SHARED_LIMIT / (4 * group) - headDim) / 128 * 128 : 1 << 24;
    }

    /** Dynamic shared memory of attn_prefill_tc (paged:: constants in attention_paged.cu): Q rows and 2 K/V stages. */
    static int prefillSharedBytes(int headDim) {
        return (TC_PREFILL_ROWS + 2 * 2 * TC_KEYS) * headDim * 2;
    }

    /** Dynamic shared memory of attn_decode_tc: 16 Q rows and DECODE_STAGES K/V stages. */
    static int decodeSharedBytes(int headDim) {
        return (16 + TC_DECODE_STAGES * 2 * TC_KEYS) * headDim * 2;
    }

    /** Adds the number of NaN and infinite elements of {@code data} (n elements of the dtype) to the u64 at {@code count}. */
    void countNonFinite(long count, long data, long n) {
        int grid = (int) Math.min((n + 255) / 256, 8192);
        module.launch("count_nonfinite_" + suffix, grid, 1, 1, 256, 0, stream, count, data, n);
    }

    /** Applies {@code n} sparse penalty entries ((n, 8) ints, see sampling.cu) to float logits in place. */
    void applyPenalties(long work, long entries, int n, int vocab) {
        module.launch("apply_penalties", (n + 255) / 256, 1, 1, 256, 0, stream, work, entries, n, vocab);
    }

    /**
     * Samples {@code n} rows (params: (n, 12) ints, see sampling.cu) from float logits.
     *
     * @param masks  packed guided-decoding bitmasks, one row per params' mask row (0 when no row has one)
     * @param parts  the split kernels' chunk results ({@link #sampleSplit}), read when {@code splits > 1}
     * @param splits chunks each one-pass row was split into (1: none)
     */
    void sampleRows(long tokens, long logprobs, long topIds, long topLogprobs, long raw, long work, long params,
                    long masks, int n, int vocab, long parts, int splits) {
        module.launch("sample_rows", n, 1, 1, 1024, 0, stream, tokens, logprobs, topIds, topLogprobs, raw, work, params,
                masks, vocab, parts, splits);
    }

    /**
     * The chunk passes of split one-pass rows (sampling.cu's "Split rows"), before {@link #sampleRows}: the scan, and
     * the softmax sums when some row asked for logprobs (the kernel skips the other rows; without any, its launch).
     */
    void sampleSplit(long parts, long raw, long work, long params, long masks, int n, int vocab, int splits,
                     boolean sums) {
        module.launch("sample_split_scan", n, splits, 1, 256, 0, stream, parts, raw, work, params, masks, vocab);
        if (sums) {
            module.launch("sample_split_sum", n, splits, 1, 256, 0, stream, parts, raw, params, masks, vocab);
        }
    }
}
