// The Hopper GEMM pipeline the sm_90a GEMMs share (gemm_swiglu_wgmma.cu, gemm_cluster_wgmma.cu): TMA loads into a
// ring of shared-memory stages that complete on mbarriers, one producer thread running ahead of 1-3 consumer
// warpgroups that issue wgmma m64nBNk16 from the ring.
//
// A block is (CW + 1) warpgroups: warpgroup 0 produces, 1..CW consume. A stage holds the x tile (BM = 64 x MW x CW
// token rows by 64 K elements) then the weight tile (BN rows by 64), each in 128-byte swizzle rows, what the wgmma
// descriptors read; consumer warpgroup c multiplies its MW 64-row slices of the x tile by the whole weight tile. The
// ring's `full[s]` mbarrier completes on the stage's TMA bytes, `empty[s]` when every consumer warp is done with it.
#pragma once
#include <cuda.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include "wgmma_ss.cuh"

namespace tg {

constexpr int BK = 64;  // K elements a stage: one 128-byte swizzle row

constexpr int SMEM_LIMIT = 227 * 1024;  // a block's dynamic shared memory on sm_90

// Ring stages: as many as fit (1 KiB to align the swizzle atoms, 16 bytes of mbarriers a stage), at most 8.
template <int BM, int BN> __host__ __device__ constexpr int stages() {
    const int fit = (SMEM_LIMIT - 1024) / ((BM + BN) * 128 + 16);
    return fit < 8 ? fit : 8;
}
template <int BM, int BN> __host__ __device__ constexpr uint32_t stage_bytes() { return (BM + BN) * 128; }
// Registers a thread of a block of CW + 1 warpgroups gets at launch: what __launch_bounds__((CW + 1) x 128, 1) lets
// ptxas use (the register file over the threads, in the allocation's units of 8), and what the block is given.
template <int CW> __host__ __device__ constexpr int launch_registers() {
    const int r = 65536 / ((CW + 1) * 128) / 8 * 8;
    return r > 255 ? 255 : r;
}
// Registers a consumer thread may hold once the producer warpgroup gives up all but 40 (setmaxnreg; multiple of 8):
// the block's launch allocation less the producer's 40, shared by the consumers, at most 232. Counted from the launch
// allocation, not the whole register file: setmaxnreg.inc waits until the block's released registers cover it.
template <int CW> __host__ __device__ constexpr int consumer_registers() {
    const int share = (launch_registers<CW>() * (CW + 1) - 40) / CW / 8 * 8;
    return share > 232 ? 232 : share;
}
// Whether the producer warpgroup hands its registers to the consumers: when that raises them (2, 3 or 4 consumers;
// one consumer's launch share is already past 232).
template <int CW> __host__ __device__ constexpr bool rebalances() { return consumer_registers<CW>() > launch_registers<CW>(); }
static_assert(consumer_registers<2>() == 232 && consumer_registers<3>() == 152 && consumer_registers<4>() == 104,
              "the consumers' registers (setmaxnreg): 232 and 152 are what the engine's kernels (2, 3 consumers) were built with");
static_assert(!rebalances<1>() && rebalances<2>() && rebalances<3>() && rebalances<4>(), "who hands registers over");

__device__ __forceinline__ uint32_t saddr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

// Shared-memory matrix descriptor, 128-byte swizzle, K-major: start >> 4 (bits 0-13), LBO (unused for a swizzled
// K-major operand: 1), SBO 1024 >> 4 (the next 8 rows), swizzle mode 1 in bits 62-63.
__device__ __forceinline__ uint64_t desc(uint32_t addr) {
    return (uint64_t)((addr >> 4) & 0x3FFF) | (1ull << 16) | ((uint64_t)(1024 >> 4) << 32) | (1ull << 62);
}

__device__ __forceinline__ void bar_init(uint32_t bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void bar_expect(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void bar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void bar_wait(uint32_t bar, uint32_t parity) {
    uint32_t done;
    do {
        asm volatile(
            "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
            : "=r"(done)
            : "r"(bar), "r"(parity)
            : "memory");
    } while (!done);
}
// TMA: box (c0 = K offset, c1 = row offset) of `map` into shared memory at dst, counted on bar's transaction bytes.
__device__ __forceinline__ void tma_load(uint32_t dst, const CUtensorMap* map, int c0, int c1, uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
        "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(bar)
        : "memory");
}
__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wg_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Keeps the compiler from moving accumulator reads or writes across a wgmma issue or wait.
template <int N> __device__ __forceinline__ void reg_fence(float (&d)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(d[i])::"memory");
}

// The ring's mbarriers, after its STAGES stages: full[s] at bars + 8 s, empty[s] at bars + 8 (STAGES + s). One
// thread initializes them; the caller synchronizes the block after.
template <int STAGES, int CW> __device__ __forceinline__ void init_ring(uint32_t bars) {
    for (int s = 0; s < STAGES; s++) {
        bar_init(bars + 8 * s, 1);
        bar_init(bars + 8 * (STAGES + s), CW * 4);  // lane 0 of each consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

// The producer thread: K steps [kb_begin, kb_end), the i-th into stage i % STAGES once its consumers released it.
// load(kb, stage address, full barrier) issues the stage's TMA loads (STAGE_BYTES in all).
template <int STAGES, uint32_t STAGE_BYTES, typename Load>
__device__ __forceinline__ void produce(uint32_t base, uint32_t bars, int kb_begin, int kb_end, Load load) {
    for (int kb = kb_begin; kb < kb_end; kb++) {
        const int i = kb - kb_begin, s = i % STAGES;
        bar_wait(bars + 8 * (STAGES + s), ((i / STAGES) & 1) ^ 1);  // a fresh barrier passes parity 1 at once
        const uint32_t full = bars + 8 * s;
        bar_expect(full, STAGE_BYTES);
        load(kb, base + s * STAGE_BYTES, full);
    }
}

// Consumer warpgroup c (0..CW-1): acc[i] += x rows (c MW + i) x 64 .. + 64 of each stage times its weight tile, over
// `steps` stages; waits for every wgmma before returning. acc must be zeroed by the caller (then reg_fence'd).
template <int STAGES, int CW, int MW, int BN>
__device__ __forceinline__ void consume(float (&acc)[MW][BN / 2], uint32_t base, uint32_t bars, int c, int steps) {
    constexpr int BM = 64 * MW * CW;
    constexpr uint32_t A_BYTES = BM * 128, STAGE_BYTES = stage_bytes<BM, BN>();
    const int tid = threadIdx.x % 128;
    for (int i = 0; i < steps; i++) {
        const int s = i % STAGES;
        bar_wait(bars + 8 * s, (i / STAGES) & 1);
        const uint32_t a = base + s * STAGE_BYTES + c * MW * 64 * 128, b = base + s * STAGE_BYTES + A_BYTES;
#pragma unroll
        for (int m = 0; m < MW; m++) reg_fence(acc[m]);
        wg_fence();
#pragma unroll
        for (int k = 0; k < BK / 16; k++) {
#pragma unroll
            for (int m = 0; m < MW; m++) wgmma::mma_ss<BN>(acc[m], desc(a + m * 64 * 128 + k * 32), desc(b + k * 32), 1);
        }
        wg_commit();
        wg_wait<1>();  // the previous stage's group is done: its buffers may be refilled
#pragma unroll
        for (int m = 0; m < MW; m++) reg_fence(acc[m]);
        if (i > 0 && tid % 32 == 0) bar_arrive(bars + 8 * (STAGES + (i - 1) % STAGES));
    }
    wg_wait<0>();
#pragma unroll
    for (int m = 0; m < MW; m++) reg_fence(acc[m]);
}

// Zeroes the accumulators; without the fence ptxas sinks some of the zeroing into the first K step and serializes
// its wgmmas (C7515).
template <int MW, int N> __device__ __forceinline__ void zero(float (&acc)[MW][N]) {
#pragma unroll
    for (int m = 0; m < MW; m++)
#pragma unroll
        for (int j = 0; j < N; j++) acc[m][j] = 0.f;
#pragma unroll
    for (int m = 0; m < MW; m++) reg_fence(acc[m]);
}

}  // namespace tg
