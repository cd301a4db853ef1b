// The load-time check that weights are finite: a NaN or an infinity in one tensor would otherwise turn every
// logit into NaN and decoding into silent garbage. Run once per tensor by dev.ember.backend.cuda.FiniteWeights,
// over the device copy in the compute dtype (so a float32 value that overflows float16 is caught as well).
//
// count_nonfinite_T(count (1) u64, data (n) T, n): grid-stride over n elements, block = 256 (a multiple of 32);
// adds the number of NaN and infinite elements to *count (zeroed by the caller), one atomic per warp.
#include "common.cuh"

template <typename T>
__device__ void count_nonfinite(unsigned long long* count, const T* __restrict__ data, long long n) {
    unsigned long long c = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        c += isfinite(to_float(data[i])) ? 0ull : 1ull;
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) c += __shfl_xor_sync(0xffffffffu, c, o);
    if ((threadIdx.x & 31) == 0 && c != 0) atomicAdd(count, c);
}

#define EMBER_COUNT_NONFINITE(S, T)                                                                         \
    extern "C" __global__ void count_nonfinite_##S(unsigned long long* count, const T* data, long long n) { \
        count_nonfinite(count, data, n);                                                                    \
    }
EMBER_FOR_TYPES(EMBER_COUNT_NONFINITE)
