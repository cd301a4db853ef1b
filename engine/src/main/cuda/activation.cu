// SiLU(gate) * up over the fused gate/up projection's output.
//
// silu_mul_T(out (T, inter), gate_up (T, 2 * inter) rows laid out [gate | up], inter, total = T * inter):
// grid-stride over total elements, block = 256.
#include "common.cuh"

template <typename T>
__device__ void silu_mul(T* __restrict__ out, const T* __restrict__ gate_up, int inter, long long total) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        long long row = i / inter, col = i - row * inter;
        float g = to_float(gate_up[row * 2 * inter + col]);
        float u = to_float(gate_up[row * 2 * inter + inter + col]);
        float s = round_to<T>(g / (1.f + expf(-g)));
        out[i] = from_float<T>(s * u);
    }
}

#define EMBER_SILU(S, T)                                                                                   \
    extern "C" __global__ void silu_mul_##S(T* out, const T* gate_up, int inter, long long total) {       \
        silu_mul(out, gate_up, inter, total);                                                              \
    }
EMBER_FOR_TYPES(EMBER_SILU)
