// RMSNorm with the residual add fused in front of it (the pre-norm transformer's residual stream).
//
// add_rmsnorm_T(out (T, hidden) T, residual (T, hidden) float, in (T, hidden) T, weight (hidden) T,
//               eps, hidden, accumulate): grid = T rows, block = 512.
//   r = accumulate ? residual + in : in;  residual = r;  out = T(T(r / rms(r)) * weight)
// The residual stream is kept in float32 (more accurate than the checkpoint dtype, never less). The
// normalized value is rounded to T before the weight multiply, as Hugging Face's RMSNorm does.
#include "common.cuh"

template <typename T>
__device__ void add_rmsnorm(T* __restrict__ out, float* __restrict__ residual, const T* __restrict__ in,
                            const T* __restrict__ weight, float eps, int hidden, int accumulate) {
    __shared__ float scratch[32];
    size_t row = (size_t)blockIdx.x * hidden;
    float ss = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float r = to_float(in[row + i]);
        if (accumulate) r += residual[row + i];
        residual[row + i] = r;
        ss += r * r;
    }
    float inv = rsqrtf(block_sum(ss, scratch) / hidden + eps);
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        out[row + i] = from_float<T>(round_to<T>(residual[row + i] * inv) * to_float(weight[i]));
    }
}

#define EMBER_RMSNORM(S, T)                                                                                \
    extern "C" __global__ void __launch_bounds__(1024) add_rmsnorm_##S(T* out, float* residual, const T* in, \
            const T* weight, float eps, int hidden, int accumulate) {                                      \
        add_rmsnorm(out, residual, in, weight, eps, hidden, accumulate);                                   \
    }
EMBER_FOR_TYPES(EMBER_RMSNORM)
