// Per token: q/k/v bias (Qwen2), per-head q/k RMSNorm (Qwen3), rotary embedding of q and k (rotate-half
// layout, Llama-3 scaling folded into inv_freq by the host), then K and V written into the paged KV cache.
//
// rope_store_T(q_out (T, nh*hd), k_cache, v_cache (blocks, nkv, block_size, hd) of one layer,
//              qkv (T, (nh + 2 nkv) * hd), bias ((nh + 2 nkv) * hd) or null, q_norm (hd) or null,
//              k_norm (hd) or null, positions (T), slots (T; -1 = do not store), inv_freq (hd / 2),
//              nh, nkv, hd, block_size, eps)
// grid = T tokens, block = any number of warps, each taking heads in turn (Kernels.ropeThreads: a warp per head,
// 32 x min(32, nh + 2 nkv) threads, for decode-sized steps, so a token's heads load in one round trip; 4 warps for
// prefill chunks); lane l owns the rotary pairs (i, i + hd/2) for i = l, l + 32, ... (hd <= 256). The arithmetic is
// rope.cuh's, which the tensor-core decode kernel's fused path (attention_paged.cu) shares: in pure decode steps of
// 16-bit models that kernel does this work itself and rope_store is not launched.
#include "rope.cuh"

template <typename T>
__device__ void rope_store(T* __restrict__ q_out, T* __restrict__ k_cache, T* __restrict__ v_cache,
                           const T* __restrict__ qkv, const T* __restrict__ bias, const T* __restrict__ q_norm,
                           const T* __restrict__ k_norm, const int* __restrict__ positions,
                           const int* __restrict__ slots, const float* __restrict__ inv_freq, int nh, int nkv,
                           int hd, int block_size, float eps) {
    const int t = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    const int half = hd >> 1, width = (nh + 2 * nkv) * hd;
    const float pos = (float)positions[t];
    const int slot = slots[t];
    const T* row = qkv + (size_t)t * width;
    // one cos/sin per rotary pair for all heads of the token (sincos of large angles is not cheap)
    __shared__ float cs[128], sn[128];
    for (int i = threadIdx.x; i < half; i += blockDim.x) rope::cos_sin<T>(pos, inv_freq[i], cs[i], sn[i]);
    __syncthreads();
    for (int h = warp; h < nh + 2 * nkv; h += nwarps) {
        const bool is_q = h < nh, is_k = !is_q && h < nh + nkv;
        const int base = h * hd;
        float x1[4], x2[4];
        rope::load_head<T>(x1, x2, row, bias, base, is_q ? q_norm : (is_k ? k_norm : nullptr), hd, eps, lane);
        if (is_q || is_k) {
            rope::rotate<T>(x1, x2, [&](int, int i, float& c, float& s) { c = cs[i]; s = sn[i]; }, hd, lane);
        }
        T* dst;
        if (is_q) {
            dst = q_out + (size_t)t * nh * hd + base;
        } else {
            if (slot < 0) continue;
            int kvh = is_k ? h - nh : h - nh - nkv;
            size_t off = (((size_t)(slot / block_size) * nkv + kvh) * block_size + slot % block_size) * hd;
            dst = (is_k ? k_cache : v_cache) + off;
        }
        rope::store_head<T>(dst, x1, x2, hd, lane);
    }
}

#define EMBER_ROPE(S, T)                                                                                   \
    extern "C" __global__ void __launch_bounds__(1024) rope_store_##S(T* q_out, T* k_cache, T* v_cache,     \
            const T* qkv, const T* bias, const T* q_norm, const T* k_norm, const int* positions,            \
            const int* slots, const float* inv_freq, int nh, int nkv, int hd, int block_size, float eps) {  \
        rope_store(q_out, k_cache, v_cache, qkv, bias, q_norm, k_norm, positions, slots, inv_freq, nh, nkv, \
                   hd, block_size, eps);                                                                   \
    }
EMBER_FOR_TYPES(EMBER_ROPE)
