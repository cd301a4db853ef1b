// Prefill attention on tensor cores (16-bit dtypes): the same contract as attn_prefill (tiles of <= 16 queries
// of one sequence, keys and values read from the paged cache through the block table, causal by position).
//
// attn_prefill2_hdD_T(...same arguments as attn_prefill_hdD_T...), T = bf16 or f16
// grid = (n tiles, nh), block = 32 (one warp per 16-query tile). Per key tile of 32: S = Q K^T with WMMA
// 16x16x16 (float accumulate) into shared memory, an online softmax in float32 (two lanes per query row), P
// rounded to T, then O += P V with WMMA, O kept in shared memory as float so each row can be rescaled.
// Shared rows are padded by 8 elements (16 bytes) to spread banks; WMMA pointers stay 32-byte aligned.
#include "common.cuh"
#include <mma.h>

template <typename T, int HD>
__device__ void attn_prefill2(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ kc,
                              const T* __restrict__ vc, const int* __restrict__ tiles,
                              const int* __restrict__ query_start, const int* __restrict__ context_lens,
                              const int* __restrict__ block_tables, int bt_stride, int nh, int nkv, int bs,
                              float scale) {
    using namespace nvcuda;
    constexpr int BQ = 16, BK = 32, LD = HD + 8, CHUNKS = HD / 8;
    __shared__ __align__(128) T Qs[BQ * LD];
    __shared__ __align__(128) T Ks[BK * LD];
    __shared__ __align__(128) T Vs[BK * LD];
    __shared__ __align__(128) float Sf[BQ * BK];
    __shared__ __align__(128) T Ps[BQ * (BK + 8)];
    __shared__ __align__(128) float Of[BQ * HD];
    const int tile = blockIdx.x, h = blockIdx.y, kvh = h / (nh / nkv), lane = threadIdx.x;
    const int seq = tiles[3 * tile], t0 = tiles[3 * tile + 1], count = tiles[3 * tile + 2];
    const int qlen = query_start[seq + 1] - query_start[seq];
    const int pos0 = context_lens[seq] - qlen + (t0 - query_start[seq]);
    const int* bt = block_tables + (size_t)seq * bt_stride;

    for (int i = lane; i < BQ * CHUNKS; i += 32) {
        int r = i / CHUNKS, c = i % CHUNKS;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (r < count) v = *reinterpret_cast<const uint4*>(q + (size_t)(t0 + r) * nh * HD + h * HD + c * 8);
        *reinterpret_cast<uint4*>(&Qs[r * LD + c * 8]) = v;
    }
    for (int i = lane; i < BQ * HD; i += 32) Of[i] = 0.f;
    __syncwarp();
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> qf[HD / 16];
#pragma unroll
    for (int k = 0; k < HD / 16; k++) wmma::load_matrix_sync(qf[k], &Qs[k * 16], LD);

    // two lanes per query row: lane / 2 is the row, lane % 2 the half of the key tile (and of the output dims)
    const int r = lane >> 1, half = lane & 1;
    const int my_pos = pos0 + r, kend = pos0 + count;
    float m = -INFINITY, l = 0.f;
    for (int k0 = 0; k0 < kend; k0 += BK) {
        for (int i = lane; i < BK * CHUNKS; i += 32) {
            int j = i / CHUNKS, c = i % CHUNKS, key = k0 + j;
            uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
            if (key < kend) {
                size_t off = (((size_t)bt[key / bs] * nkv + kvh) * bs + key % bs) * HD + c * 8;
                kv = *reinterpret_cast<const uint4*>(kc + off);
                vv = *reinterpret_cast<const uint4*>(vc + off);
            }
            *reinterpret_cast<uint4*>(&Ks[j * LD + c * 8]) = kv;
            *reinterpret_cast<uint4*>(&Vs[j * LD + c * 8]) = vv;
        }
        __syncwarp();
#pragma unroll
        for (int n = 0; n < BK / 16; n++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> sacc;
            wmma::fill_fragment(sacc, 0.f);
#pragma unroll
            for (int k = 0; k < HD / 16; k++) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kf;
                wmma::load_matrix_sync(kf, &Ks[n * 16 * LD + k * 16], LD);
                wmma::mma_sync(sacc, qf[k], kf, sacc);
            }
            wmma::store_matrix_sync(&Sf[n * 16], sacc, BK, wmma::mem_row_major);
        }
        __syncwarp();
        float s[BK / 2], tmax = -INFINITY;
#pragma unroll
        for (int i = 0; i < BK / 2; i++) {
            int j = half * (BK / 2) + i;
            s[i] = (k0 + j <= my_pos && r < count) ? Sf[r * BK + j] * scale : -INFINITY;
            tmax = fmaxf(tmax, s[i]);
        }
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
        float mnew = fmaxf(m, tmax);
        float corr = mnew == -INFINITY ? 1.f : expf(m - mnew);
        float psum = 0.f;
#pragma unroll
        for (int i = 0; i < BK / 2; i++) {
            float p = mnew == -INFINITY ? 0.f : expf(s[i] - mnew);
            T pt = from_float<T>(p);
            Ps[r * (BK + 8) + half * (BK / 2) + i] = pt;
            psum += to_float(pt);
        }
        psum += __shfl_xor_sync(0xffffffffu, psum, 1);
        l = l * corr + psum;
        m = mnew;
        for (int d = half * (HD / 2); d < (half + 1) * (HD / 2); d++) Of[r * HD + d] *= corr;
        __syncwarp();
#pragma unroll
        for (int n = 0; n < HD / 16; n++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> oacc;
            wmma::load_matrix_sync(oacc, &Of[n * 16], HD, wmma::mem_row_major);
#pragma unroll
            for (int k = 0; k < BK / 16; k++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pf;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vf;
                wmma::load_matrix_sync(pf, &Ps[k * 16], BK + 8);
                wmma::load_matrix_sync(vf, &Vs[k * 16 * LD + n * 16], LD);
                wmma::mma_sync(oacc, pf, vf, oacc);
            }
            wmma::store_matrix_sync(&Of[n * 16], oacc, HD, wmma::mem_row_major);
        }
        __syncwarp();
    }
    if (r < count) {
        float inv = l > 0.f ? 1.f / l : 0.f;
        T* o = out + (size_t)(t0 + r) * nh * HD + h * HD;
        for (int d = half * (HD / 2); d < (half + 1) * (HD / 2); d++) o[d] = from_float<T>(Of[r * HD + d] * inv);
    }
}

#define EMBER_PREFILL2_HD(S, T, D)                                                                         \
    extern "C" __global__ void __launch_bounds__(32) attn_prefill2_hd##D##_##S(T* out, const T* q,         \
            const T* kc, const T* vc, const int* tiles, const int* query_start, const int* context_lens,    \
            const int* block_tables, int bt_stride, int nh, int nkv, int bs, float scale) {                \
        attn_prefill2<T, D>(out, q, kc, vc, tiles, query_start, context_lens, block_tables, bt_stride, nh, \
                            nkv, bs, scale);                                                               \
    }
#define EMBER_PREFILL2(S, T) EMBER_PREFILL2_HD(S, T, 64) EMBER_PREFILL2_HD(S, T, 128)
EMBER_PREFILL2(bf16, __nv_bfloat16)
EMBER_PREFILL2(f16, __half)
