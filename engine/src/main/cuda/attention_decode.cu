// Paged attention for decode steps: one new query per sequence, GQA-aware and split along the context.
//
// attn_decode_hdD_T(out (S, nh*D), part_acc (S, splits, nh, D) f32, part_ml (S, splits, nh, 2) f32,
//                   q (S, nh*D), k_cache, v_cache (blocks, nkv, block_size, D) of one layer, context_lens (S),
//                   block_tables (S, bt_stride), bt_stride, nh, nkv, block_size, scale, partition, num_splits)
// grid = (nkv, S, num_splits), block = 128, dynamic shared memory = 4 * G * (D + partition) bytes, with
// G = nh / nkv <= 8 query heads per KV head. A block takes one KV head of one sequence and the context range
// [split * partition, +partition): every K and V row it reads serves all G query heads that share it.
// Scores: groups of 8 lanes per key row (16-byte loads), G dot products each. Softmax per head in shared
// memory. Values: each thread owns 8 dims of a row and a stride of rows, accumulating G heads at once.
// With one split the block writes the normalized output; otherwise it writes its unnormalized sums and
// (max, sum) and attn_decode_reduce combines the splits. A sequence with context_len 0 (a padding row of a
// captured graph) writes zeros.
//
// attn_decode_reduce_T(out, part_acc, part_ml, context_lens, nh, D, num_splits, partition):
// grid = (nh, S), block = D threads.
#include "common.cuh"

template <typename T, int HD>
__device__ void attn_decode(T* __restrict__ out, float* __restrict__ part_acc, float* __restrict__ part_ml,
                            const T* __restrict__ q, const T* __restrict__ kc, const T* __restrict__ vc,
                            const int* __restrict__ context_lens, const int* __restrict__ block_tables,
                            int bt_stride, int nh, int nkv, int bs, float scale, int partition, int num_splits) {
    constexpr int MAXG = 8, LPT = 8, NCH = HD / 64, CH = HD / 8;
    extern __shared__ float smem[];
    __shared__ float red[MAXG * HD];
    __shared__ float ml[MAXG][2];
    const int kvh = blockIdx.x, seq = blockIdx.y, split = blockIdx.z, tid = threadIdx.x;
    const int G = nh / nkv;
    const int ctx = context_lens[seq];
    const int start = split * partition, end = min(ctx, start + partition);
    if (start >= end) {
        decode_empty_split(out, part_ml, seq, split, num_splits, nh, kvh, G, HD);
        return;
    }
    float* Qs = smem;
    float* S = smem + G * HD;
    const int* bt = block_tables + (size_t)seq * bt_stride;
    for (int i = tid; i < G * HD; i += blockDim.x) {
        Qs[i] = to_float(q[(size_t)seq * nh * HD + kvh * G * HD + i]) * scale;
        red[i] = 0.f;
    }
    __syncthreads();

    const int lane8 = tid % LPT, grp = tid / LPT, ngrp = blockDim.x / LPT;
    // the loop runs the same number of times in every lane (shuffles need all 32): out-of-range rows are masked
    for (int j0 = start; j0 < end; j0 += ngrp) {
        const int j = j0 + grp;
        const bool valid = j < end;
        float kv[NCH][8];
        if (valid) {
            const T* krow = kc + (((size_t)bt[j / bs] * nkv + kvh) * bs + j % bs) * HD;
#pragma unroll
            for (int c = 0; c < NCH; c++) load8(krow + c * 64 + lane8 * 8, kv[c]);
        } else {
#pragma unroll
            for (int c = 0; c < NCH; c++)
#pragma unroll
                for (int e = 0; e < 8; e++) kv[c][e] = 0.f;
        }
#pragma unroll
        for (int g = 0; g < MAXG; g++) {
            if (g < G) {
                float dot = 0.f;
#pragma unroll
                for (int c = 0; c < NCH; c++)
#pragma unroll
                    for (int e = 0; e < 8; e++) dot += Qs[g * HD + c * 64 + lane8 * 8 + e] * kv[c][e];
                dot += __shfl_xor_sync(0xffffffffu, dot, 1);
                dot += __shfl_xor_sync(0xffffffffu, dot, 2);
                dot += __shfl_xor_sync(0xffffffffu, dot, 4);
                if (valid && lane8 == 0) S[g * partition + (j - start)] = dot;
            }
        }
    }
    __syncthreads();

    const int lane = tid & 31, warp = tid >> 5, nwarps = blockDim.x >> 5, n = end - start;
    for (int g = warp; g < G; g += nwarps) {
        float mx = -INFINITY;
        for (int i = lane; i < n; i += 32) mx = fmaxf(mx, S[g * partition + i]);
        mx = warp_max(mx);
        float sum = 0.f;
        for (int i = lane; i < n; i += 32) {
            float e = expf(S[g * partition + i] - mx);
            S[g * partition + i] = e;
            sum += e;
        }
        sum = warp_sum(sum);
        if (lane == 0) {
            ml[g][0] = mx;
            ml[g][1] = sum;
        }
    }
    __syncthreads();

    const int c = tid % CH, tl = tid / CH, ntl = blockDim.x / CH;
    float acc[MAXG][8];
#pragma unroll
    for (int g = 0; g < MAXG; g++)
#pragma unroll
        for (int e = 0; e < 8; e++) acc[g][e] = 0.f;
    for (int j = start + tl; j < end; j += ntl) {
        const T* vrow = vc + (((size_t)bt[j / bs] * nkv + kvh) * bs + j % bs) * HD;
        float vv[8];
        load8(vrow + c * 8, vv);
#pragma unroll
        for (int g = 0; g < MAXG; g++) {
            if (g < G) {
                float p = S[g * partition + (j - start)];
#pragma unroll
                for (int e = 0; e < 8; e++) acc[g][e] += p * vv[e];
            }
        }
    }
#pragma unroll
    for (int g = 0; g < MAXG; g++)
        if (g < G)
#pragma unroll
            for (int e = 0; e < 8; e++) atomicAdd(&red[g * HD + c * 8 + e], acc[g][e]);
    __syncthreads();

    for (int i = tid; i < G * HD; i += blockDim.x) {
        int g = i / HD, d = i % HD, h = kvh * G + g;
        if (num_splits == 1) {
            out[(size_t)seq * nh * HD + h * HD + d] = from_float<T>(red[i] / ml[g][1]);
        } else {
            part_acc[((size_t)(seq * num_splits + split) * nh + h) * HD + d] = red[i];
        }
    }
    if (num_splits > 1 && tid < G) {
        size_t i = ((size_t)(seq * num_splits + split) * nh + kvh * G + tid) * 2;
        part_ml[i] = ml[tid][0];
        part_ml[i + 1] = ml[tid][1];
    }
}

template <typename T>
__device__ void attn_decode_reduce(T* __restrict__ out, const float* __restrict__ part_acc,
                                   const float* __restrict__ part_ml, const int* __restrict__ context_lens, int nh,
                                   int hd, int num_splits, int partition) {
    const int h = blockIdx.x, seq = blockIdx.y, d = threadIdx.x;
    const int used = min(num_splits, (context_lens[seq] + partition - 1) / partition);
    float mx = -INFINITY;
    for (int s = 0; s < used; s++) mx = fmaxf(mx, part_ml[((size_t)(seq * num_splits + s) * nh + h) * 2]);
    float total = 0.f, acc = 0.f;
    for (int s = 0; s < used; s++) {
        size_t i = (size_t)(seq * num_splits + s) * nh + h;
        float w = expf(part_ml[i * 2] - mx);
        total += part_ml[i * 2 + 1] * w;
        acc += part_acc[i * hd + d] * w;
    }
    out[(size_t)seq * nh * hd + h * hd + d] = from_float<T>(total > 0.f ? acc / total : 0.f);
}

#define EMBER_DECODE_HD(S, T, D)                                                                           \
    extern "C" __global__ void __launch_bounds__(128) attn_decode_hd##D##_##S(T* out, float* part_acc,     \
            float* part_ml, const T* q, const T* kc, const T* vc, const int* context_lens,                  \
            const int* block_tables, int bt_stride, int nh, int nkv, int bs, float scale, int partition,    \
            int num_splits) {                                                                              \
        attn_decode<T, D>(out, part_acc, part_ml, q, kc, vc, context_lens, block_tables, bt_stride, nh, nkv, \
                          bs, scale, partition, num_splits);                                               \
    }
#define EMBER_DECODE(S, T)                                                                                 \
    EMBER_DECODE_HD(S, T, 64) EMBER_DECODE_HD(S, T, 128)                                                   \
    extern "C" __global__ void attn_decode_reduce_##S(T* out, const float* part_acc, const float* part_ml,  \
            const int* context_lens, int nh, int hd, int num_splits, int partition) {                     \
        attn_decode_reduce(out, part_acc, part_ml, context_lens, nh, hd, num_splits, partition);           \
    }
EMBER_FOR_TYPES(EMBER_DECODE)
