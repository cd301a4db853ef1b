// Causal attention for prefill (and any mixed step): variable-length query runs that read every key and
// value, earlier context and this step's own tokens alike, from the paged KV cache through the block table
// (rope_store has already written this step's K/V there).
//
// attn_prefill_hdD_T(out (T, nh*D), q (T, nh*D), k_cache, v_cache (blocks, nkv, block_size, D) of one layer,
//                    tiles (n, 3): (sequence, first token, count <= 16), query_start (S + 1), context_lens (S),
//                    block_tables (S, bt_stride), bt_stride, nh, nkv, block_size, scale)
// grid = (n tiles, nh), block = 128 threads. A block holds 16 queries of one head and walks the keys in
// tiles of 32 with an online softmax (flash-attention style) in float32. Thread (r = tid / 8, l = tid % 8)
// owns query row r: scores for keys l, l + 8, ... of the tile and output dims l, l + 8, ... Shared rows are
// padded by one float so the 8 lanes of a row hit distinct banks. Key k is visible to the query at position p
// when k <= p (positions count from the sequence start: p = context_len - query_len + index in the run).
#include "common.cuh"

template <typename T, int HD>
__device__ void attn_prefill(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ kc,
                             const T* __restrict__ vc, const int* __restrict__ tiles,
                             const int* __restrict__ query_start, const int* __restrict__ context_lens,
                             const int* __restrict__ block_tables, int bt_stride, int nh, int nkv, int bs,
                             float scale) {
    constexpr int BQ = 16, BK = 32, LPR = 8, DPT = HD / LPR, KPT = BK / LPR;
    __shared__ float Qs[BQ][HD + 1];
    __shared__ float Ks[BK][HD + 1];
    __shared__ float Vs[BK][HD];
    __shared__ float Ps[BQ][BK];
    // tiles from the end of the array, as the tensor-core kernels: PrefillTileOrder writes it for that (longest last)
    const int tile = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, kvh = h / (nh / nkv);
    const int seq = tiles[3 * tile], t0 = tiles[3 * tile + 1], count = tiles[3 * tile + 2];
    const int qlen = query_start[seq + 1] - query_start[seq];
    const int pos0 = context_lens[seq] - qlen + (t0 - query_start[seq]);
    const int* bt = block_tables + (size_t)seq * bt_stride;
    const int tid = threadIdx.x, r = tid / LPR, l = tid % LPR;

    for (int i = tid; i < BQ * HD; i += blockDim.x) {
        int rr = i / HD, d = i % HD;
        Qs[rr][d] = rr < count ? to_float(q[(size_t)(t0 + rr) * nh * HD + h * HD + d]) * scale : 0.f;
    }
    const int my_pos = pos0 + r, kend = pos0 + count;
    float m = -INFINITY, lsum = 0.f, acc[DPT];
#pragma unroll
    for (int k = 0; k < DPT; k++) acc[k] = 0.f;

    for (int k0 = 0; k0 < kend; k0 += BK) {
        __syncthreads();
        for (int i = tid; i < BK * HD; i += blockDim.x) {
            int j = i / HD, d = i % HD, key = k0 + j;
            float kv = 0.f, vv = 0.f;
            if (key < kend) {
                size_t off = (((size_t)bt[key / bs] * nkv + kvh) * bs + key % bs) * HD + d;
                kv = to_float(kc[off]);
                vv = to_float(vc[off]);
            }
            Ks[j][d] = kv;
            Vs[j][d] = vv;
        }
        __syncthreads();
        float s[KPT], tmax = -INFINITY;
#pragma unroll
        for (int mm = 0; mm < KPT; mm++) {
            int j = l + LPR * mm;
            float dot = 0.f;
#pragma unroll 16
            for (int d = 0; d < HD; d++) dot += Qs[r][d] * Ks[j][d];
            s[mm] = (k0 + j <= my_pos && r < count) ? dot : -INFINITY;
            tmax = fmaxf(tmax, s[mm]);
        }
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 4));
        float mnew = fmaxf(m, tmax);
        float corr = mnew == -INFINITY ? 1.f : expf(m - mnew);
        float psum = 0.f;
#pragma unroll
        for (int mm = 0; mm < KPT; mm++) {
            float p = mnew == -INFINITY ? 0.f : expf(s[mm] - mnew);
            Ps[r][l + LPR * mm] = p;
            psum += p;
        }
        psum += __shfl_xor_sync(0xffffffffu, psum, 1);
        psum += __shfl_xor_sync(0xffffffffu, psum, 2);
        psum += __shfl_xor_sync(0xffffffffu, psum, 4);
        lsum = lsum * corr + psum;
        m = mnew;
        __syncwarp();
#pragma unroll
        for (int k = 0; k < DPT; k++) acc[k] *= corr;
        for (int j = 0; j < BK; j++) {
            float p = Ps[r][j];
#pragma unroll
            for (int k = 0; k < DPT; k++) acc[k] += p * Vs[j][l + LPR * k];
        }
    }
    if (r < count) {
        float inv = lsum > 0.f ? 1.f / lsum : 0.f;
        T* o = out + (size_t)(t0 + r) * nh * HD + h * HD;
#pragma unroll
        for (int k = 0; k < DPT; k++) o[l + LPR * k] = from_float<T>(acc[k] * inv);
    }
}

#define EMBER_PREFILL_HD(S, T, D)                                                                          \
    extern "C" __global__ void __launch_bounds__(128) attn_prefill_hd##D##_##S(T* out, const T* q,         \
            const T* kc, const T* vc, const int* tiles, const int* query_start, const int* context_lens,    \
            const int* block_tables, int bt_stride, int nh, int nkv, int bs, float scale) {                \
        attn_prefill<T, D>(out, q, kc, vc, tiles, query_start, context_lens, block_tables, bt_stride, nh,  \
                           nkv, bs, scale);                                                                \
    }
#define EMBER_PREFILL(S, T) EMBER_PREFILL_HD(S, T, 64) EMBER_PREFILL_HD(S, T, 128)
EMBER_FOR_TYPES(EMBER_PREFILL)
