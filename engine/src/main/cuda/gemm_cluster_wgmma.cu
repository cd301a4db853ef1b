// Decode-shaped GEMMs on Hopper (sm_90a): y (M x N, bf16) = x (M x K) . W (N x K)^T for M <= 256, K split over the
// S blocks of a thread-block cluster and reduced on chip through distributed shared memory.
//
// Why: at decode sizes a projection's output is a few tiles wide (Qwen2-1.5B's o_proj and down_proj: 1,536 features
// = 8 tiles of 192), so one block a tile leaves most of the 132 SMs idle while the weight, the bytes that bound the
// call, streams through a few. Splitting K over S blocks puts S x the SMs on the weight; the S partial sums (float32,
// M x BN a block) meet in shared memory instead of global memory, where a split-K GEMM's reduction cost as much as the
// weight bytes it saved (gemm_splitk_bench, BENCHMARKS' fifteenth round). Wide tiles keep the x re-reads down: every
// tile reads the whole x (M x K) from L2, N / BN times in all.
//
// gemm_cluster<CW, MW, BN, S>(map_x, map_w, y, M, N, K): grid (ceil(N / BN) x S, ceil(M / BM)), clusters of S blocks
// along x (__cluster_dims__), block (CW + 1) x 128 threads, BM = 64 x MW x CW, dynamic shared memory smem_bytes<>().
// Block rank r of a cluster takes the K steps [r K / (64 S), (r + 1) K / (64 S)) of tile blockIdx.x / S through the
// TMA/mbarrier/wgmma pipeline of tma_gemm.cuh; then each consumer thread writes its float32 accumulators into its
// block's shared memory (the ring, free once every consumer is done with it), the cluster meets at a barrier, and
// block r adds rows [r BM / S, (r + 1) BM / S) of the S blocks' partials in rank order (so the sum's order, and the
// result, is the same every run), rounds to bf16 and stores them; a second cluster barrier keeps every block's shared
// memory alive until the others have read it. K must be a multiple of 64, N of 8; x rows, W rows and y 16-byte
// aligned. Rows past M and weight rows past N read as zeros (the tensor maps' bounds) and are not stored.
#pragma once
#include "tma_gemm.cuh"

namespace gc {

using namespace tg;

// The partials' row pitch in floats: BN + 8 so the 8 rows a warp's quad-rows write fall in different banks.
template <int BN> __host__ __device__ constexpr int pitch() { return BN + 8; }

template <int BM, int BN> __host__ __device__ constexpr int smem_bytes() {
    constexpr int ring = stages<BM, BN>() * stage_bytes<BM, BN>(), partials = BM * pitch<BN>() * 4;
    return 1024 + (ring > partials ? ring : partials) + 16 * stages<BM, BN>();
}

__device__ __forceinline__ uint32_t cluster_rank() {
    uint32_t r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
    return r;
}
// Every thread of every block of the cluster: release this block's shared-memory writes, acquire the others'.
__device__ __forceinline__ void cluster_sync() {
    asm volatile("barrier.cluster.arrive.release;\nbarrier.cluster.wait.acquire;\n" ::: "memory");
}
// The address of this block's shared-memory word `addr` in block `rank` of the cluster.
__device__ __forceinline__ uint32_t remote(uint32_t addr, uint32_t rank) {
    uint32_t r;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(r) : "r"(addr), "r"(rank));
    return r;
}
__device__ __forceinline__ float4 ld_cluster(uint32_t addr) {
    float4 v;
    asm volatile("ld.shared::cluster.v4.f32 {%0, %1, %2, %3}, [%4];\n"
                 : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
                 : "r"(addr)
                 : "memory");
    return v;
}

template <int CW, int MW, int BN, int S>
// The maps by reference: the entry point's __grid_constant__ parameters, so TMA reads them where they are.
__device__ __forceinline__ void gemm_cluster(const CUtensorMap& map_x, const CUtensorMap& map_w,
                                             __nv_bfloat16* __restrict__ y, int M, int N, int K) {
    constexpr int BM = 64 * MW * CW;
    static_assert(BM <= 256 && BN <= 256, "a TMA box has at most 256 rows");
    static_assert(MW * BN / 2 <= 192, "accumulators beyond 192 registers a thread spill");
    static_assert(BM % S == 0, "the S blocks of a cluster reduce BM / S rows each");
    constexpr int STAGES = stages<BM, BN>();
    constexpr uint32_t A_BYTES = BM * 128, STAGE_BYTES = stage_bytes<BM, BN>();
    constexpr int RING = STAGES * STAGE_BYTES, PARTIALS = BM * pitch<BN>() * 4;
    extern __shared__ uint8_t smem_raw[];
    const uint32_t base = (saddr(smem_raw) + 1023u) & ~1023u;
    const uint32_t bars = base + (RING > PARTIALS ? RING : PARTIALS);
    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;
    const uint32_t rank = cluster_rank();
    const int n0 = blockIdx.x / S * BN, m0 = blockIdx.y * BM;
    const int kb_count = K / BK, kb_begin = kb_count * rank / S, kb_end = kb_count * (rank + 1) / S;
    if (threadIdx.x == 0) init_ring<STAGES, CW>(bars);
    __syncthreads();

    if (wg == 0) {
        if constexpr (rebalances<CW>()) asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
        if (tid == 0) {
            produce<STAGES, STAGE_BYTES>(base, bars, kb_begin, kb_end, [&](int kb, uint32_t a, uint32_t full) {
                tma_load(a, &map_x, kb * BK, m0, full);
                tma_load(a + A_BYTES, &map_w, kb * BK, n0, full);
            });
        }
        // the producer warpgroup arrives at the consumers' two cluster barriers and leaves the sums to them (its 40
        // registers are spoken for by its own path, not the reduction's)
        cluster_sync();
        cluster_sync();
        return;
    }
    if constexpr (rebalances<CW>()) asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(consumer_registers<CW>()));
    const int c = wg - 1;
    float acc[MW][BN / 2];
    zero(acc);
    consume<STAGES, CW, MW, BN>(acc, base, bars, c, kb_end - kb_begin);
    // every consumer warpgroup has read its last stage before any overwrites the ring with partials; the proxy fence
    // orders the async proxy's use of the ring (TMA writes, wgmma reads) before these generic stores, which the
    // implicit fence of wgmma's completion is read to cover too: one instruction a thread to leave no doubt
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    asm volatile("bar.sync 1, %0;\n" ::"n"(CW * 128) : "memory");
    // thread (warp w, lane l) holds rows 16 w + l / 4 (+ 8) and columns 8 j + 2 (l % 4) + {0, 1}
    const int w = tid / 32, l = tid % 32;
    float* partial = reinterpret_cast<float*>(smem_raw + (base - saddr(smem_raw)));
#pragma unroll
    for (int m = 0; m < MW; m++) {
        const int r = (c * MW + m) * 64 + 16 * w + l / 4;
#pragma unroll
        for (int j = 0; j < BN / 8; j++) {
            const int col = 8 * j + 2 * (l % 4);
            *reinterpret_cast<float2*>(partial + r * pitch<BN>() + col) = make_float2(acc[m][4 * j], acc[m][4 * j + 1]);
            *reinterpret_cast<float2*>(partial + (r + 8) * pitch<BN>() + col) =
                make_float2(acc[m][4 * j + 2], acc[m][4 * j + 3]);
        }
    }
    cluster_sync();

    // Block `rank` adds rows [rank BM / S, ...) of the S partials, 4 columns a thread at a time, in rank order.
    constexpr int ROWS = BM / S, CHUNKS = ROWS * BN / 4;
    for (int q = threadIdx.x - 128; q < CHUNKS; q += CW * 128) {
        const int row = rank * ROWS + q / (BN / 4), col = 4 * (q % (BN / 4));
        const uint32_t at = base + (row * pitch<BN>() + col) * 4;
        float4 sum = ld_cluster(remote(at, 0));
#pragma unroll
        for (int s = 1; s < S; s++) {
            const float4 v = ld_cluster(remote(at, s));
            sum.x += v.x;
            sum.y += v.y;
            sum.z += v.z;
            sum.w += v.w;
        }
        const int r = m0 + row, n = n0 + col;
        if (r < M && n < N) {
            const __nv_bfloat162 pair[2] = {__floats2bfloat162_rn(sum.x, sum.y), __floats2bfloat162_rn(sum.z, sum.w)};
            uint2 packed;
            memcpy(&packed, pair, sizeof packed);
            *reinterpret_cast<uint2*>(y + (size_t)r * N + n) = packed;
        }
    }
    cluster_sync();
}

}  // namespace gc

// Entry points: gemm_cluster_bm{BM}_bn{BN}_s{S}_bf16, BM = 64 x CW x MW (ClusterGemm.java names them and keeps the list).
#define EMBER_CLUSTER(BM, CW, MW, BN, S)                                                                           \
    static_assert(BM == 64 * CW * MW, "BM = 64 x CW x MW");                                                        \
    extern "C" __global__ void __cluster_dims__(S, 1, 1) __launch_bounds__((CW + 1) * 128, 1)                      \
        gemm_cluster_bm##BM##_bn##BN##_s##S##_bf16(const __grid_constant__ CUtensorMap map_x,                      \
                                                   const __grid_constant__ CUtensorMap map_w,                      \
                                                   __nv_bfloat16* __restrict__ y, int M, int N, int K) {          \
        gc::gemm_cluster<CW, MW, BN, S>(map_x, map_w, y, M, N, K);                                                 \
    }
#define EMBER_CLUSTER_SPLITS(BM, CW, MW, BN) EMBER_CLUSTER(BM, CW, MW, BN, 4) EMBER_CLUSTER(BM, CW, MW, BN, 8)
#define EMBER_CLUSTER_WIDTHS(BM, CW, MW)                                                                             \
    EMBER_CLUSTER_SPLITS(BM, CW, MW, 96) EMBER_CLUSTER_SPLITS(BM, CW, MW, 128) EMBER_CLUSTER_SPLITS(BM, CW, MW, 192)
EMBER_CLUSTER_WIDTHS(64, 1, 1)
EMBER_CLUSTER_WIDTHS(128, 2, 1)
EMBER_CLUSTER_WIDTHS(192, 3, 1)
EMBER_CLUSTER_WIDTHS(256, 2, 2)
EMBER_CLUSTER_SPLITS(64, 1, 1, 256) EMBER_CLUSTER_SPLITS(128, 2, 1, 256)
