// Skinny GEMMs on tensor cores for decode batches: y (rows, out) = x (rows, in) · w (out, in)ᵀ with rows <= 64,
// the PyTorch Linear layout (row-major, w's rows contiguous in `in`).
//
// At a few dozen rows a decode step's GEMMs are weight reads: cuBLAS's tiles (64 or 128 output features by
// 64+ tokens) leave most of a small projection's CTAs short of the SMs, or pad the token dimension of each mma
// with zeros. Here the weight is mma's A operand (16 output features a tile) and the tokens its B operand
// (8 a tile), so the padding is at most 7 tokens a tile; a CTA owns MT x 16 output features and its warps split
// `in` between them, each streaming its part of the weight rows straight from global memory into registers, and
// the CTA sums the warps' partials in a fixed order (deterministic: a row's result never depends on timing).
//
// No shared-memory staging: inside each 32-wide k chunk the k order is permuted the same way for A and B (a
// dot product does not care), so lane (g, t) loads 16 contiguous bytes of weight row g, of row g + 8 and of
// token row g at k offset 8t, and those 8 values feed two m16n8k16 mmas: the first takes elements 0-3 as its
// k = {2t, 2t+1, 2t+8, 2t+9}, the second elements 4-7. Needs in % 32 == 0 and out % (16 MT) == 0 (checked by
// the launcher, dev.ember.backend.cuda.SkinnyGemm). Which variant (MT, NT = ceil(rows / 8), warps) runs a
// shape is chosen by timing at engine start (GemmPlans), beside cuBLASLt's candidates.
#include "attention_tc.cuh"

namespace skinny {

template <typename O> __device__ __forceinline__ O store_as(float v);
template <> __device__ __forceinline__ float store_as<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 store_as<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half store_as<__half>(float v) { return __float2half_rn(v); }

__device__ __forceinline__ uint4 load_stream(const void* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

template <typename T, typename O, int MT, int NT>
__device__ __forceinline__ void gemm(O* __restrict__ y, const T* __restrict__ x, const T* __restrict__ w, int rows,
                                     int out, int in) {
    // loads kept in flight per warp: more when few registers hold each chunk
    constexpr int U = 2 * MT + NT <= 4 ? 4 : 2;
    extern __shared__ float partial[];  // (warps, MT * 16 * NT * 8), each warp's sums
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int o0 = blockIdx.x * MT * 16;
    float acc[MT][NT][4];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int n = 0; n < NT; n++)
#pragma unroll
            for (int i = 0; i < 4; i++) acc[m][n][i] = 0.f;
    const T* wrow = w + (size_t)(o0 + g) * in + 8 * t;
    const T* xrow[NT];
    bool xlive[NT];
#pragma unroll
    for (int n = 0; n < NT; n++) {
        xlive[n] = n * 8 + g < rows;
        xrow[n] = x + (size_t)(xlive[n] ? n * 8 + g : 0) * in + 8 * t;
    }
    const int step = warps * 32;
    for (int k0 = warp * 32; k0 < in; k0 += U * step) {
        uint4 a[U][MT][2];
        uint4 b[U][NT];
#pragma unroll
        for (int u = 0; u < U; u++) {
            int k = k0 + u * step;
            if (k < in) {
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    a[u][m][0] = load_stream(wrow + (size_t)(m * 16) * in + k);
                    a[u][m][1] = load_stream(wrow + (size_t)(m * 16 + 8) * in + k);
                }
#pragma unroll
                for (int n = 0; n < NT; n++) {
                    b[u][n] = xlive[n] ? __ldg(reinterpret_cast<const uint4*>(xrow[n] + k)) : make_uint4(0, 0, 0, 0);
                }
            }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            if (k0 + u * step < in) {
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    const uint32_t first[4] = {a[u][m][0].x, a[u][m][1].x, a[u][m][0].y, a[u][m][1].y};
                    const uint32_t second[4] = {a[u][m][0].z, a[u][m][1].z, a[u][m][0].w, a[u][m][1].w};
#pragma unroll
                    for (int n = 0; n < NT; n++) {
                        const uint32_t b1[2] = {b[u][n].x, b[u][n].y};
                        const uint32_t b2[2] = {b[u][n].z, b[u][n].w};
                        tc::Mma<T>::run(acc[m][n], first, b1);
                        tc::Mma<T>::run(acc[m][n], second, b2);
                    }
                }
            }
        }
    }
    // C fragment: c0, c1 = (feature g, tokens 2t, 2t+1), c2, c3 = (feature g + 8, same tokens)
    constexpr int TILE = MT * 16 * NT * 8;
    float* mine = partial + warp * TILE;
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int n = 0; n < NT; n++)
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int f = m * 16 + g + (i >> 1) * 8;
                int r = n * 8 + 2 * t + (i & 1);
                mine[r * (MT * 16) + f] = acc[m][n][i];
            }
    __syncthreads();
    // features fastest: consecutive threads write consecutive outputs of a token's row
    for (int e = threadIdx.x; e < TILE; e += blockDim.x) {
        int r = e / (MT * 16);
        if (r >= rows) break;
        float s = 0.f;
        for (int v = 0; v < warps; v++) s += partial[v * TILE + e];
        y[(size_t)r * out + o0 + e % (MT * 16)] = store_as<O>(s);
    }
}

}  // namespace skinny

// Blocks of up to 16 warps where the accumulators leave registers for it (more loads in flight when a shape has
// fewer CTAs than SMs), else 8; SkinnyGemm.maxWarps mirrors this.
#define EMBER_SKINNY_THREADS(MT, NT) ((MT) * (NT) <= 4 ? 512 : 256)
#define EMBER_SKINNY(SUFFIX, T, OSUFFIX, O, MT, NT)                                                                  \
    extern "C" __global__ void __launch_bounds__(EMBER_SKINNY_THREADS(MT, NT))                                     \
        gemm_skinny_##SUFFIX##OSUFFIX##_m##MT##_n##NT(                                                              \
        O* y, const T* x, const T* w, int rows, int out, int in) {                                                  \
        skinny::gemm<T, O, MT, NT>(y, x, w, rows, out, in);                                                          \
    }
#define EMBER_SKINNY_NT(SUFFIX, T, OSUFFIX, O, MT)                                                                   \
    EMBER_SKINNY(SUFFIX, T, OSUFFIX, O, MT, 1) EMBER_SKINNY(SUFFIX, T, OSUFFIX, O, MT, 2)                           \
    EMBER_SKINNY(SUFFIX, T, OSUFFIX, O, MT, 4) EMBER_SKINNY(SUFFIX, T, OSUFFIX, O, MT, 8)
#define EMBER_SKINNY_ALL(SUFFIX, T)                                                                                  \
    EMBER_SKINNY_NT(SUFFIX, T, , T, 1) EMBER_SKINNY_NT(SUFFIX, T, , T, 2)                                           \
    EMBER_SKINNY_NT(SUFFIX, T, _f32out, float, 1) EMBER_SKINNY_NT(SUFFIX, T, _f32out, float, 2)
EMBER_SKINNY_ALL(bf16, __nv_bfloat16)
EMBER_SKINNY_ALL(f16, __half)
