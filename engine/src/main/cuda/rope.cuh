// The rotary-embedding arithmetic of one token's head, shared by rope_store (rope.cu) and the fused path of the
// tensor-core decode kernel (attention_paged.cu), so that both produce the same bits from the same qkv row: the same
// operations in the same order, the same roundings to T, the same cosf/sinf. Keep every change here; neither caller
// does arithmetic of its own on these values. Where the compiler could contract or rewrite differently in the two
// callers (a * a + b * b into an fma either way round; / hd with hd a constant in the decode kernel, a multiply by
// 1/hd fused with + eps), the operations are spelled as the round-to-nearest intrinsics rope_store compiled to
// before (mul, fma, add; div, add), which neither nvcc nor ptxas fuses or reorders.
//
// Layout: a warp takes one head of hd <= 256 values; lane l holds the rotary pairs (i, i + hd/2) for i = l + 32 m
// (m < 4, i < hd/2) in x1[m], x2[m]. Angles are float32 position * inv_freq (Llama-3 scaling folded into inv_freq by
// the host), as Hugging Face computes them; in 16-bit modes cos, sin and each product are rounded to T as the
// reference framework does.
#pragma once
#include "common.cuh"

namespace rope {

// cos and sin of one rotary pair's angle, rounded to T.
template <typename T>
__device__ __forceinline__ void cos_sin(float pos, float inv_freq, float& c, float& s) {
    float angle = pos * inv_freq;
    c = round_to<T>(cosf(angle));
    s = round_to<T>(sinf(angle));
}

// Loads the head at row[base, base + hd), adds bias[base, ...) (null: none) rounded to T, then, when norm is given,
// applies the per-head RMSNorm (Qwen3's q/k norm: a warp sum, so the whole warp calls it for the same head).
template <typename T>
__device__ __forceinline__ void load_head(float (&x1)[4], float (&x2)[4], const T* row, const T* bias, int base,
                                          const T* norm, int hd, float eps, int lane) {
    const int half = hd >> 1;
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
            ss = __fadd_rn(ss, __fmaf_rn(a, a, __fmul_rn(b, b)));
        }
    }
    if (norm) {
        float inv = rsqrtf(__fadd_rn(__fdiv_rn(warp_sum(ss), (float)hd), eps));
#pragma unroll
        for (int m = 0; m < 4; m++) {
            int i = lane + 32 * m;
            if (i < half) {
                x1[m] = round_to<T>(round_to<T>(x1[m] * inv) * to_float(norm[i]));
                x2[m] = round_to<T>(round_to<T>(x2[m] * inv) * to_float(norm[i + half]));
            }
        }
    }
}

// Rotates the pairs (rotate-half layout). cos_sin_of(m, i, c, s) gives cos_sin of pair i = lane + 32 m: rope_store
// reads a block-wide table, the decode kernel its lane's registers (a callable, so each reads at the point of use).
template <typename T, typename CosSin>
__device__ __forceinline__ void rotate(float (&x1)[4], float (&x2)[4], CosSin cos_sin_of, int hd, int lane) {
    const int half = hd >> 1;
#pragma unroll
    for (int m = 0; m < 4; m++) {
        int i = lane + 32 * m;
        if (i < half) {
            float c, s;
            cos_sin_of(m, i, c, s);
            float a = x1[m], b = x2[m];
            x1[m] = round_to<T>(a * c) - round_to<T>(b * s);
            x2[m] = round_to<T>(b * c) + round_to<T>(a * s);
        }
    }
}

// Writes the head to dst[0, hd) as T.
template <typename T>
__device__ __forceinline__ void store_head(T* dst, const float (&x1)[4], const float (&x2)[4], int hd,
                                           int lane) {
    const int half = hd >> 1;
#pragma unroll
    for (int m = 0; m < 4; m++) {
        int i = lane + 32 * m;
        if (i < half) {
            dst[i] = from_float<T>(x1[m]);
            dst[i + half] = from_float<T>(x2[m]);
        }
    }
}

}  // namespace rope
