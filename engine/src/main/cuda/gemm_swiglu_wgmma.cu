// The MLP's gate/up projection with SwiGLU in its epilogue, on Hopper (sm_90a: TMA, mbarriers, wgmma):
//
//   out[t, f] = bf16( bf16(silu(bf16(g))) * bf16(u) ),  g = x[t] . W[f],  u = x[t] . W[inter + f]
//
// the rounding chain of the unfused path (cuBLAS's bf16 GEMM output, then silu_mul), so the two differ only where
// their float32 sums do (summation order). One kernel instead of a GEMM writing (T, 2 x inter) and silu_mul reading
// it back; at decode sizes the saving is mostly silu_mul's launch and the GEMM's tile count (below).
//
// W is the fused [gate | up] weight (2 inter x K, row-major) as DeviceWeights holds it. A tile of BN weight rows is
// BN / 2 output features: the producer loads gate rows [f0, f0 + BN / 2) and up rows [inter + f0, ...) as two TMA
// boxes, one after the other in shared memory, so one wgmma m64nBN gives each thread gate column 8 j + 2 (lane % 4)
// + {0, 1} and the up column BN / 2 further on in its own registers (BN / 2 a multiple of 8): no exchange.
//
// gemm_swiglu<CW, MW, BN>(map_x, map_w, out, M, inter, K): grid (ceil(inter / (BN / 2)), ceil(M / BM)), block
// (CW + 1) x 128 threads, BM = 64 x MW x CW tokens, dynamic shared memory smem_bytes<CW, MW, BN>(). Warpgroup 0 is
// the producer: one thread issues, per 64-wide K step, TMA loads of the x tile (BM x 64) and the two weight boxes
// into a ring of stages<>() buffers (128-byte swizzle, what the wgmma descriptors read), completing on the stage's
// `full` mbarrier. Warpgroups 1..CW consume: each waits for `full`, issues 4 x MW wgmma m64nBNk16 (its MW 64-row
// slices of the x tile against the whole weight tile), keeps one group in flight (wgmma.wait_group 1) and releases
// the stage before it on its `empty` mbarrier, so later stages load under the tensor work. Rows past M and weight
// rows past 2 inter read as zeros (the tensor maps' bounds); a last tile's gate box may run into the up rows, whose
// features (>= inter) are not stored.
//
// The tile count is what decode shapes need: at Qwen2-1.5B's inter 8,960, BN = 144 makes 125 tiles for 132 SMs where
// cuBLAS's 128 x 256 tiles of the 17,920-wide output make 140 (two waves). The host (SwigluGemm) picks BM from the
// rows and BN from the SM count. K must be a multiple of 64, inter of 8; x rows, W rows and out 16-byte aligned.
#pragma once
#include <cuda.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include "tma_gemm.cuh"

namespace gs {

// The ring, its producer and consumer loops are tma_gemm.cuh's (as gemm_cluster_wgmma.cu's); this file adds the two
// weight boxes a stage and the SwiGLU epilogue.
using namespace tg;

template <int CW, int MW, int BN> __host__ __device__ constexpr int stages() { return tg::stages<64 * MW * CW, BN>(); }
template <int CW, int MW, int BN> __host__ __device__ constexpr int smem_bytes() {
    return 1024 + stages<CW, MW, BN>() * (stage_bytes<64 * MW * CW, BN>() + 16);
}

__device__ __forceinline__ float bf_round(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }

// silu_mul's arithmetic (activation.cu) on a gate/up pair already in float32.
__device__ __forceinline__ float swiglu(float g, float u) {
    g = bf_round(g);
    u = bf_round(u);
    return bf_round(g / (1.f + expf(-g))) * u;
}

template <int CW, int MW, int BN>
// The maps by reference: the entry point's __grid_constant__ parameters, so TMA reads them where they are.
__device__ __forceinline__ void gemm_swiglu(const CUtensorMap& map_x, const CUtensorMap& map_w,
                __nv_bfloat16* __restrict__ out, int M, int inter, int K) {
    static_assert(BN % 16 == 0 && BN <= 256, "a tile holds whole 16-row gate/up groups; wgmma N <= 256");
    constexpr int BM = 64 * MW * CW;
    static_assert(BM <= 256, "a TMA box has at most 256 rows");
    static_assert(MW * BN / 2 <= 192, "accumulators beyond 192 registers a thread spill");
    constexpr int STAGES = stages<CW, MW, BN>();
    constexpr uint32_t A_BYTES = BM * 128, HALF_B = BN / 2 * 128, STAGE_BYTES = (BM + BN) * 128;
    extern __shared__ uint8_t smem_raw[];
    const uint32_t base = (saddr(smem_raw) + 1023u) & ~1023u;
    const uint32_t bars = base + STAGES * STAGE_BYTES;  // full[s] at bars + 8 s, empty[s] at bars + 8 (STAGES + s)
    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;
    const int f0 = blockIdx.x * (BN / 2), m0 = blockIdx.y * BM;
    const int kb_count = K / BK;
    if (threadIdx.x == 0) init_ring<STAGES, CW>(bars);
    __syncthreads();

    if (wg == 0) {
        if constexpr (rebalances<CW>()) asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
        if (tid == 0) {
            produce<STAGES, STAGE_BYTES>(base, bars, 0, kb_count, [&](int kb, uint32_t a, uint32_t full) {
                tma_load(a, &map_x, kb * BK, m0, full);
                tma_load(a + A_BYTES, &map_w, kb * BK, f0, full);
                tma_load(a + A_BYTES + HALF_B, &map_w, kb * BK, inter + f0, full);
            });
        }
        return;
    }
    if constexpr (rebalances<CW>()) asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(consumer_registers<CW>()));
    const int c = wg - 1;
    float acc[MW][BN / 2];
    zero(acc);
    consume<STAGES, CW, MW, BN>(acc, base, bars, c, kb_count);

    // Epilogue: thread (warp w, lane l) holds rows 16 w + l / 4 (+ 8) and columns 8 j + 2 (l % 4) + {0, 1}; block j
    // < BN / 16 is gate, block j + BN / 16 its up.
    const int w = tid / 32, l = tid % 32;
#pragma unroll
    for (int i = 0; i < MW; i++) {
        const int r0 = m0 + (c * MW + i) * 64 + 16 * w + l / 4;
#pragma unroll
        for (int j = 0; j < BN / 16; j++) {
            const int f = f0 + 8 * j + 2 * (l % 4);
            if (f >= inter) continue;
            const float* g = &acc[i][4 * j];
            const float* u = &acc[i][4 * (j + BN / 16)];
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int r = r0 + 8 * h;
                if (r < M) {
                    *reinterpret_cast<__nv_bfloat162*>(out + (size_t)r * inter + f) =
                        __floats2bfloat162_rn(swiglu(g[2 * h], u[2 * h]), swiglu(g[2 * h + 1], u[2 * h + 1]));
                }
            }
        }
    }
}

}  // namespace gs

// Entry points: gemm_swiglu_bm{BM}_bn{BN}_bf16, BM = 64 x CW x MW (SwigluGemm.java names them and keeps the list).
#define EMBER_SWIGLU(BM, CW, MW, BN)                                                                               \
    static_assert(BM == 64 * CW * MW, "BM = 64 x CW x MW");                                                        \
    extern "C" __global__ void __launch_bounds__((CW + 1) * 128, 1)                                               \
        gemm_swiglu_bm##BM##_bn##BN##_bf16(const __grid_constant__ CUtensorMap map_x,                              \
                                           const __grid_constant__ CUtensorMap map_w,                              \
                                           __nv_bfloat16* __restrict__ out, int M, int inter, int K) {            \
        gs::gemm_swiglu<CW, MW, BN>(map_x, map_w, out, M, inter, K);                                               \
    }
#define EMBER_SWIGLU_WIDTHS(BM, CW, MW)                                                                              \
    EMBER_SWIGLU(BM, CW, MW, 48) EMBER_SWIGLU(BM, CW, MW, 64) EMBER_SWIGLU(BM, CW, MW, 96)                         \
    EMBER_SWIGLU(BM, CW, MW, 128) EMBER_SWIGLU(BM, CW, MW, 144) EMBER_SWIGLU(BM, CW, MW, 192)
EMBER_SWIGLU_WIDTHS(64, 1, 1)
EMBER_SWIGLU_WIDTHS(128, 2, 1)
EMBER_SWIGLU_WIDTHS(192, 3, 1)
EMBER_SWIGLU_WIDTHS(256, 2, 2)
EMBER_SWIGLU(64, 1, 1, 256) EMBER_SWIGLU(128, 2, 1, 256)
