// Per token: q/k/v bias (Qwen2), per-head q/k RMSNorm (Qwen3), rotary embedding of q and k (rotate-half
// layout, Llama-3 scaling folded into inv_freq by the host), then K and V written into the paged KV cache.
//
// rope_store_T(q_out (T, nh*hd), k_cache, v_cache (blocks, nkv, block_size, hd) of one layer,
//              qkv (T, (nh + 2 nkv) * hd), bias ((nh + 2 nkv) * hd) or null, q_norm (hd) or null,
//              k_norm (hd) or null, positions (T), slots (T; -1 = do not store), inv_freq (hd / 2),
//              nh, nkv, hd, block_size, eps)
// grid = T tokens, block = any number of warps, each taking heads in turn (Kernels.ropeThreads: a warp per head,
// 32 x min(32, nh + 2 nkv) threads, for decode-sized steps, so a token's heads load in one round trip; 4 warps for
// prefill chunks); lane l owns the rotary pairs (i, i + hd/2) for i = l, l + 32, ... (hd <= 256). Angles are float32 position * inv_freq, as Hugging Face computes them; in
// 16-bit modes cos, sin and each product are rounded to T as the reference framework does.
#include "common.cuh"

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
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        float angle = pos * inv_freq[i];
        cs[i] = round_to<T>(cosf(angle));
        sn[i] = round_to<T>(sinf(angle));
    }
    __syncthreads();
    for (int h = warp; h < nh + 2 * nkv; h += nwarps) {
        const bool is_q = h < nh, is_k = !is_q && h < nh + nkv;
        const int base = h * hd;
        float x1[4], x2[4];
        float ss = 0.f;
#pragma unroll
        for (int m = 0; m < 4; m++) {
            int i = lane + 32 * m;
            if (i < half) {
                float a = to_float(row[base + i]), b = to_float(row[base + i + half]);
                if (bias) {
                    a = round_to<T>(a + to_float(bias[base + i]));
                    b = round_to<T>(b + to_float(bias[base + i + half]));
                }
                x1[m] = a; x2[m] = b;
                ss += a * a + b * b;
            }
        }
        const T* norm = is_q ? q_norm : (is_k ? k_norm : nullptr);
        if (norm) {
            float inv = rsqrtf(warp_sum(ss) / hd + eps);
#pragma unroll
            for (int m = 0; m < 4; m++) {
                int i = lane + 32 * m;
                if (i < half) {
                    x1[m] = round_to<T>(round_to<T>(x1[m] * inv) * to_float(norm[i]));
                    x2[m] = round_to<T>(round_to<T>(x2[m] * inv) * to_float(norm[i + half]));
                }
            }
        }
        if (is_q || is_k) {
#pragma unroll
            for (int m = 0; m < 4; m++) {
                int i = lane + 32 * m;
                if (i < half) {
                    float c = cs[i], s = sn[i];
                    float a = x1[m], b = x2[m];
                    x1[m] = round_to<T>(a * c) - round_to<T>(b * s);
                    x2[m] = round_to<T>(b * c) + round_to<T>(a * s);
                }
            }
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
#pragma unroll
        for (int m = 0; m < 4; m++) {
            int i = lane + 32 * m;
            if (i < half) {
                dst[i] = from_float<T>(x1[m]);
                dst[i + half] = from_float<T>(x2[m]);
            }
        }
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
