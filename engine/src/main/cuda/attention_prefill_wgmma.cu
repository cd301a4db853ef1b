// Prefill attention on Hopper warpgroup MMA (wgmma), sm_90a only: its own translation unit, compiled by build.sh
// into ember_kernels_sm90a.fatbin (never part of ember_kernels.cu, whose fatbin and NVRTC build target sm_80 on,
// where wgmma does not exist). The engine loads that image only on a compute capability 9.x GPU
// (backend.cuda.WgmmaPrefill) and then launches this file's one kernel instead of attn_prefill_tc_hd128_bf16.
//
// attn_prefill_wgmma64_hd128_bf16: the arguments, paged KV layout (blocks, nkv, block_size, 128) and GQA packing of
// attn_prefill_tc_hd128_bf16 (attention_paged.cu), on 64-row query tiles: the G = nh / nkv query heads of a KV head
// fill the 64 rows of a tile (row r = token * G + head), so tiles hold <= 64 / G tokens (G = 6: 10 tokens = 60 rows,
// 4 padding rows). Kernels.prefillTileTokens gives StepInputs that tile size where this kernel runs (attn_prefill_tc's
// tiles hold <= 128 / G tokens, so it takes these too); PrefillTileOrder sorts the tiles, blocks take them in reverse
// (longest first). Grid (n tiles, nkv), block wgq::THREADS = 128 (one warpgroup), dynamic shared memory wgq::SMEM =
// 115,712 bytes, so cuFuncSetAttribute must allow it, and the launch asks for the largest shared-memory carveout
// (cudaSharedmemCarveoutMaxShared): two resident blocks a SM need all of it.
// Checked against a float32 reference by engine/src/bench/cuda/prefill_wgmma.cu (with layout self-tests of every
// wgmma shape used here) and by CudaPrefillWgmmaTest. Measured (H100, docs/BENCHMARKS.md thirteenth round): 8 x
// 1,024 tokens, G = 6, longest first 101.6 µs = 254 TFLOP/s (the 128-row kernel it replaced: 111.4 µs = 232), 1 x
// 4,096 tokens 332 TFLOP/s.
//
// ptxas -v, sm_90a (nvcc 13.0.88): 168 registers (2 x 128 x 168 = 43,008 of 65,536), 0 bytes stack frame, 0 bytes
// spill stores / loads, 1 barrier, and no C7513 / C7519 / C7520 note (no wgmma serialized); 24 wgmma in the PTX
// (S(0), then S(j) + P V(j - 1) in the loop, the last P V); the same PTX in the bench's build (see tile_off). While
// the 128-row kernel (next paragraph) shared this file, the same source compiled to 180 registers: tile_off's row
// count was a function argument then, 64 here and 128 there, so the compiler did not fold it before inlining.
//
// Why 64-row tiles: the kernel this one replaced (attn_prefill_wgmma_hd128_bf16: one 128-row tile a block, two
// warpgroups, 256 threads, 225 KiB of shared memory, 226 registers) held one block a SM, ran its two warpgroups in
// lockstep (one __syncthreads a key tile) and idled through each tile's prologue. ncu (8 x 1,024 tokens, G = 6, H100)
// found the tensor pipe busy about a quarter of the time, a fifth of the stall samples in each tile's prologue
// (dependent loads: tiles -> block table -> K/V), a seventh in its epilogue, the rest in the key loop, where dependent
// chains and issue slots count (removing the integer divisions of the page lookup, the O rescale of warps whose rows
// kept their maxima and the rounded row sums took it 121.4 -> 111.4 µs: BENCHMARKS, twelfth round; all three are
// here). Two resident blocks a SM let the warp schedulers interleave two independent blocks: one block's softmax,
// prologue or epilogue overlaps the other's wgmmas, as FlashAttention-2's occupancy does.
//
// Design numbers (H100 / H200, sm_90: 65,536 registers, 228 KiB shared memory a SM, 227 KiB a block opt-in, 1 KiB
// reserved by the system for each resident block, at most 64 warps a SM):
//   threads: one warpgroup (128 threads, 4 warps) a block, no producer warp: every thread issues its share of
//   cp.async, which is asynchronous anyway. Two blocks = 8 warps a SM = 2 a scheduler, as the 128-row kernel had,
//   but from two independent blocks (no barrier between them).
//   registers: __launch_bounds__(128, 2) caps them at 65,536 / (2 x 128) = 256 -> 255; the accumulators are o 64 +
//   s 32 + p 16 = 112 a thread (the 128-row kernel's o 64 + s 64 + p 32 = 160), so ptxas lands far below (168,
//   above); 2 x 128 x 240 = 61,440 < 65,536 would hold even at 240.
//   shared memory: Q 64 x 128 bf16 = 16 KiB + 3 stages x (K + V of 64 keys = 2 x 16 KiB) = 96 KiB + 1 KiB to align
//   the 1,024-byte swizzle atoms = 113 KiB = 115,712 bytes a block; with the reserved 1 KiB, 2 x 114 KiB = 228 KiB:
//   exactly the SM's capacity, so 2 blocks a SM (cudaOccupancyMaxActiveBlocksPerMultiprocessor must say 2 with the
//   carveout at its maximum, cudaSharedmemCarveoutMaxShared; the bench prints it and flags anything else). A
//   fourth stage or a 2 KiB slack would drop to one block. Three stages because V(j-1) and K(j) are read in the same
//   iteration while tile j+1 is in flight.
//   wgmma: per key tile j the warpgroup issues S(j) = Q K(j)^T, 8 x m64n64k16 (A = Q, B = K, both K-major from
//   shared memory, 8 k16 steps over hd 128: two 64-column swizzle halves, +32 bytes a step inside a half, + R x 128
//   bytes for the second half, R = 64 rows for both Q and K), and then O += P(j-1) V(j-1), 4 x m64n128k16 (A = P
//   from registers, B = V MN-major through the transpose flag: start + 16 k x 128 bytes a step, LBO = the 64-column
//   half stride = 64 x 128 = 8,192 bytes, SBO = 1,024 = 8 keys); it waits for S(j) only, does the max / exp2 of the
//   online softmax while P V still runs on the tensor cores, then waits for P V before rescaling O and packing P(j)
//   (FlashAttention-3's intra-warpgroup overlap, without its producer warp or ping-pong barriers). The bench's
//   self-tests iv (m64n64, K = 128, B K-major) and v (m64n128 RS, V of 64 keys) check exactly these two shapes and
//   strides.
//   tensor work a 64-key tile: 64 x 64 x 128 x 2 x 2 = 2.1 MFLOP = 512 SM cycles at the H100's ~4,096 dense bf16
//   FLOP a cycle a SM (the 128-row kernel's 128 x 128 tile: 2,048 cycles, two warpgroups).
//   per key tile and thread: 8 cp.async of K and 8 of V (64 keys x 16 chunks x 2 / 128 threads), as the 128-row
//   kernel, but for half the FLOP; the page lookups are halved back (keys r and r + 8 of a thread share a page when
//   the block size is a power of two >= 16), so one block-table read and one 64-bit offset serve two rows.
// What doubles against 128-row tiles: each K/V tile loaded from L2 / HBM into shared memory serves 64 query rows
// instead of 128, so K/V global (L2) reads and the cp.async writes to shared memory double per FLOP, and so do the
// per-key-tile fixed costs (row-max shuffles, the __syncthreads, the mask test, the O-rescale vote). The wgmma
// operand reads from shared memory do not double for K and V (each 64-row warpgroup read the whole K and V tile
// anyway) but Q is re-read once per 64 keys instead of once per 128: per 64-key tile a block reads Q 16 + K 16 + V 16
// KiB and writes 32 KiB, 80 KiB = 640 cycles at 128 B a cycle, against 512 cycles of tensor work (the 128-row
// kernel: 224 KiB = 1,750 cycles against 2,048): shared memory would bind before the tensor cores above ~80 % of
// their peak, far above the ~25 % this kernel family reaches.
//
// Shared-memory layout ("tile layout"): a [R][128] bf16 tile is two column halves of 64 elements, each R rows of
// 128 bytes, half h at byte h * R * 128; inside a half, 16-byte chunk c of row r is stored at chunk c ^ (r & 7).
// That is the 128-byte swizzle the wgmma descriptors name (swizzle mode 1): within each 1024-byte, 8-row atom
// the hardware XORs address bits [4,7) with bits [7,10), so every region starts 1024-byte aligned.
//   K-major operand (Q as A, K as B of S = Q K^T; the contraction dim is the contiguous one): start address =
//   the k16 slice's first element (+32 bytes a k16 step inside a half, + R * 128 for the second half), SBO =
//   1024 (next 8 rows), LBO unused for swizzled K-major (set to 1, i.e. 16 bytes).
//   MN-major operand (V as B of O = P V: the contraction dim, keys, is the row; N = head dim is contiguous), with
//   the transpose flag: start address = row 16 k of the tile; one stride steps 8 keys (1024 bytes), the other
//   the 64-column half (R * 128 bytes): LBO = the half stride, SBO = 1024 (wgq::V_LBO / V_SBO below).
//
// Accumulator layout relied on (m64nNk16, f32): warp w of the warpgroup owns rows 16 w .. 16 w + 15; lane = 4 g + t;
// register 4 j + e holds row 16 w + g + 8 (e >> 1), column 8 j + 2 t + (e & 1) (mma.m16n8k16's C layout, repeated
// over the N / 8 column chunks). The A-from-registers fragment of one k16 step is mma.m16n8k16's A layout on the
// warp's 16 rows: a0 (row g, k 2t, 2t+1), a1 (row g + 8, same k), a2 (row g, k 2t+8, 2t+9), a3 (row g + 8, k 2t+8..).
// So the S accumulator of keys 16 k .. 16 k + 15 (chunks j = 2k, 2k + 1) packs straight into the A fragment of P
// for k step k: {pack(s[8k], s[8k+1]), pack(s[8k+2], s[8k+3]), pack(s[8k+4], s[8k+5]), pack(s[8k+6], s[8k+7])}.
#include "common.cuh"

#ifndef EMBER_WGMMA_EARLY_KV
#define EMBER_WGMMA_EARLY_KV 1  // 0 only to compare in the benchmark (prefill_wgmma.cu built with -D...=0)
#endif

typedef __nv_bfloat16 bf;

// The kernel's tile shape (design numbers above): 64 query rows, 64-key K/V tiles in 3 stages, one warpgroup.
namespace wgq {
constexpr int HD = 128, BM = 64, BN = 64, STAGES = 3, THREADS = 128;
constexpr uint32_t Q_BYTES = BM * HD * 2, KV_BYTES = BN * HD * 2, STAGE_BYTES = 2 * KV_BYTES;  // 16, 16, 32 KiB
constexpr uint32_t Q_HALF = BM * 128, KV_HALF = BN * 128;  // 8,192 bytes between the two 64-column halves
constexpr int SMEM = 1024 + Q_BYTES + STAGES * STAGE_BYTES;  // 115,712 = 113 KiB (1 KiB: to align the swizzle atoms)
// MN-major V descriptor strides, as the PTX ISA's matrix-descriptor section and CUTLASS's MN-major 128B-swizzle
// layouts assign them: LBO steps to the next 64-column half, SBO to the next 8 keys (one 1024-byte swizzle atom).
// The bench's self-test v checks this assignment on the GPU (a 64-key V tile).
constexpr uint32_t V_LBO = KV_HALF, V_SBO = 1024;
static_assert(2 * (SMEM + 1024) <= 228 * 1024, "two blocks a SM: 228 KiB a SM, 1 KiB reserved a block");
}  // namespace wgq

namespace wg {

__device__ __forceinline__ uint32_t saddr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

// Shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor Format" of wgmma): start address >> 4 in bits 0-13,
// leading dimension byte offset >> 4 in bits 16-29, stride dimension byte offset >> 4 in bits 32-45, base offset
// (bits 49-51) 0 because every swizzle atom is 1024-byte aligned, swizzle mode in bits 62-63: 1 = 128-byte swizzle.
__device__ __forceinline__ uint64_t make_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
    return (uint64_t)((addr >> 4) & 0x3FFF) | ((uint64_t)((lbo >> 4) & 0x3FFF) << 16) |
           ((uint64_t)((sbo >> 4) & 0x3FFF) << 32) | (1ull << 62);
}
// A start address moved by `bytes` (a multiple of 16): the field is the low 14 bits and our addresses stay below
// 256 KiB, so a plain add never carries out of it.
__device__ __forceinline__ uint64_t desc_add(uint64_t d, uint32_t bytes) { return d + (bytes >> 4); }

// Byte offset of element (r, c) in a [R][W] tile layout (W a multiple of 64; column half c / 64 at c/64 * R * 128).
// R is a template argument so that every use has it as a constant: with R a function argument, nvcc 13.0 folds it
// into the function before inlining only when every call in the translation unit passes the same value, so another
// kernel in the unit (the bench's self-tests) changed the code this kernel got (180 registers against 168).
template <int R> __host__ __device__ __forceinline__ uint32_t tile_off(int r, int c) {
    return (uint32_t)((c >> 6) * R * 128 + r * 128 + ((((c & 63) >> 3) ^ (r & 7)) << 4) + (c & 7) * 2);
}

__device__ __forceinline__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
// Keeps the compiler from moving reads or writes of accumulator registers across a wgmma issue or wait: the asm
// "uses and redefines" each register, so it must be in place at this point.
template <int N> __device__ __forceinline__ void reg_fence(float (&d)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(d[i])::"memory");
}
template <int N> __device__ __forceinline__ void reg_fence(uint32_t (&d)[N][4]) {
#pragma unroll
    for (int i = 0; i < N; i++)
#pragma unroll
        for (int e = 0; e < 4; e++) asm volatile("" : "+r"(d[i][e])::"memory");
}
// Shared memory written by the generic proxy (st.shared, cp.async) and read next by wgmma (the async proxy): each
// writing thread fences before the barrier that publishes the data.
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

__device__ __forceinline__ float ex2(float x) {  // ex2.approx: -inf gives +0, as the masked scores need
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (low half) = the lower column / k index
    return *reinterpret_cast<uint32_t*>(&v);
}
// N values (a power of two) combined pairwise, log2(N) deep: a warp's chain of dependent instructions, not N long
// (two warps a scheduler hide little latency).
template <int N, typename Op> __device__ __forceinline__ float tree(float (&v)[N], Op op) {
    if constexpr (N == 1) {
        return v[0];
    } else {
        float h[N / 2];
#pragma unroll
        for (int i = 0; i < N / 2; i++) h[i] = op(v[i], v[i + N / 2]);
        return tree<N / 2>(h, op);
    }
}
// floor(r / G) for 0 <= r < 128 and 1 <= G <= 128 without an integer division: (r + 0.5) / G is at least 1 / 256
// from an integer, far beyond float32's error here (rcp_g = 1.f / G, rounded once)
__device__ __forceinline__ int div_small(int r, float rcp_g) { return __float2int_rd(((float)r + 0.5f) * rcp_g); }

// wgmma wrappers (generated: d is N / 2 f32 registers; accum 0 overwrites d; TB the transpose-B immediate).
// _ss: A and B from shared-memory descriptors; _rs: A from four registers (the m16n8k16 A fragment).
// m64n64k16 SS: S = Q K^T (64 keys a tile); m64n128k16 RS: O += P V.
template <int TB> __device__ __forceinline__ void mma_n64_ss(float (&d)[32], uint64_t a, uint64_t b, int accum) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, %35;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "l"(a), "l"(b), "r"(accum), "n"(TB)
        : "memory");
}

template <int TB> __device__ __forceinline__ void mma_n128_rs(float (&d)[64], const uint32_t (&a)[4], uint64_t b, int accum) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p, 1, 1, %70;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accum), "n"(TB)
        : "memory");
}

// A thread's two accumulator rows (A: e < 2, B: e >= 2 of s[4 n + e]; column 8 n + 2 t + (e & 1) of the key tile)
// through the online softmax (NC = 8: 8-key column chunks of a 64-key tile). mA / mB the running maxima (raw
// score units), lA / lB the thread's partial row sums.
struct RowSoftmax {
    static constexpr int NC = wgq::BN / 8;
    float mA = -INFINITY, mB = -INFINITY, lA = 0.f, lB = 0.f;

    // The softmax of one S tile (its wgmma group waited for) with keys from key0; mask: a diagonal (or past-the-end)
    // tile for some row, whose keys past limA / limB go to -inf. pv: P V of the previous tile is still in flight, so
    // o and p are touched only after waiting for it, and the max / exp2 work above that wait overlaps it.
    __device__ __forceinline__ void step(float (&s)[4 * NC], float (&o)[64], uint32_t (&p)[NC / 2][4], bool mask,
                                         int key0, int limA, int limB, int t, float sl2, bool pv) {
        reg_fence(s);
        if (mask) {
#pragma unroll
            for (int n = 0; n < NC; n++) {
                const int k0 = key0 + 8 * n + 2 * t;
                s[4 * n + 0] = k0 <= limA ? s[4 * n + 0] : -INFINITY;
                s[4 * n + 1] = k0 + 1 <= limA ? s[4 * n + 1] : -INFINITY;
                s[4 * n + 2] = k0 <= limB ? s[4 * n + 2] : -INFINITY;
                s[4 * n + 3] = k0 + 1 <= limB ? s[4 * n + 3] : -INFINITY;
            }
        }
        float tA[NC], tB[NC];
#pragma unroll
        for (int n = 0; n < NC; n++) {
            tA[n] = fmaxf(s[4 * n + 0], s[4 * n + 1]);
            tB[n] = fmaxf(s[4 * n + 2], s[4 * n + 3]);
        }
        float mxA = fmaxf(mA, tree<NC>(tA, [](float a, float b) { return fmaxf(a, b); }));
        float mxB = fmaxf(mB, tree<NC>(tB, [](float a, float b) { return fmaxf(a, b); }));
        mxA = fmaxf(mxA, __shfl_xor_sync(0xffffffffu, mxA, 1));
        mxA = fmaxf(mxA, __shfl_xor_sync(0xffffffffu, mxA, 2));
        mxB = fmaxf(mxB, __shfl_xor_sync(0xffffffffu, mxB, 1));
        mxB = fmaxf(mxB, __shfl_xor_sync(0xffffffffu, mxB, 2));
        // a row with no visible key yet keeps max -inf: subtract 0 then, so ex2 gives 0 instead of NaN
        const float subA = mxA == -INFINITY ? 0.f : mxA * sl2, subB = mxB == -INFINITY ? 0.f : mxB * sl2;
#pragma unroll
        for (int n = 0; n < NC; n++) {
            s[4 * n + 0] = ex2(fmaf(s[4 * n + 0], sl2, -subA));
            s[4 * n + 1] = ex2(fmaf(s[4 * n + 1], sl2, -subA));
            s[4 * n + 2] = ex2(fmaf(s[4 * n + 2], sl2, -subB));
            s[4 * n + 3] = ex2(fmaf(s[4 * n + 3], sl2, -subB));
        }
        const float aA = ex2(mA * sl2 - subA), aB = ex2(mB * sl2 - subB);  // -inf (first tile) gives 0
        mA = mxA;
        mB = mxB;
        if (pv) {
            wait<0>();  // P V of the previous tile done: o may be rescaled and p overwritten
            reg_fence(o);
            reg_fence(p);
        }
        // Once a row's maximum settles (most key tiles after the first few), its factor is exactly 1: a warp whose
        // 16 rows all kept their maxima skips the 64 multiplies (x * 1 == x, so the result is the same bits).
        if (__any_sync(0xffffffffu, aA != 1.f || aB != 1.f)) {
#pragma unroll
            for (int n = 0; n < 16; n++) {
                o[4 * n + 0] *= aA;
                o[4 * n + 1] *= aA;
                o[4 * n + 2] *= aB;
                o[4 * n + 3] *= aB;
            }
            lA *= aA;
            lB *= aB;
        }
        // P rounded to bf16 (what P V multiplies); the row sums add the unrounded values, as FlashAttention does (the
        // rounded ones cost two more instructions an element, and the kernel is short of issue slots), in a tree
        float sumA[NC / 2], sumB[NC / 2];
#pragma unroll
        for (int k = 0; k < NC / 2; k++) {
            p[k][0] = pack_bf16(s[8 * k + 0], s[8 * k + 1]);
            p[k][1] = pack_bf16(s[8 * k + 2], s[8 * k + 3]);
            p[k][2] = pack_bf16(s[8 * k + 4], s[8 * k + 5]);
            p[k][3] = pack_bf16(s[8 * k + 6], s[8 * k + 7]);
            sumA[k] = (s[8 * k + 0] + s[8 * k + 1]) + (s[8 * k + 4] + s[8 * k + 5]);
            sumB[k] = (s[8 * k + 2] + s[8 * k + 3]) + (s[8 * k + 6] + s[8 * k + 7]);
        }
        lA += tree<NC / 2>(sumA, [](float a, float b) { return a + b; });
        lB += tree<NC / 2>(sumB, [](float a, float b) { return a + b; });
    }

    // The finished rows (o = the last P V's accumulator) divided by their sums into out: row r of the tile is token
    // r / G of the tile (from t0) and query head kvh * G + r % G; padding rows (token >= count) are not written.
    __device__ __forceinline__ void store(bf* __restrict__ out, const float (&o)[64], int rA, int rB, int tokA, int tokB,
                                          int count, int t0, int nh, int kvh, int G, int t) {
        lA += __shfl_xor_sync(0xffffffffu, lA, 1);
        lA += __shfl_xor_sync(0xffffffffu, lA, 2);
        lB += __shfl_xor_sync(0xffffffffu, lB, 1);
        lB += __shfl_xor_sync(0xffffffffu, lB, 2);
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int r = h ? rB : rA, tok = h ? tokB : tokA;
            if (tok >= count) continue;
            const float l = h ? lB : lA, inv = l > 0.f ? 1.f / l : 0.f;
            bf* orow = out + (size_t)(t0 + tok) * nh * 128 + (kvh * G + (r - tok * G)) * 128 + 2 * t;
#pragma unroll
            for (int n = 0; n < 16; n++)
                *reinterpret_cast<__nv_bfloat162*>(orow + 8 * n) =
                    __floats2bfloat162_rn(o[4 * n + 2 * h] * inv, o[4 * n + 2 * h + 1] * inv);
        }
    }
};

}  // namespace wg

// Keys [base, base + 64) of KV head kvh into one stage (K at dst, V at dst + KV_BYTES), zero-filled past `end`
// (zero K gives score 0, masked anyway; zero V keeps padded keys from adding NaN), for any block size: 16 threads a
// key row, so a row's 256 contiguous bytes are one coalesced read; thread tid copies chunk tid & 15 of rows
// tid / 16 + 8 i and looks each row's page up in the block table. bs_shift = log2(bs) when the block size is a power
// of two (16, the default), else -1: the page and the offset in it are then a shift and a mask instead of an integer
// division and remainder by a runtime divisor (about 20 instructions each: the kernel issues more instructions than
// its tensor work hides). load_kv below takes this path only for a block size that is not a power of two >= 16.
__device__ __forceinline__ void load_kv_rows(uint32_t dst, const bf* __restrict__ kc, const bf* __restrict__ vc,
                                             const int* __restrict__ bt, int base, int end, int kvh, int nkv, int bs,
                                             int bs_shift, int tid) {
    using namespace wgq;
    const int c = tid & 15;
#pragma unroll
    for (int i = 0; i < BN * 16 / THREADS; i++) {
        const int r = (tid >> 4) + (THREADS / 16) * i, key = base + r;
        const bool ok = key < end;
        size_t off = 0;
        if (ok) {
            const int page = bs_shift >= 0 ? key >> bs_shift : key / bs;
            off = (((size_t)bt[page] * nkv + kvh) * bs + (key - page * bs)) * HD + c * 8;
        }
        const uint32_t o = wg::tile_off<BN>(r, c * 8);
        wg::cp_async16(dst + o, kc + off, ok ? 16 : 0);
        wg::cp_async16(dst + KV_BYTES + o, vc + off, ok ? 16 : 0);
    }
}

// One query tile of one KV head: tiles[3 tile ..] = (sequence, first token, tokens), the tile's first position pos0
// and its key range [0, kv_end), the sequence's block table, log2 of the block size (-1 unless a power of two), G
// query heads a KV head and 1 / G.
struct PrefillTile {
    int seq, t0, count, pos0, kv_end, G, bs_shift;
    float rcp_g;
    const int* bt;

    __device__ __forceinline__ PrefillTile(int tile, const int* __restrict__ tiles, const int* __restrict__ query_start,
                                           const int* __restrict__ context_lens, const int* __restrict__ block_tables,
                                           int bt_stride, int nh, int nkv, int bs) {
        G = nh / nkv;
        rcp_g = 1.f / (float)G;
        seq = tiles[3 * tile];
        t0 = tiles[3 * tile + 1];
        count = tiles[3 * tile + 2];
        const int qlen = query_start[seq + 1] - query_start[seq];
        pos0 = context_lens[seq] - qlen + (t0 - query_start[seq]);
        kv_end = pos0 + count;
        bt = block_tables + (size_t)seq * bt_stride;
        bs_shift = (bs & (bs - 1)) == 0 ? __ffs(bs) - 1 : -1;
    }

    // Q rows r = token * G + head of KV head kvh into the 64-row tile at sQ (16 threads a row), zero past `count`
    // (zero rows score 0 everywhere: finite, never written)
    __device__ __forceinline__ void load_q(uint32_t sQ, const bf* __restrict__ q, int nh, int kvh, int tid) const {
        using namespace wgq;
        const int c = tid & 15;
#pragma unroll
        for (int i = 0; i < BM * 16 / THREADS; i++) {
            const int r = (tid >> 4) + (THREADS / 16) * i, tok = wg::div_small(r, rcp_g), g = r - tok * G;
            const bool ok = tok < count;
            const bf* src = ok ? q + (size_t)(t0 + tok) * nh * 128 + (kvh * G + g) * 128 + c * 8 : q;
            wg::cp_async16(sQ + wg::tile_off<BM>(r, c * 8), src, ok ? 16 : 0);
        }
    }
};

// Keys [base, base + 64) of KV head kvh into one stage, as load_kv_rows, with half its block-table reads: thread tid
// copies chunk c = tid & 15 of rows r0 + 8 i (r0 = tid >> 4 < 8, i < 8). base is a multiple of 64, so for a
// power-of-two block size >= 16 (bs_shift >= 4) keys base + r0 + 16 m and base + r0 + 16 m + 8 lie in one page
// (their offset in a 16-key group is r0 and r0 + 8 < 16): one block-table read serves both, the second row's source
// is the first's + 8 keys and its tile offset the first's + 1,024 ((r + 8) & 7 == r & 7).
__device__ __forceinline__ void load_kv(uint32_t dst, const bf* __restrict__ kc, const bf* __restrict__ vc,
                                        const int* __restrict__ bt, int base, int end, int kvh, int nkv, int bs,
                                        int bs_shift, int tid) {
    using namespace wgq;
    const int c = tid & 15, r0 = tid >> 4;
    if (bs_shift >= 4) {  // uniform: the block size is the same for every thread
#pragma unroll
        for (int m = 0; m < BN / 16; m++) {
            const int r = r0 + 16 * m, key = base + r;
            const bool ok0 = key < end, ok1 = key + 8 < end;
            size_t off = 0;
            if (ok0) off = (((size_t)bt[key >> bs_shift] * nkv + kvh) * bs + (key & (bs - 1))) * HD + c * 8;
            const uint32_t o = wg::tile_off<BN>(r, c * 8);
            // the + 8 keys source is inside the same page (or the cache's first rows when !ok0): a valid address,
            // read for 0 bytes when !ok1
            wg::cp_async16(dst + o, kc + off, ok0 ? 16 : 0);
            wg::cp_async16(dst + KV_BYTES + o, vc + off, ok0 ? 16 : 0);
            wg::cp_async16(dst + o + 1024, kc + off + 8 * HD, ok1 ? 16 : 0);
            wg::cp_async16(dst + KV_BYTES + o + 1024, vc + off + 8 * HD, ok1 ? 16 : 0);
        }
    } else {
        load_kv_rows(dst, kc, vc, bt, base, end, kvh, nkv, bs, bs_shift, tid);
    }
}

// Arguments exactly as attn_prefill_tc_hd128_bf16 (attention_paged.cu); grid (n tiles, nkv), block wgq::THREADS =
// 128, dynamic shared memory wgq::SMEM. Tiles hold <= 64 / G tokens; blocks take them in reverse (longest first,
// PrefillTileOrder).
extern "C" __global__ void __launch_bounds__(wgq::THREADS, 2)
attn_prefill_wgmma64_hd128_bf16(bf* __restrict__ out, const bf* __restrict__ q, const bf* __restrict__ kc,
                                const bf* __restrict__ vc, const int* __restrict__ tiles,
                                const int* __restrict__ query_start, const int* __restrict__ context_lens,
                                const int* __restrict__ block_tables, int bt_stride, int nh, int nkv, int bs,
                                float scale) {
    using namespace wgq;
    using namespace wg;
    extern __shared__ unsigned char wq_smem[];
    const uint32_t sQ = (saddr(wq_smem) + 1023) & ~1023u;
    const uint32_t sKV = sQ + Q_BYTES;
    const int tile = gridDim.x - 1 - blockIdx.x, kvh = blockIdx.y, tid = threadIdx.x;
    const PrefillTile pt(tile, tiles, query_start, context_lens, block_tables, bt_stride, nh, nkv, bs);
    const int G = pt.G, t0 = pt.t0, count = pt.count, pos0 = pt.pos0, kv_end = pt.kv_end, bs_shift = pt.bs_shift;
    const float rcp_g = pt.rcp_g;
    const int* bt = pt.bt;
    pt.load_q(sQ, q, nh, kvh, tid);
    const int ntiles = (kv_end + BN - 1) / BN;
    load_kv(sKV, kc, vc, bt, 0, kv_end, kvh, nkv, bs, bs_shift, tid);
    cp_commit();
#if EMBER_WGMMA_EARLY_KV
    // Tile 1 goes out with tile 0 (its stage is free at the start), so its load overlaps tile 0's instead of
    // starting after tile 0 has landed and S(0) is issued: one load latency less a tile. Later tiles cannot go two
    // ahead: tile j + 2's stage is tile j - 1's, which P V(j - 1) reads during iteration j.
    if (ntiles > 1) load_kv(sKV + STAGE_BYTES, kc, vc, bt, BN, kv_end, kvh, nkv, bs, bs_shift, tid);
    cp_commit();
#endif

    const int w = tid >> 5, lane = tid & 31, t = lane & 3;
    const int rA = w * 16 + (lane >> 2), rB = rA + 8;  // this thread's two accumulator rows
    const int tokA = div_small(rA, rcp_g), tokB = div_small(rB, rcp_g);
    const int limA = tokA < count ? pos0 + tokA : -1;  // last visible key (inclusive); -1: padding row
    const int limB = tokB < count ? pos0 + tokB : -1;
    // row 0 (token 0) has the smallest limit of the block: key tiles past pos0 need the mask
    const float sl2 = scale * 1.4426950408889634f;

    float o[64], s[32];
    uint32_t p[4][4];
    RowSoftmax rows;
#pragma unroll
    for (int i = 0; i < 64; i++) o[i] = 0.f;
#pragma unroll
    for (int i = 0; i < 32; i++) s[i] = 0.f;
#pragma unroll
    for (int k = 0; k < 4; k++) p[k][0] = p[k][1] = p[k][2] = p[k][3] = 0u;
    const uint64_t dQ = make_desc(sQ, 16, 1024);
    const uint64_t dK = make_desc(sKV, 16, 1024);
    const uint64_t dV = make_desc(sKV + KV_BYTES, V_LBO, V_SBO);

    // Tile j has landed (this thread's copies), is visible to the async proxy, and every thread is past iteration
    // j - 1, so the stage of tile j - 2 (last read by P V(j - 2), waited for there) is free for tile j + 1.
    auto sync_tile = [&]() {
        cp_wait<0>();
        fence_proxy_async();
        __syncthreads();
    };
    // Tile j + 1's copies go out after this iteration's wgmma issues: their block-table reads then wait while the
    // tensor cores already run, and the copies have the whole iteration to land.
    auto prefetch = [&](int j) {
        if (j + 1 < ntiles) load_kv(sKV + ((j + 1) % STAGES) * STAGE_BYTES, kc, vc, bt, (j + 1) * BN, kv_end, kvh, nkv, bs, bs_shift, tid);
        cp_commit();
    };
    auto issue_s = [&](int j) {
        const uint32_t st = (j % STAGES) * STAGE_BYTES;
#pragma unroll
        for (int k = 0; k < 8; k++)
            mma_n64_ss<0>(s, desc_add(dQ, (k >> 2) * Q_HALF + (k & 3) * 32),
                          desc_add(dK, st + (k >> 2) * KV_HALF + (k & 3) * 32), k > 0);
        commit();
    };
    auto issue_pv = [&](int j) {
        const uint32_t st = (j % STAGES) * STAGE_BYTES;
#pragma unroll
        for (int k = 0; k < 4; k++) mma_n128_rs<1>(o, p[k], desc_add(dV, st + k * 16 * 128), 1);
        commit();
    };
    auto softmax = [&](int j, bool pv) {
        rows.step(s, o, p, j * BN + BN - 1 > pos0, j * BN, limA, limB, t, sl2, pv);
    };

    // The wgmma issues sit outside any branch on the thread index and in one fence ... commit run each: ptxas
    // serializes every wgmma of a kernel that has one under a divergent branch (C7520) or behind an ordinary
    // instruction inside the run (C7513).
#if EMBER_WGMMA_EARLY_KV
    cp_wait<1>();  // Q and tile 0 (tile 1 may still be in flight; sync_tile(1) waits for it)
    fence_proxy_async();
    __syncthreads();
#else
    sync_tile();
#endif
    reg_fence(s);
    fence();
    issue_s(0);
#if !EMBER_WGMMA_EARLY_KV
    prefetch(0);
#endif
    wait<0>();
    softmax(0, false);
    for (int j = 1; j < ntiles; j++) {
        sync_tile();
        reg_fence(s);
        reg_fence(o);
        reg_fence(p);
        fence();  // s, o, p were written by ordinary instructions since the last wgmma
        issue_s(j);
        issue_pv(j - 1);
        prefetch(j);
        wait<1>();  // S(j) done; P V(j - 1) may still run
        softmax(j, true);
    }
    {  // P V of the last tile
        reg_fence(o);
        reg_fence(p);
        fence();
        issue_pv(ntiles - 1);
        wait<0>();
        reg_fence(o);
    }
    rows.store(out, o, rA, rB, tokA, tokB, count, t0, nh, kvh, G, t);
}
