// SiLU(gate) * up over the fused gate/up projection's output.
//
// silu_mul_T(out (T, inter), gate_up (T, 2 * inter) rows laid out [gate | up], inter, total = T * inter):
// grid = (ceil(inter / 8 / 256), T), block = 256 when inter % 8 == 0 (each thread 8 columns with 16-byte
// loads and stores: the kernel is a pure stream at the copy bandwidth); otherwise grid-stride over the
// elements one at a time (grid x only). The host picks the shape (Kernels.siluMul).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ float silu_times(float g, float u) {
    return round_to<T>(g / (1.f + expf(-g))) * u;
}

template <typename T>
__device__ void silu_mul(T* __restrict__ out, const T* __restrict__ gate_up, int inter, long long total) {
    if ((inter & 7) == 0) {
        const int c = (blockIdx.x * blockDim.x + threadIdx.x) * 8;
        if (c >= inter) return;
        const size_t row = blockIdx.y;
        float g[8], u[8];
        load8(gate_up + row * 2 * inter + c, g);
        load8(gate_up + row * 2 * inter + inter + c, u);
        T r[8];
#pragma unroll
        for (int e = 0; e < 8; e++) r[e] = from_float<T>(silu_times<T>(g[e], u[e]));
        if constexpr (sizeof(T) == 4) {
            reinterpret_cast<float4*>(out + row * inter + c)[0] = *reinterpret_cast<float4*>(&r[0]);
            reinterpret_cast<float4*>(out + row * inter + c)[1] = *reinterpret_cast<float4*>(&r[4]);
        } else {
            *reinterpret_cast<uint4*>(out + row * inter + c) = *reinterpret_cast<uint4*>(r);
        }
        return;
    }
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        long long row = i / inter, col = i - row * inter;
        float g = to_float(gate_up[row * 2 * inter + col]);
        float u = to_float(gate_up[row * 2 * inter + inter + col]);
        out[i] = from_float<T>(silu_times<T>(g, u));
    }
}

#define EMBER_SILU(S, T)                                                                                   \
    extern "C" __global__ void silu_mul_##S(T* out, const T* gate_up, int inter, long long total) {       \
        silu_mul(out, gate_up, inter, total);                                                              \
    }
EMBER_FOR_TYPES(EMBER_SILU)
