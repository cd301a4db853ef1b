// Shared helpers of Ember's kernels: storage types, conversions, warp and block reductions.
//
// Every kernel is a template over its storage type T (float, __nv_bfloat16 or __half) that computes in
// float32, with one extern "C" entry point per type: NAME_f32, NAME_bf16, NAME_f16 (EMBER_FOR_TYPES).
// Launches are made from Java (dev.ember.backend.cuda.Kernels); argument order is outputs, inputs, sizes.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#ifdef __CUDACC_RTC__
// NVRTC (backend.cuda.KernelImage's fallback) has no C library: the fixed-width types come from CCCL's libcu++
#include <cuda/std/cstdint>
#include <cuda/std/limits>
using cuda::std::uint32_t;
using cuda::std::uint64_t;
#define INFINITY (cuda::std::numeric_limits<float>::infinity())  // math.h's, which NVRTC lacks
#else
#include <stdint.h>
#endif

#define EMBER_FOR_TYPES(X) X(f32, float) X(bf16, __nv_bfloat16) X(f16, __half)

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }

// Rounds through the storage type and back, so float math matches what a T-typed framework would hold.
template <typename T> __device__ __forceinline__ float round_to(float v) { return to_float(from_float<T>(v)); }

// Loads 8 consecutive elements (16 bytes for 2-byte types, 32 for float) into floats; p must be aligned.
template <typename T> __device__ __forceinline__ void load8(const T* p, float* out) {
    if constexpr (sizeof(T) == 4) {
        float4 a = reinterpret_cast<const float4*>(p)[0];
        float4 b = reinterpret_cast<const float4*>(p)[1];
        out[0] = a.x; out[1] = a.y; out[2] = a.z; out[3] = a.w;
        out[4] = b.x; out[5] = b.y; out[6] = b.z; out[7] = b.w;
    } else {
        uint4 raw = *reinterpret_cast<const uint4*>(p);
        const T* h = reinterpret_cast<const T*>(&raw);
#pragma unroll
        for (int i = 0; i < 8; i++) out[i] = to_float(h[i]);
    }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ unsigned long long warp_sum_u64(unsigned long long v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Block-wide sum; every thread gets the result. scratch: 32 floats of shared memory.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// Block-wide integer sum (fixed-point masses): exact, so independent of the order the adds happen in.
__device__ __forceinline__ unsigned long long block_sum_u64(unsigned long long v, unsigned long long* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
    v = warp_sum_u64(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0ull;
    return warp_sum_u64(v);
}

// A decode-attention block whose split starts at or past its sequence's context: with several splits its partial is
// empty (max -inf, sum 0) for the reduce; with one split the output rows of its heads are zero (a graph's padding
// sequence). G query heads share KV head kvh.
template <typename T>
__device__ void decode_empty_split(T* out, float* part_ml, int seq, int split, int num_splits, int nh, int kvh, int G,
                                   int hd) {
    if (num_splits > 1) {
        if ((int)threadIdx.x < G) {
            size_t i = ((size_t)(seq * num_splits + split) * nh + kvh * G + threadIdx.x) * 2;
            part_ml[i] = -INFINITY;
            part_ml[i + 1] = 0.f;
        }
    } else {
        for (int i = threadIdx.x; i < G * hd; i += blockDim.x) out[(size_t)seq * nh * hd + kvh * G * hd + i] = from_float<T>(0.f);
    }
}
