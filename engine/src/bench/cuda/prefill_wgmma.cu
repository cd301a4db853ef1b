// Prefill attention on Hopper warpgroup MMA (wgmma): the bench of attn_prefill_wgmma64_hd128_bf16, which lives in
// engine/src/main/cuda/attention_prefill_wgmma.cu (its design, layouts and ptxas figures are described there), against
// attn_prefill_tc_hd128_bf16 (attention_paged.cu).
//
//   nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -I engine/src/main/cuda \
//        engine/src/bench/cuda/prefill_wgmma.cu -o /tmp/prefill_wgmma && /tmp/prefill_wgmma
//   (run_prefill_wgmma.sh OUTDIR does this; nvcc 13.0's -arch=sm_90a shorthand also runs a plain sm_90 pass,
//   which rejects wgmma, so the -gencode form is required.)
//
// PREFILL_ONLY_8X1024=1 in the environment runs only the 8 x 1,024 (G = 6) case, for ncu.
// Output: first the layout self-tests (one wgmma shape each, random data against a host matmul, PASS/FAIL with
// max error and the first wrong elements), then the wgmma kernel's registers and blocks a SM
// (cudaOccupancyMaxActiveBlocksPerMultiprocessor with the shared-memory carveout at its maximum; the design needs 2),
// then per prefill case the wgmma kernel ("wgmma") and attn_prefill_tc ("mma.sync") side by side, each on the tiles
// the engine cuts for it (Kernels.prefillTileTokens: <= 64 / G tokens for the wgmma kernel, <= 128 / G for
// attn_prefill_tc, which the engine runs where the wgmma kernel is off), in token order and then in LPT order
// (PrefillTileOrder), each checked against ref_attn, the float32 reference of attention_bench.cu (max |err|), and
// timed (median time / causal TFLOP/s).
//
// ptxas -v (nvcc 13.0.88): attn_prefill_wgmma64_hd128_bf16 168 registers, no spills, and the same PTX as in the
// engine's ember_kernels_sm90a.fatbin; self-test kernels 58-94 registers, no spills (attn_prefill_tc_hd128_bf16 in
// the same build: 128 registers, 56 bytes spilled).
#include "attention_paged.cu"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <algorithm>
#include <random>
#include <cmath>
#include <string>
#include <functional>

#include "bench_ref.cuh"
#include "attention_prefill_wgmma.cu"

// m64n64k16 with A from registers: only self-test ii uses it (the kernel's RS shape is m64n128, wg::mma_n128_rs).
namespace wg {
template <int TB> __device__ __forceinline__ void mma_n64_rs(float (&d)[32], const uint32_t (&a)[4], uint64_t b, int accum) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accum), "n"(TB)
        : "memory");
}
}  // namespace wg

// ---------------------------------------------------------------------------------------------------------------
// Layout self-tests: one warpgroup computes D (64 x N) = A[64][0 .. 16 KSTEPS) * B with the operands copied into
// the tile layout by plain stores (wg::tile_off, as the kernel's loads). B is given K-major (Bt: [N][KS], TB = 0) or
// MN-major (B: [16 KSTEPS][N], TB = 1). A from shared memory unless AREG (then from global straight into the
// fragment). The shapes are template arguments because tile_off's row count is.
constexpr int A_ROWS = 64;
template <int N, bool AREG, int TB, int KSTEPS>
__global__ void __launch_bounds__(128) wgmma_test(const bf* A, const bf* B, float* D, uint32_t mn_lbo,
                                                  uint32_t mn_sbo) {
    static_assert(N == 64 || AREG, "m64n128 only as the kernel's P V (A from registers)");
    using namespace wg;
    extern __shared__ unsigned char raw[];
    unsigned char* sm = raw + ((1024 - (saddr(raw) & 1023)) & 1023);
    constexpr int KS = (KSTEPS * 16 + 63) / 64 * 64, KR = KSTEPS * 16;
    unsigned char* sa = sm;
    unsigned char* sb = sm + A_ROWS * KS * 2;  // a multiple of 1024 bytes (KS 64 or 128)
    for (int i = threadIdx.x; i < A_ROWS * KS; i += 128)
        *reinterpret_cast<bf*>(sa + tile_off<A_ROWS>(i / KS, i % KS)) = A[i];
    if constexpr (TB == 0) {
        for (int i = threadIdx.x; i < N * KS; i += 128) *reinterpret_cast<bf*>(sb + tile_off<N>(i / KS, i % KS)) = B[i];
    } else {
        for (int i = threadIdx.x; i < KR * N; i += 128) *reinterpret_cast<bf*>(sb + tile_off<KR>(i / N, i % N)) = B[i];
    }
    fence_proxy_async();
    __syncthreads();
    float d[N / 2];
#pragma unroll
    for (int i = 0; i < N / 2; i++) d[i] = 0.f;
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const uint64_t da = make_desc(saddr(sa), 16, 1024);
    const uint64_t db = TB ? make_desc(saddr(sb), mn_lbo, mn_sbo) : make_desc(saddr(sb), 16, 1024);
    for (int k = 0; k < KSTEPS; k++) {
        const uint64_t bk = TB ? desc_add(db, k * 16 * 128) : desc_add(db, (k >> 2) * N * 128 + (k & 3) * 32);
        reg_fence(d);
        if constexpr (AREG) {
            const bf* ar = A + (size_t)(16 * w + g) * KS + 16 * k + 2 * t;
            uint32_t a[4];
            a[0] = *reinterpret_cast<const uint32_t*>(ar);
            a[1] = *reinterpret_cast<const uint32_t*>(ar + 8 * KS);
            a[2] = *reinterpret_cast<const uint32_t*>(ar + 8);
            a[3] = *reinterpret_cast<const uint32_t*>(ar + 8 * KS + 8);
            fence();
            if constexpr (N == 64) mma_n64_rs<TB>(d, a, bk, 1);
            else mma_n128_rs<TB>(d, a, bk, 1);
        } else {
            const uint64_t ak = desc_add(da, (k >> 2) * A_ROWS * 128 + (k & 3) * 32);
            fence();
            mma_n64_ss<TB>(d, ak, bk, 1);
        }
        commit();
        wait<0>();  // one step at a time: the test isolates layouts, not the pipeline
        reg_fence(d);
    }
#pragma unroll
    for (int j = 0; j < N / 8; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) D[(16 * w + g + 8 * (e >> 1)) * N + 8 * j + 2 * t + (e & 1)] = d[4 * j + e];
}

static float bfr(float x) { return __bfloat162float(__float2bfloat16(x)); }

// Returns true on PASS. lbo/sbo: the MN-major B descriptor's strides (TB = 1 only).
template <int N, bool AREG, int TB, int KSTEPS>
static bool layout_test(const char* name, uint32_t lbo, uint32_t sbo, bool quiet = false) {
    constexpr int KS = (KSTEPS * 16 + 63) / 64 * 64, KR = KSTEPS * 16, K = KSTEPS * 16, a_rows = A_ROWS;
    std::mt19937 rng(1234 + N + 7 * KSTEPS + (AREG ? 11 : 0) + TB * 5);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> A((size_t)a_rows * KS), B(TB ? (size_t)KR * N : (size_t)N * KS);
    for (auto& x : A) x = bfr(u(rng));
    for (auto& x : B) x = bfr(u(rng));
    std::vector<bf> Ah(A.size()), Bh(B.size());
    for (size_t i = 0; i < A.size(); i++) Ah[i] = __float2bfloat16(A[i]);
    for (size_t i = 0; i < B.size(); i++) Bh[i] = __float2bfloat16(B[i]);
    bf *dA, *dB; float* dD;
    CK(cudaMalloc(&dA, Ah.size() * 2)); CK(cudaMalloc(&dB, Bh.size() * 2)); CK(cudaMalloc(&dD, 64 * N * 4));
    CK(cudaMemcpy(dA, Ah.data(), Ah.size() * 2, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dB, Bh.data(), Bh.size() * 2, cudaMemcpyHostToDevice));
    CK(cudaMemset(dD, 0xff, 64 * N * 4));  // NaN: an element the kernel never writes fails
    int smem = 1024 + (a_rows * KS + std::max(N * KS, KR * N)) * 2;
    auto kern = wgmma_test<N, AREG, TB, KSTEPS>;
    CK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    kern<<<1, 128, smem>>>(dA, dB, dD, lbo, sbo);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<float> D(64 * N);
    CK(cudaMemcpy(D.data(), dD, D.size() * 4, cudaMemcpyDeviceToHost));
    cudaFree(dA); cudaFree(dB); cudaFree(dD);
    double worst = 0;
    int bad = 0, shown = 0;
    std::string first;
    std::vector<int> bad_rows(64, 0), bad_cols(N, 0);
    for (int m = 0; m < 64; m++)
        for (int n = 0; n < N; n++) {
            double ref = 0;
            for (int k = 0; k < K; k++) ref += (double)A[(size_t)m * KS + k] * (TB ? B[(size_t)k * N + n] : B[(size_t)n * KS + k]);
            double err = fabs(ref - D[m * N + n]);
            if (!(err <= 1e-3)) {  // NaN counts
                bad++; bad_rows[m] = 1; bad_cols[n] = 1;
                if (shown < 3) {
                    char buf[96];
                    snprintf(buf, sizeof buf, " (%d,%d) got %.4f want %.4f;", m, n, D[m * N + n], ref);
                    first += buf;
                    shown++;
                }
                if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : std::max(worst, err);
            } else {
                worst = std::max(worst, err);
            }
        }
    int nr = 0, nc = 0;
    for (int x : bad_rows) nr += x;
    for (int x : bad_cols) nc += x;
    if (!quiet || bad == 0)
        printf("selftest %-62s %s max|err| %.2e", name, bad ? "FAIL" : "PASS", worst);
    if (bad && !quiet) printf("  %d wrong in %d rows x %d cols, first:%s", bad, nr, nc, first.c_str());
    if (!quiet || bad == 0) printf("\n");
    return bad == 0;
}

// ---------------------------------------------------------------------------------------------------------------
// The attention kernel.
// ---------------------------------------------------------------------------------------------------------------
// Host side: attention_bench.cu's case shapes; the reference, data and cache come from bench_ref.cuh.

// Median over 7 runs of 10 back-to-back launches (after 3 warm-up launches), in ms a launch.
template <typename F> static double time_median(F launch) {
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
    for (int i = 0; i < 3; i++) launch();
    std::vector<float> ms;
    for (int r = 0; r < 7; r++) {
        CK(cudaEventRecord(e0));
        for (int i = 0; i < 10; i++) launch();
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float t;
        CK(cudaEventElapsedTime(&t, e0, e1));
        ms.push_back(t / 10);
    }
    CK(cudaGetLastError());
    std::sort(ms.begin(), ms.end());
    cudaEventDestroy(e0); cudaEventDestroy(e1);
    return ms[ms.size() / 2];
}

static constexpr double TOL = 2e-2;  // attention_bench's decode bound; attn_prefill_tc gives about 5e-3

// S sequences of L new tokens each after `prior` cached tokens (attention_bench's prefill has prior = 0), causal.
// Runs the wgmma kernel and attn_prefill_tc, each on its engine tiles; returns the number of failed checks.
static int bench_prefill(const Cache& c, int S, int L, int nh, int prior) {
    const int nkv = c.nkv, hd = c.hd, bs = c.bs, G = nh / nkv;
    // PrefillCase's q (fill_rand seed 7), block table (its rng seeded by S, L, prior) and lengths depend on the shape
    // only, not on the tile size, so the wgmma case's reference checks attn_prefill_tc's output too
    PrefillCase pw(c, S, L, nh, prior, wgq::BM / G, true);                 // attn_prefill_wgmma64: 64-row tiles
    PrefillCase pt(c, S, L, nh, prior, paged::PREFILL_ROWS / G, false);  // attn_prefill_tc: 128-row tiles
    const int per_seq = pw.per_seq;
    const size_t n_out = pw.n_out;
    const std::vector<float>& r = pw.ref;
    const std::vector<int>&qs = pw.qs, &seq_of = pw.seq_of, &pos_of = pw.pos_of;
    const float scale = pw.scale;
    std::vector<bf> got(n_out);
    const double flops = 4.0 * S * (double)L * (L + 1) / 2 * nh * hd + 4.0 * S * (double)L * prior * nh * hd;
    char label[96];
    snprintf(label, sizeof label, "prefill S=%d L=%d%s (G=%d)", S, L,
             prior ? (" after " + std::to_string(prior)).c_str() : "", G);
    int fails = 0;
    for (int run = 0; run < 4; run++) {  // each kernel on its tiles in token order, then in PrefillTileOrder's
        const int which = run % 2;
        if (run == 2) {
            pw.longest_first();
            pt.longest_first();
            snprintf(label, sizeof label, "  the same, every tile by keys (LPT)");
        }
        PrefillCase& p = which == 0 ? pw : pt;
        const char* name = which == 0 ? "wgmma   " : "mma.sync";
        const int tq = which == 0 ? wgq::BM / G : paged::PREFILL_ROWS / G, key_tile = which == 0 ? wgq::BN : paged::BN;
        std::function<void()> launch;
        if (which == 0) {
            launch = [&]() {
                attn_prefill_wgmma64_hd128_bf16<<<dim3(p.ntiles, nkv), wgq::THREADS, wgq::SMEM>>>(
                    p.out, p.q, c.k, c.v, p.d_tiles, p.d_qs, p.d_lens, p.d_bt, per_seq, nh, nkv, bs, scale);
            };
        } else {
            const int smem = (paged::PREFILL_ROWS * hd + paged::PREFILL_STAGES * 2 * paged::BN * hd) * 2;
            CK(cudaFuncSetAttribute(attn_prefill_tc_hd128_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
            launch = [&, smem]() {
                attn_prefill_tc_hd128_bf16<<<dim3(p.ntiles, nkv), paged::PREFILL_THREADS, smem>>>(
                    p.out, p.q, c.k, c.v, p.d_tiles, p.d_qs, p.d_lens, p.d_bt, per_seq, nh, nkv, bs, scale);
            };
        }
        CK(cudaMemset(p.out, 0xff, n_out * 2));  // NaN: a row the kernel leaves unwritten fails the check
        launch();
        CK(cudaGetLastError());
        CK(cudaDeviceSynchronize());
        CK(cudaMemcpy(got.data(), p.out, n_out * 2, cudaMemcpyDeviceToHost));
        size_t where;
        const double err = max_abs_error(r, got, &where);
        const bool ok = err < TOL;
        fails += !ok;
        const double ms = time_median(launch);
        printf("%-38s %s %5d tiles: %8.1f us  %6.1f TFLOP/s  max|err| %.2e %s", label, name, p.ntiles, ms * 1e3,
               flops / (ms * 1e-3) / 1e12, err, ok ? "PASS" : "FAIL");
        if (!ok) {  // where: token (its sequence and position), head, and the row / key tile that holds it
            const size_t tok = where / (nh * hd);
            const int h = (where / hd) % nh, d = where % hd, pos = pos_of[tok];
            const int g = h % G, tok_in_tile = (int)((tok - (size_t)qs[seq_of[tok]]) % tq);
            int bad = 0;
            for (size_t i = 0; i < n_out; i++) {
                double e = fabs((double)r[i] - (double)__bfloat162float(got[i]));
                bad += !(e < TOL);
            }
            printf("  worst at token %zu (seq %d pos %d) head %d dim %d: got %.4f want %.4f; tile row %d, "
                   "diagonal key tile %d; %d of %zu outputs wrong",
                   tok, seq_of[tok], pos, h, d, __bfloat162float(got[where]), r[where], tok_in_tile * G + g,
                   pos / key_tile, bad, n_out);
        }
        printf("\n");
    }
    return fails;
}

int main() {
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("%s, %d SMs, sm_%d%d, %zu KiB shared memory a block (opt-in)\n", prop.name, prop.multiProcessorCount,
           prop.major, prop.minor, prop.sharedMemPerBlockOptin / 1024);
    if (prop.major != 9) {
        printf("needs sm_90 (wgmma)\n");
        return 2;
    }
    int fails = 0;
    // Layout self-tests, smallest first: a failure names the first layout fact that is wrong.
    fails += !layout_test<64, false, 0, 1>("i   m64n64k16 SS, A and B K-major, 128B swizzle, one k16", 0, 0);
    fails += !layout_test<64, true, 0, 1>("ii  m64n64k16 RS (A from registers), B K-major, one k16", 0, 0);
    // MN-major: {LBO, SBO} = {column-half stride, 8-row stride}, and the opposite assignment if that fails
    const uint32_t half16 = 16 * 128;
    bool t3 = layout_test<64, false, 1, 1>("iii m64n64k16 SS, B MN-major (transpose flag), 16 k rows", half16, 1024);
    if (!t3 && layout_test<64, false, 1, 1>("iii' same, LBO / SBO swapped", 1024, half16))
        printf("selftest iii: passes with LBO = 8-row stride, SBO = column-half stride\n");
    fails += !t3;
    // the kernel's S = Q K^T: m64n64, K = 128, 64-row A (Q) and B (K) tiles
    fails += !layout_test<64, false, 0, 8>("iv  m64n64, K = 128: 8 k16 steps over two 64-column swizzle atoms", 0, 0);
    // the kernel's P V: V of 64 keys, so the column-half stride is 64 x 128 bytes (wgq::V_LBO, V_SBO). The swapped
    // assignment only diagnoses a failure.
    const bool t5 = layout_test<128, true, 1, 4>("v   P V tile: m64n128 RS, B = V [64 keys][128] MN-major, K = 64",
                                                 wgq::V_LBO, wgq::V_SBO);
    if (!t5 && layout_test<128, true, 1, 4>("v'  same, LBO / SBO swapped", wgq::V_SBO, wgq::V_LBO))
        printf("selftest v: passes only with LBO / SBO swapped: wgq::V_LBO / V_SBO are the wrong way round\n");
    fails += !t5;
    printf("selftests: %s\n", fails ? "FAILED (the attention results below use the same layouts)" : "all PASS");
    fflush(stdout);

    {  // the kernel needs two resident blocks a SM: 2 x (113 + 1 reserved) KiB = all 228 KiB of the SM
        auto k = attn_prefill_wgmma64_hd128_bf16;
        CK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, wgq::SMEM));
        CK(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared));
        cudaFuncAttributes fa;
        CK(cudaFuncGetAttributes(&fa, k));
        int per_sm = 0;
        CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, wgq::THREADS, wgq::SMEM));
        printf("attn_prefill_wgmma64_hd128_bf16: %d registers, %zu bytes local, %d bytes dynamic shared memory, "
               "%d threads, %d blocks a SM%s\n", fa.numRegs, (size_t)fa.localSizeBytes, wgq::SMEM, wgq::THREADS, per_sm,
               per_sm == 2 ? "" : " (NOT the 2 it was designed for: its timings below do not test the design)");
    }

    Cache c{2, 128, 16, 0, nullptr, nullptr};
    c.blocks = 256 * 4096 / 16 + 64;  // attention_bench's cache: pages scattered over the same 1 GiB
    const size_t n = (size_t)c.blocks * c.nkv * c.bs * c.hd;
    CK(cudaMalloc(&c.k, n * 2)); CK(cudaMalloc(&c.v, n * 2));
    fill_rand<<<1024, 256>>>(c.k, n, 1);
    fill_rand<<<1024, 256>>>(c.v, n, 2);
    CK(cudaDeviceSynchronize());
    const int nh = 12;
    if (getenv("PREFILL_ONLY_8X1024")) {  // item 2's case alone, for a profiler (ncu -k attn_prefill_wgmma64_hd128_bf16)
        fails += bench_prefill(c, 8, 1024, nh, 0);
        printf("%s\n", fails ? "SOME CHECKS FAILED" : "all checks PASS");
        return fails ? 1 : 0;
    }
    fails += bench_prefill(c, 2, 300, nh, 0);
    fails += bench_prefill(c, 8, 1024, nh, 0);
    fails += bench_prefill(c, 1, 4096, nh, 0);
    fails += bench_prefill(c, 32, 256, nh, 0);
    fails += bench_prefill(c, 8, 1024, 2 * 2, 0);  // G = 2
    fails += bench_prefill(c, 2, 300, nh, 200);    // a chunk after cached context (positions 200..499)
    printf("%s\n", fails ? "SOME CHECKS FAILED" : "all checks PASS");
    return fails ? 1 : 0;
}
