// RMSNorm with the residual add fused in front of it (the pre-norm transformer's residual stream).
//
// add_rmsnorm_T(out (T, hidden) T, residual (T, hidden) float, in (T, hidden) T, weight (hidden) T,
//               eps, hidden, accumulate): grid = T rows, block = 512 (Kernels.addRmsNorm: 256 when
//               hidden % 8 == 0 and hidden <= 8 * 256 * 4).
//   r = accumulate ? residual + in : in;  residual = r;  out = T(T(r / rms(r)) * weight)
// The residual stream is kept in float32 (more accurate than the checkpoint dtype, never less). The
// normalized value is rounded to T before the weight multiply, as Hugging Face's RMSNorm does.
// Fast path (hidden % 8 == 0, at most 4 chunks of 8 per thread): 16/32-byte vector loads, the row held in
// registers between the sum of squares and the output, so each byte moves once.
#include "common.cuh"

template <typename T>
__device__ void add_rmsnorm(T* __restrict__ out, float* __restrict__ residual, const T* __restrict__ in,
                            const T* __restrict__ weight, float eps, int hidden, int accumulate) {
    __shared__ float scratch[32];
    size_t row = (size_t)blockIdx.x * hidden;
    constexpr int MAXC = 4;
    if ((hidden & 7) == 0 && hidden <= 8 * MAXC * (int)blockDim.x) {
        float v[MAXC][8];
        float ss = 0.f;
#pragma unroll
        for (int k = 0; k < MAXC; k++) {
            int c = (threadIdx.x + k * blockDim.x) * 8;
            if (c < hidden) {
                load8(in + row + c, v[k]);
                if (accumulate) {
                    float4 a = reinterpret_cast<const float4*>(residual + row + c)[0];
                    float4 b = reinterpret_cast<const float4*>(residual + row + c)[1];
                    v[k][0] += a.x; v[k][1] += a.y; v[k][2] += a.z; v[k][3] += a.w;
                    v[k][4] += b.x; v[k][5] += b.y; v[k][6] += b.z; v[k][7] += b.w;
                }
                reinterpret_cast<float4*>(residual + row + c)[0] = make_float4(v[k][0], v[k][1], v[k][2], v[k][3]);
                reinterpret_cast<float4*>(residual + row + c)[1] = make_float4(v[k][4], v[k][5], v[k][6], v[k][7]);
#pragma unroll
                for (int e = 0; e < 8; e++) ss += v[k][e] * v[k][e];
            }
        }
        float inv = rsqrtf(block_sum(ss, scratch) / hidden + eps);
#pragma unroll
        for (int k = 0; k < MAXC; k++) {
            int c = (threadIdx.x + k * blockDim.x) * 8;
            if (c < hidden) {
                float w[8];
                load8(weight + c, w);
                T r[8];
#pragma unroll
                for (int e = 0; e < 8; e++) r[e] = from_float<T>(round_to<T>(v[k][e] * inv) * w[e]);
                if constexpr (sizeof(T) == 4) {
                    reinterpret_cast<float4*>(out + row + c)[0] = *reinterpret_cast<float4*>(&r[0]);
                    reinterpret_cast<float4*>(out + row + c)[1] = *reinterpret_cast<float4*>(&r[4]);
                } else {
                    *reinterpret_cast<uint4*>(out + row + c) = *reinterpret_cast<uint4*>(r);
                }
            }
        }
        return;
    }
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
