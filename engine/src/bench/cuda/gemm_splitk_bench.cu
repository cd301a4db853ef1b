// Decode-sized GEMM on Hopper warpgroup MMA with split K reduced inside the kernel: a bench, not an engine kernel.
// It asks whether a GEMM of Ember's own can beat cuBLAS where item 2 of issue 8 is missed: the 129–256-row
// decode GEMMs at 65–69 % of their floor (docs/BENCHMARKS.md, fourteenth round: nothing in cuBLASLt beats its
// heuristic there; down_proj 1,536 x 8,960 at 256 rows takes 17.7 µs on an H100 against a 10.9 µs floor).
// Answer (BENCHMARKS, fifteenth round; H100): no. down_proj at 256 rows takes 26.2 µs (cuBLAS 18.7), its main loop
// alone 20.9; the reduction of the float32 partials 4-5 µs; the cooperative launch ~0.1 µs. Kept as the record and
// as the harness for a next design (TMA + mbarrier producer/consumer warps, a smaller split).
//
//   y (M, N) = x (M, K) · W (N, K)^T, bf16 in, float32 accumulate, bf16 out, M <= 256 (rows = tokens).
//
// Design (its prediction proved wrong, see above): a block = two warpgroups = 128 output features x BT tokens, BT the smallest of 144,
// 192 and 256 that holds M (wgmma m64nBTk16, A = the W tile, B = the x tile, both K-major from 128-byte-swizzled
// shared memory; the two warpgroups share the x tile), 64-wide K steps through a 4-stage cp.async ring (48 KiB a
// stage at 256 tokens). The grid is (N / 128 feature tiles) x S K-slices
// with S = SMs / tiles (11 for N = 1,536 on 132 SMs: every SM streams weights, where cuBLAS's 128 x 128 tiles give
// down_proj 24 blocks). Each block writes its float32 partial tile to a workspace; the S blocks of a feature tile then
// meet at a counter (all blocks are co-resident: a cooperative launch guarantees it or fails) and each reduces 1/S of
// the tile's rows, adding the S partials in slice order (the same bits every run), rounds to bf16 and writes y; the
// last block to finish puts the counters back to 0 for the next launch. Counted for down_proj at 256 rows: W 27.5 MB
// from HBM (9.1 µs at 3.0 TB/s), x re-read by 12 feature tiles 55 MB from L2, partials 17 MB out and in, 7.0 GFLOP
// (8.8 µs at 800 TFLOP/s): predicted 13–16 µs against cuBLAS's 17.7 (a kernel at 14 µs would put the 256-row step's
// GEMMs at 71 % of the floor, item 2's line).
//
//   nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -I engine/src/main/cuda \
//        engine/src/bench/cuda/gemm_splitk_bench.cu -o /tmp/gemm_splitk && /tmp/gemm_splitk
//
// ptxas (nvcc 13.0): 146 / 182 / 170-171 registers at 144 / 192 / 256 tokens (both variants), no spills, no wgmma
// serialization note.
// Output per shape (qwen2-1.5b's decode projections), row count and variant (the kernel's OVERLAP): relative error against a float32 CUDA-core
// reference (PASS under 1e-2), µs a call (a CUDA graph of 28 launches, each on another copy of W so the L2 cache does
// not hold it, as GemmPlans times cuBLAS), and the fraction of the floor (bytes at the measured copy rate, FLOPs at
// 800 TFLOP/s). cuBLAS's figures for the same calls are StepProfile's / GemmSearch's (BENCHMARKS, fourteenth round).
#include "attention_prefill_wgmma.cu"
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <random>
#include <algorithm>

#include "bench_ref.cuh"
#include "wgmma_ss.cuh"  // wgmma::mma_ss<N>: m64nNk16, both operands from shared memory

namespace gk {
constexpr int BF = 128, BK = 64, STAGES = 4, THREADS = 256, BT_MAX = 256;
constexpr uint32_t W_BYTES = BF * BK * 2;
// BT tokens a block (144, 192 or 256: the smallest that holds M, so 144 rows do not pay for 256)
template <int BT> struct Tile {
    static constexpr uint32_t X_BYTES = BT * BK * 2, STAGE_BYTES = W_BYTES + X_BYTES;  // 16 + 18 / 24 / 32 KiB
    static constexpr int SMEM = 1024 + STAGES * STAGE_BYTES;                           // up to 197,632
    static_assert(STAGE_BYTES % 1024 == 0 && SMEM <= 227 * 1024, "1024-byte swizzle atoms, one block a SM");
};
}  // namespace gk


// One stage: W rows f0 .. f0 + 127 and x rows 0 .. BT - 1 (rows >= M zero-filled), columns k0 .. k0 + 63, into the
// 128-byte-swizzled [R][64] tile layout (tile_off); 4 + BT / 32 16-byte copies a thread.
template <int BT>
__device__ __forceinline__ void load_stage(uint32_t sW, uint32_t sX, const bf* __restrict__ W, const bf* __restrict__ x,
                                           int f0, int k0, int M, int K, int tid) {
#pragma unroll
    for (int i = 0; i < (gk::BF * 8) / gk::THREADS; i++) {
        const int e = tid + i * gk::THREADS, r = e >> 3, c = (e & 7) * 8;
        wg::cp_async16(sW + wg::tile_off<gk::BF>(r, c), W + (size_t)(f0 + r) * K + k0 + c, 16);
    }
#pragma unroll
    for (int i = 0; i < (BT * 8 + gk::THREADS - 1) / gk::THREADS; i++) {  // 144 tokens: 4.5 copies a thread
        const int e = tid + i * gk::THREADS, r = e >> 3, c = (e & 7) * 8;
        const bool in = r < M;
        if (e < BT * 8) wg::cp_async16(sX + wg::tile_off<BT>(r, c), x + (in ? (size_t)r * K + k0 + c : 0), in ? 16 : 0);
    }
}

// Row r, features c .. c + 3 of feature tile ft: its S float32 partials (ws: per tile S slices of bt rows x gk::BF)
// added in slice order and stored as bf16. The fused kernel and splitk_reduce both end here, so their sums agree bit
// for bit.
__device__ __forceinline__ void add_partials(bf* __restrict__ y, const float* __restrict__ ws, int ft, int r, int c,
                                             int N, int S, int bt) {
    const float* tile = ws + (size_t)ft * S * bt * gk::BF;
    float4 acc = __ldcg(reinterpret_cast<const float4*>(tile + r * gk::BF + c));
    for (int p = 1; p < S; p++) {
        const float4 v = __ldcg(reinterpret_cast<const float4*>(tile + ((size_t)p * bt + r) * gk::BF + c));
        acc.x += v.x; acc.y += v.y; acc.z += v.z; acc.w += v.w;
    }
    uint2 o;
    o.x = wg::pack_bf16(acc.x, acc.y);
    o.y = wg::pack_bf16(acc.z, acc.w);
    *reinterpret_cast<uint2*>(y + (size_t)r * N + ft * gk::BF + c) = o;
}

// grid (N / 128, S), 256 threads, gk::Tile<BT>::SMEM bytes of dynamic shared memory, launched cooperatively; M <= BT.
// ws: (N / 128) x S x BT x 128 floats; count: 2 x (N / 128) ints, zero before the first launch (kept zero after).
// OVERLAP false: stages load 3 ahead and each stage's wgmma is waited for before the next barrier (the tensor cores
// idle at each barrier). OVERLAP true: stages load 2 ahead and one stage's wgmma may still run while the next stage
// is waited for and issued (the slot refilled is the one read two stages back, which every warpgroup's wait<1> has
// released before the barrier). The bench runs both.
template <int BT, bool OVERLAP>
__global__ void __launch_bounds__(gk::THREADS, 1)
gemm_splitk_wgmma_bf16(bf* __restrict__ y, const bf* __restrict__ x, const bf* __restrict__ W, float* __restrict__ ws,
                       int* __restrict__ count, int M, int N, int K, int partials_only) {
    constexpr int PF = OVERLAP ? gk::STAGES - 2 : gk::STAGES - 1;  // stages loaded ahead
    constexpr uint32_t STAGE = gk::Tile<BT>::STAGE_BYTES;
    constexpr int ACC = BT / 2;  // accumulators a thread: m64 x n BT over 128 threads
    using namespace wg;
    extern __shared__ __align__(1024) unsigned char smem_raw[];
    const uint32_t base = (saddr(smem_raw) + 1023) & ~1023u;
    const int tid = threadIdx.x, wgi = tid >> 7, t = tid & 127, warp = t >> 5, lane = t & 31;
    const int ft = blockIdx.x, s = blockIdx.y, S = gridDim.y, f0 = ft * gk::BF;
    const int steps = K / gk::BK, k_begin = (int)((long long)steps * s / S), k_end = (int)((long long)steps * (s + 1) / S);
    const int n = k_end - k_begin;

    float d[ACC];
#pragma unroll
    for (int i = 0; i < ACC; i++) d[i] = 0.f;
#pragma unroll
    for (int i = 0; i < PF; i++) {
        if (i < n) load_stage<BT>(base + i * STAGE, base + i * STAGE + gk::W_BYTES, W, x, f0, (k_begin + i) * gk::BK,
                                  M, K, tid);
        cp_commit();
    }
    for (int i = 0; i < n; i++) {
        cp_wait<PF - 1>();  // stage i landed (this thread's copies)
        fence_proxy_async();
        __syncthreads();    // ... everyone's; and every warpgroup's wgmma of stage i - STAGES + PF is done: slot free
        if (i + PF < n) {
            const uint32_t st = base + ((i + PF) % gk::STAGES) * STAGE;
            load_stage<BT>(st, st + gk::W_BYTES, W, x, f0, (k_begin + i + PF) * gk::BK, M, K, tid);
        }
        cp_commit();
        const uint32_t st = base + (i % gk::STAGES) * STAGE;
        const uint64_t dA = make_desc(st + wgi * 64 * 128, 16, 1024), dB = make_desc(st + gk::W_BYTES, 16, 1024);
        reg_fence(d);
        fence();
#pragma unroll
        for (int kk = 0; kk < 4; kk++) wgmma::mma_ss<BT>(d, desc_add(dA, kk * 32), desc_add(dB, kk * 32), 1);
        commit();
        wait<OVERLAP ? 1 : 0>();
    }
    wait<0>();
    reg_fence(d);
    cp_wait<0>();

    // The partial tile to the workspace, [token][feature] (the reduction then reads and writes whole rows):
    // register 4 j + e is feature 64 wgi + 16 warp + g + 8 (e >> 1), token 8 j + 2 tq + (e & 1).
    float* part = ws + ((size_t)ft * S + s) * BT * gk::BF;
    const int g = lane >> 2, tq = lane & 3;
#pragma unroll
    for (int j = 0; j < BT / 8; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int tok = 8 * j + 2 * tq + (e & 1), feat = 64 * wgi + 16 * warp + g + 8 * (e >> 1);
            if (tok < M) part[tok * gk::BF + feat] = d[4 * j + e];
        }
    if (partials_only) return;  // the two-kernel variant: splitk_reduce adds the partials
    __syncthreads();
    if (tid == 0) {  // every block of this feature tile has written its partial before any reads one
        __threadfence();
        atomicAdd(&count[ft], 1);
        while (*(volatile int*)&count[ft] < S) __nanosleep(64);
        __threadfence();
    }
    __syncthreads();
    // Rows r0 .. r1 of the tile: 32 threads a row, 4 features a thread, the S partials added in slice order.
    const int r0 = M * s / S, r1 = M * (s + 1) / S;
    for (int r = r0 + (tid >> 5); r < r1; r += gk::THREADS / 32) add_partials(y, ws, ft, r, (tid & 31) * 4, N, S, BT);
    __syncthreads();
    if (tid == 0) {  // the last block of the tile out puts both counters back to 0 (all S have passed the wait)
        if (atomicAdd(&count[gridDim.x + ft], 1) == S - 1) {
            count[ft] = 0;
            count[gridDim.x + ft] = 0;
        }
    }
}

// The two-kernel variant's second kernel: grid (N / 128, ceil(M / 8)), 256 threads; 8 rows a block, 32 threads a row,
// 4 features a thread (add_partials, as the fused kernel).
__global__ void splitk_reduce(bf* __restrict__ y, const float* __restrict__ ws, int M, int N, int S, int BT) {
    const int ft = blockIdx.x, r = blockIdx.y * 8 + (threadIdx.x >> 5), c = (threadIdx.x & 31) * 4;
    if (r < M) add_partials(y, ws, ft, r, c, N, S, BT);
}

__global__ void empty_kernel(int* p) { if (p && threadIdx.x == 1023) *p = 0; }

// float32 reference on CUDA cores: one thread an output.
__global__ void gemm_ref(float* __restrict__ y, const bf* __restrict__ x, const bf* __restrict__ W, int M, int N, int K) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x, m = blockIdx.y;
    if (n >= N) return;
    float acc = 0.f;
    for (int k = 0; k < K; k++) acc += __bfloat162float(x[(size_t)m * K + k]) * __bfloat162float(W[(size_t)n * K + k]);
    y[(size_t)m * N + n] = acc;
}

// Launch modes, to find where the time goes: 0 fused (cooperative, the design), 1 fused launched as a plain kernel
// (co-residency then holds only because nothing else runs: not for production), 2 two kernels (partials, then
// splitk_reduce; no counter, no cooperative launch), 3 the partials kernel alone (the main loop's cost; wrong output).
static const char* const MODE_NAMES[4] = {"fused coop", "fused plain", "two kernels", "partials only"};

// A launch of `grid` blocks of gk::THREADS on st, cooperative when `coop` (attr: the attribute's storage, which the
// config points to).
static cudaLaunchConfig_t launch_config(dim3 grid, int smem, cudaStream_t st, bool coop, cudaLaunchAttribute& attr) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = dim3(gk::THREADS);
    cfg.dynamicSmemBytes = smem;
    cfg.stream = st;
    attr.id = cudaLaunchAttributeCooperative;
    attr.val.cooperative = 1;
    cfg.attrs = &attr;
    cfg.numAttrs = coop ? 1 : 0;
    return cfg;
}

template <int BT, bool OVERLAP>
static cudaError_t launch_kernel(int mode, cudaStream_t st, bf* y, const bf* x, const bf* W, float* ws, int* count, int M,
                                 int N, int K, int S) {
    cudaLaunchAttribute attr;
    // one slice waits for no other block: a plain launch (more blocks than SMs is fine)
    const cudaLaunchConfig_t cfg = launch_config(dim3(N / gk::BF, S), gk::Tile<BT>::SMEM, st, S > 1 && mode == 0, attr);
    const int partials_only = mode >= 2 ? 1 : 0;
    cudaError_t e = cudaLaunchKernelEx(&cfg, gemm_splitk_wgmma_bf16<BT, OVERLAP>, y, x, W, ws, count, M, N, K, partials_only);
    if (e != cudaSuccess || mode != 2) return e;
    splitk_reduce<<<dim3(N / gk::BF, (M + 7) / 8), 256, 0, st>>>(y, ws, M, N, S, BT);
    return cudaGetLastError();
}

typedef cudaError_t (*Launch)(int, cudaStream_t, bf*, const bf*, const bf*, float*, int*, int, int, int, int);

int main() {
    int dev = 0, sms = 0;
    CK(cudaGetDevice(&dev));
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, dev));
    int per_sm = 1 << 30;  // the fewest of the variants' (each launches the same grid for a shape)
    std::printf("%s, %d SMs\n", prop.name, sms);
    const int bts[3] = {144, 192, 256};
    const void* kernels[3][2] = {
        {(const void*)gemm_splitk_wgmma_bf16<144, false>, (const void*)gemm_splitk_wgmma_bf16<144, true>},
        {(const void*)gemm_splitk_wgmma_bf16<192, false>, (const void*)gemm_splitk_wgmma_bf16<192, true>},
        {(const void*)gemm_splitk_wgmma_bf16<256, false>, (const void*)gemm_splitk_wgmma_bf16<256, true>}};
    const int smem[3] = {gk::Tile<144>::SMEM, gk::Tile<192>::SMEM, gk::Tile<256>::SMEM};
    const Launch launches[3][2] = {{&launch_kernel<144, false>, &launch_kernel<144, true>},
                                   {&launch_kernel<192, false>, &launch_kernel<192, true>},
                                   {&launch_kernel<256, false>, &launch_kernel<256, true>}};
    for (int b = 0; b < 3; b++)
        for (int ov = 0; ov < 2; ov++) {
            const void* k = kernels[b][ov];
            CK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem[b]));
            int fits = 0;
            CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&fits, k, gk::THREADS, smem[b]));
            per_sm = std::min(per_sm, fits);
            cudaFuncAttributes fa;
            CK(cudaFuncGetAttributes(&fa, k));
            std::printf("gemm_splitk_wgmma_bf16<%d tokens, %s>: %d registers, %d bytes local, %d block(s) a SM\n",
                        bts[b], ov ? "overlap" : "wait", fa.numRegs, (int)fa.localSizeBytes, fits);
        }
    const double gbs = copy_bandwidth(), tflops = 800.0;  // floors: bytes at the measured copy rate (bench_ref.cuh)
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    std::printf("copy %.0f GB/s; floors at it and %.0f TFLOP/s\n", gbs, tflops);

    {  // the launch itself: a graph of 28 empty launches of 132 blocks x 256 threads, plain and cooperative
        cudaStream_t s0;
        CK(cudaStreamCreate(&s0));
        for (int coop = 0; coop < 2; coop++) {
            cudaLaunchAttribute attr;
            const cudaLaunchConfig_t cfg = launch_config(dim3(sms), 0, s0, coop, attr);
            cudaGraph_t g;
            cudaGraphExec_t ge;
            CK(cudaStreamBeginCapture(s0, cudaStreamCaptureModeThreadLocal));
            for (int c = 0; c < 28; c++) CK(cudaLaunchKernelEx(&cfg, empty_kernel, (int*)nullptr));
            CK(cudaStreamEndCapture(s0, &g));
            CK(cudaGraphInstantiate(&ge, g, 0));
            const float best = best_ms(s0, e0, e1, [&] { CK(cudaGraphLaunch(ge, s0)); });
            std::printf("empty kernel, %s launch in a graph: %.2f us a launch\n", coop ? "cooperative" : "plain", best * 1000.0 / 28);
            CK(cudaGraphExecDestroy(ge));
            CK(cudaGraphDestroy(g));
        }
        CK(cudaStreamDestroy(s0));
    }
    struct Shape { const char* name; int N, K; };
    const Shape shapes[] = {{"down", 1536, 8960}, {"o", 1536, 1536}, {"qkv", 2048, 1536}, {"gate_up", 17920, 1536}};
    const int rows[] = {144, 192, 256};
    const int copies = 28;
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> U(-1.f, 1.f);
    cudaStream_t st;  // a blocking stream: it waits for the synchronous copies and memsets of the setup
    CK(cudaStreamCreate(&st));
    int failures = 0;
    for (const Shape& sh : shapes) {
        const int N = sh.N, K = sh.K, tiles = N / gk::BF;
        // K-slices: enough to fill the SMs, but at least 4 K steps a slice (o and qkv have 24: more slices would move
        // more partial bytes than weight bytes)
        const int S = std::max(1, std::min(sms * per_sm / tiles, K / gk::BK / 4));
        std::vector<bf> hw((size_t)N * K), hx((size_t)256 * K);
        for (auto& v : hw) v = __float2bfloat16(U(rng) * 0.05f);
        for (auto& v : hx) v = __float2bfloat16(U(rng));
        std::vector<bf*> w(copies);
        for (int c = 0; c < copies; c++) {
            CK(cudaMalloc(&w[c], hw.size() * 2));
            CK(cudaMemcpy(w[c], hw.data(), hw.size() * 2, cudaMemcpyHostToDevice));
        }
        bf *x, *y;
        float *ws, *yref;
        int* count;
        CK(cudaMalloc(&x, hx.size() * 2));
        CK(cudaMemcpy(x, hx.data(), hx.size() * 2, cudaMemcpyHostToDevice));
        CK(cudaMalloc(&y, (size_t)256 * N * 2));
        CK(cudaMalloc(&yref, (size_t)256 * N * 4));
        CK(cudaMalloc(&ws, (size_t)tiles * S * gk::BT_MAX * gk::BF * 4));
        CK(cudaMalloc(&count, 2 * tiles * 4));
        CK(cudaMemset(count, 0, 2 * tiles * 4));
        CK(cudaDeviceSynchronize());
        for (int M : rows) for (int mode = 0; mode < 4; mode++) for (int ov = 0; ov < 2; ov++) {
            const int b = M <= 144 ? 0 : M <= 192 ? 1 : 2;  // the smallest token tile that holds M
            const Launch launch = launches[b][ov];
            // check: twice (the second launch sees the counters the first put back), the output and the workspace
            // poisoned (NaN) before each, so a block that reduced before every partial was written, or a counter that
            // was not reset, shows as a wrong or NaN output; the counters must be back to 0 after
            const size_t ws_bytes = (size_t)tiles * S * gk::BT_MAX * gk::BF * 4;
            for (int rep = 0; rep < 2; rep++) {
                CK(cudaMemsetAsync(y, 0xff, (size_t)256 * N * 2, st));
                CK(cudaMemsetAsync(ws, 0xff, ws_bytes, st));
                CK(launch(mode, st, y, x, w[0], ws, count, M, N, K, S));
            }
            CK(cudaMemsetAsync(yref, 0xff, (size_t)256 * N * 4, st));
            gemm_ref<<<dim3((N + 127) / 128, M), 128, 0, st>>>(yref, x, w[0], M, N, K);
            CK(cudaGetLastError());
            CK(cudaStreamSynchronize(st));
            std::vector<int> counters(2 * tiles);
            CK(cudaMemcpy(counters.data(), count, counters.size() * 4, cudaMemcpyDeviceToHost));
            const bool reset = std::all_of(counters.begin(), counters.end(), [](int c) { return c == 0; });
            std::vector<bf> got((size_t)M * N);
            std::vector<float> want((size_t)M * N);
            CK(cudaMemcpy(got.data(), y, got.size() * 2, cudaMemcpyDeviceToHost));
            CK(cudaMemcpy(want.data(), yref, want.size() * 4, cudaMemcpyDeviceToHost));
            double num = 0, den = 0, worst = 0;
            for (size_t i = 0; i < got.size(); i++) {
                const double dlt = std::fabs((double)__bfloat162float(got[i]) - want[i]);
                num += dlt * dlt;
                den += (double)want[i] * want[i];
                worst = std::max(worst, dlt / (std::fabs(want[i]) + 1e-2));
            }
            const double rel = std::sqrt(num / std::max(den, 1e-30));
            const bool ok = mode == 3 || (rel < 1e-2 && std::isfinite(rel) && reset);
            if (!reset) std::printf("  counters not back to 0 after the launch\n");
            failures += !ok;
            // time: a graph of `copies` launches, each on another copy of W
            // (eager launches where the driver cannot capture a cooperative launch: then the launch gaps count too)
            cudaGraph_t graph = nullptr;
            cudaGraphExec_t exec = nullptr;
            CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
            bool captured = true;
            for (int c = 0; c < copies; c++) captured = captured && launch(mode, st, y, x, w[c], ws, count, M, N, K, S) == cudaSuccess;
            const bool graphed = cudaStreamEndCapture(st, &graph) == cudaSuccess && captured &&
                                 cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
            if (!graphed) {
                (void)cudaGetLastError();
                std::printf("  (no CUDA graph of cooperative launches here: eager timing)\n");
            }
            auto run = [&]() {
                if (graphed) CK(cudaGraphLaunch(exec, st));
                else for (int c = 0; c < copies; c++) CK(launch(mode, st, y, x, w[c], ws, count, M, N, K, S));
            };
            const float t = best_ms(st, e0, e1, run);
            const double us = t * 1000.0 / copies;
            const double bytes = 2.0 * N * K + 2.0 * M * K + 2.0 * M * N;
            const double floor_us = std::max(bytes / (gbs * 1e3), 2.0 * M * N * K / (tflops * 1e6));
            std::printf("%-8s %5d x %5d, %3d rows, S = %2d, %-13s %-7s: %s rel err %.2e (worst elem %.2e); %7.2f us a call; floor "
                        "%.2f us = %3.0f %%\n", sh.name, N, K, M, S, MODE_NAMES[mode], ov ? "overlap" : "wait", mode == 3 ? "(unchecked)" : ok ? "PASS" : "FAIL", rel, worst, us, floor_us,
                        100.0 * floor_us / us);
            if (exec) CK(cudaGraphExecDestroy(exec));
            if (graph) CK(cudaGraphDestroy(graph));
        }
        for (bf* p : w) CK(cudaFree(p));
        CK(cudaFree(x));
        CK(cudaFree(y));
        CK(cudaFree(yref));
        CK(cudaFree(ws));
        CK(cudaFree(count));
    }
    std::printf("%s\n", failures ? "SOME CHECKS FAILED" : "all checks PASS");
    return failures ? 1 : 0;
}
