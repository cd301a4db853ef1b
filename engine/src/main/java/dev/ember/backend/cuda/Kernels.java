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

    private final KernelModule module;
    private final CudaStream stream;
    private final DType dtype;
    private final String suffix;
    /** Attention kernel versions (system properties ember.cuda.prefillKernel / decodeKernel, 1 or 2; default 2). */
    private final int prefillVersion = Integer.getInteger("ember.cuda.prefillKernel", 2);
    private final int decodeVersion = Integer.getInteger("ember.cuda.decodeKernel", 2);

    Kernels(KernelModule module, CudaStream stream, DType dtype) {
        this.module = module;
        this.stream = stream;
        this.dtype = dtype;
        this.suffix = suffix(dtype);
        for (int hd : new int[] {64, 128}) {
            module.allowDynamicSharedMemory("attn_decode_hd" + hd + "_" + suffix, DECODE_SHARED_LIMIT);
            module.allowDynamicSharedMemory("attn_decode2_hd" + hd + "_" + suffix, DECODE_SHARED_LIMIT);
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

    /** out (rows, hidden) = table[ids[r]]. */
    void embed(long out, long table, long ids, int rows, int hidden) {
        module.launch("embed_" + suffix, rows, 1, 1, 256, 0, stream, out, table, ids, hidden);
    }

    /** out (rows, width) = in[rowIds[r]]. */
    void gatherRows(long out, long in, long rowIds, int rows, int width) {
        module.launch("gather_rows_" + suffix, rows, 1, 1, 256, 0, stream, out, in, rowIds, width);
    }

    /** residual = (accumulate ? residual + in : in) in float32; out = rmsnorm(residual) * weight. */
    void addRmsNorm(long out, long residual, long in, long weight, float eps, int rows, int hidden, boolean accumulate) {
        module.launch("add_rmsnorm_" + suffix, rows, 1, 1, 512, 0, stream, out, residual, in, weight, eps, hidden,
                accumulate ? 1 : 0);
    }

    /** Bias, q/k norm, RoPE and the K/V store for {@code tokens} rows of the fused QKV output. bias/norms may be 0. */
    void ropeStore(long qOut, long kCache, long vCache, long qkv, long bias, long qNorm, long kNorm, long positions,
                   long slots, long invFreq, int tokens, int numHeads, int numKvHeads, int headDim, int blockSize, float eps) {
        module.launch("rope_store_" + suffix, tokens, 1, 1, 128, 0, stream, qOut, kCache, vCache, qkv, bias, qNorm, kNorm,
                positions, slots, invFreq, numHeads, numKvHeads, headDim, blockSize, eps);
    }

    /** out (rows, inter) = silu(gate) * up over gateUp (rows, 2 * inter). */
    void siluMul(long out, long gateUp, int rows, int inter) {
        long total = (long) rows * inter;
        int grid = (int) Math.min((total + 255) / 256, 65535L * 16);
        module.launch("silu_mul_" + suffix, grid, 1, 1, 256, 0, stream, out, gateUp, inter, total);
    }

    /** Causal attention of the query tiles (tiles: (n, 3) ints of sequence, first token, count <= 16). */
    void attnPrefill(long out, long q, long kCache, long vCache, long tiles, int numTiles, long queryStart,
                     long contextLens, long blockTables, int btStride, int numHeads, int numKvHeads, int headDim,
                     int blockSize, float scale) {
        attnPrefill(prefillVersion, out, q, kCache, vCache, tiles, numTiles, queryStart, contextLens, blockTables,
                btStride, numHeads, numKvHeads, headDim, blockSize, scale);
    }

    /** As above with an explicit kernel: 1 (CUDA cores, every dtype) or 2 (tensor cores, 16-bit dtypes; float32 uses 1). */
    void attnPrefill(int version, long out, long q, long kCache, long vCache, long tiles, int numTiles, long queryStart,
                     long contextLens, long blockTables, int btStride, int numHeads, int numKvHeads, int headDim,
                     int blockSize, float scale) {
        boolean tensorCores = version == 2 && dtype != DType.F32;
        module.launch((tensorCores ? "attn_prefill2_hd" : "attn_prefill_hd") + headDim + "_" + suffix, numTiles, numHeads,
                1, tensorCores ? 32 : 128, 0, stream, out, q, kCache, vCache, tiles, queryStart, contextLens, blockTables,
                btStride, numHeads, numKvHeads, blockSize, scale);
    }

    /** Decode attention for {@code seqs} single-token queries, split into {@code numSplits} partitions of the context. */
    void attnDecode(long out, long partAcc, long partMl, long q, long kCache, long vCache, long contextLens,
                    long blockTables, int btStride, int seqs, int numHeads, int numKvHeads, int headDim, int blockSize,
                    float scale, int partition, int numSplits) {
        attnDecode(decodeVersion, out, partAcc, partMl, q, kCache, vCache, contextLens, blockTables, btStride, seqs,
                numHeads, numKvHeads, headDim, blockSize, scale, partition, numSplits);
    }

    /** As above with an explicit kernel version (1 or 2, see attention_decode*.cu). */
    void attnDecode(int version, long out, long partAcc, long partMl, long q, long kCache, long vCache, long contextLens,
                    long blockTables, int btStride, int seqs, int numHeads, int numKvHeads, int headDim, int blockSize,
                    float scale, int partition, int numSplits) {
        int group = numHeads / numKvHeads;
        int shared = 4 * group * (headDim + partition);
        module.launch((version == 2 ? "attn_decode2_hd" : "attn_decode_hd") + headDim + "_" + suffix, numKvHeads, seqs, numSplits, 128, shared, stream, out,
                partAcc, partMl, q, kCache, vCache, contextLens, blockTables, btStride, numHeads, numKvHeads, blockSize,
                scale, partition, numSplits);
        if (numSplits > 1) {
            module.launch("attn_decode_reduce_" + suffix, numHeads, seqs, 1, headDim, 0, stream, out, partAcc, partMl,
                    contextLens, numHeads, headDim, numSplits, partition);
        }
    }

    /** The largest decode partition whose scores fit the shared-memory limit. */
    static int maxDecodePartition(int group, int headDim) {
        return (DECODE_SHARED_LIMIT / (4 * group) - headDim) / 128 * 128;
    }

    /** Applies {@code n} sparse penalty entries ((n, 8) ints, see sampling.cu) to float logits in place. */
    void applyPenalties(long work, long entries, int n, int vocab) {
        module.launch("apply_penalties", (n + 255) / 256, 1, 1, 256, 0, stream, work, entries, n, vocab);
    }

    /** Samples {@code n} rows (params: (n, 8) ints, see sampling.cu) from float logits. */
    /** @param masks packed guided-decoding bitmasks, one row per params' mask row (0 when no row has one) */
    void sampleRows(long tokens, long logprobs, long topIds, long topLogprobs, long raw, long work, long params,
                    long masks, int n, int vocab) {
        module.launch("sample_rows", n, 1, 1, 1024, 0, stream, tokens, logprobs, topIds, topLogprobs, raw, work, params,
                masks, vocab);
    }
}
