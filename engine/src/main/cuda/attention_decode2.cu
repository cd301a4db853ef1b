// Paged decode attention, second version: the same contract, grid and outputs as attn_decode (see
// attention_decode.cu; the reduce kernel is shared), reorganized for memory-level parallelism. Each lane keeps
// its 8 query dims of every head of the group in registers; a key row is read by D/8 lanes (one 16-byte load
// each, 2 or 4 rows per warp), and every lane issues the loads of 4 rows before using any, as does the value
// pass, so many more bytes are in flight per SM than in the first version.
//
// attn_decode2_hdD_T(...same arguments as attn_decode_hdD_T...)
// grid = (nkv, S, num_splits), block = 128, dynamic shared memory = 4 * G * (D + partition) bytes.
#include "common.cuh"

template <typename T, int HD>
__device__ void attn_decode2(T* __restrict__ out, float* __restrict__ part_acc, float* __restrict__ part_ml,
                             const T* __restrict__ q, const T* __restrict__ kc, const T* __restrict__ vc,
                             const int* __restrict__ context_lens, const int* __restrict__ block_tables,
                             int bt_stride, int nh, int nkv, int bs, float scale, int partition, int num_splits) {
    constexpr int MAXG = 8, U = 4, LPT = HD / 8, TPW = 32 / LPT, TPB = 4 * TPW, CH = HD / 8;
    extern __shared__ float smem[];
    __shared__ float red[MAXG * HD];
    __shared__ float ml[MAXG][2];
    const int kvh = blockIdx.x, seq = blockIdx.y, split = blockIdx.z, tid = threadIdx.x;
    const int G = nh / nkv;
    const int ctx = context_lens[seq];
    const int start = split * partition, end = min(ctx, start + partition);
    if (start >= end) {
        if (num_splits > 1) {
            if (tid < G) {
                size_t i = ((size_t)(seq * num_splits + split) * nh + kvh * G + tid) * 2;
                part_ml[i] = -INFINITY;
                part_ml[i + 1] = 0.f;
            }
        } else {
            for (int i = tid; i < G * HD; i += blockDim.x) out[(size_t)seq * nh * HD + kvh * G * HD + i] = from_float<T>(0.f);
        }
        return;
    }
    float* S = smem + G * HD;
    const int* bt = block_tables + (size_t)seq * bt_stride;
    for (int i = tid; i < G * HD; i += blockDim.x) red[i] = 0.f;

    const int lane = tid & 31, warp = tid >> 5;
    const int sub = lane % LPT, tok = warp * TPW + lane / LPT;
    float qr[MAXG][8];
#pragma unroll
    for (int g = 0; g < MAXG; g++) {
        if (g < G) {
            load8(q + (size_t)seq * nh * HD + (kvh * G + g) * HD + sub * 8, qr[g]);
#pragma unroll
            for (int e = 0; e < 8; e++) qr[g][e] *= scale;
        }
    }
    for (int j0 = start; j0 < end; j0 += TPB * U) {
        float kv[U][8];
#pragma unroll
        for (int u = 0; u < U; u++) {
            int j = j0 + u * TPB + tok;
            if (j < end) {
                load8(kc + (((size_t)bt[j / bs] * nkv + kvh) * bs + j % bs) * HD + sub * 8, kv[u]);
            } else {
#pragma unroll
                for (int e = 0; e < 8; e++) kv[u][e] = 0.f;
            }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            int j = j0 + u * TPB + tok;
#pragma unroll
            for (int g = 0; g < MAXG; g++) {
                if (g < G) {
                    float dot = 0.f;
#pragma unroll
                    for (int e = 0; e < 8; e++) dot += qr[g][e] * kv[u][e];
#pragma unroll
                    for (int o = LPT / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
                    if (j < end && sub == 0) S[g * partition + (j - start)] = dot;
                }
            }
        }
    }
    __syncthreads();

    const int nwarps = blockDim.x >> 5, n = end - start;
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
    for (int j0 = start + tl; j0 < end; j0 += ntl * U) {
        float vv[U][8];
#pragma unroll
        for (int u = 0; u < U; u++) {
            int j = j0 + u * ntl;
            if (j < end) {
                load8(vc + (((size_t)bt[j / bs] * nkv + kvh) * bs + j % bs) * HD + c * 8, vv[u]);
            }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            int j = j0 + u * ntl;
            if (j < end) {
#pragma unroll
                for (int g = 0; g < MAXG; g++) {
                    if (g < G) {
                        float p = S[g * partition + (j - start)];
#pragma unroll
                        for (int e = 0; e < 8; e++) acc[g][e] += p * vv[u][e];
                    }
                }
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

#define EMBER_DECODE2_HD(S, T, D)                                                                          \
    extern "C" __global__ void __launch_bounds__(128) attn_decode2_hd##D##_##S(T* out, float* part_acc,    \
            float* part_ml, const T* q, const T* kc, const T* vc, const int* context_lens,                  \
            const int* block_tables, int bt_stride, int nh, int nkv, int bs, float scale, int partition,    \
            int num_splits) {                                                                              \
        attn_decode2<T, D>(out, part_acc, part_ml, q, kc, vc, context_lens, block_tables, bt_stride, nh,   \
                           nkv, bs, scale, partition, num_splits);                                         \
    }
#define EMBER_DECODE2(S, T) EMBER_DECODE2_HD(S, T, 64) EMBER_DECODE2_HD(S, T, 128)
EMBER_FOR_TYPES(EMBER_DECODE2)
