// Benchmark of gemm_swiglu (engine/src/main/cuda/gemm_swiglu_wgmma.cu, sm_90a) against the unfused path: cuBLAS's
// bf16 GEMM into (T, 2 x inter), then silu_mul. Each case is checked against a float32 reference (a naive GEMM on the
// GPU, silu_mul's rounding chain on the host) and timed as 20 launches in a row over 8 copies of the weight (so the
// weight comes from memory, as in a step of 28 layers), best of 5, eagerly and captured in a CUDA graph (as the
// engine's decode steps run; the cuBLAS + silu_mul baseline in a graph only). Every tile width of the block height
// SwigluGemm picks for the rows is timed; "<- pick" marks SwigluGemm's choice (the same rule, mirrored in pick_bn).
//
//   gemm_swiglu_bench [MODEL...]   MODEL = qwen2 | llama | qwen3 (default all three)
//   environment: ROWS=256,192 (the row counts; default 1,5,16,64,100,128,160,192,256,1024), PROFILE=1 (one checked
//   launch a case and no timing, for Nsight Compute: stages.sh swigluncu)
//
// The baseline is cuBLAS's default algorithm. The engine's own unfused path is the start-up tuning's
// choice inside a decode graph, faster than this baseline at 1-64 and 193-256 rows, where the engine keeps it: that
// comparison is StepProfile's, fused on and off (docs/BENCHMARKS.md, sixteenth round).
//
// cuBLAS is opened at run time (dlopen; CUBLAS_LIB names the library, else libcublas.so.13, .12, .so): without it the
// baseline's GEMM is left out and only the fused kernel and silu_mul are timed.
#include <string>
#include "tma_bench.cuh"
#include "gemm_swiglu_wgmma.cu"

namespace {

// activation.cu's silu_mul (8 columns a thread) on the [gate | up] layout, with the fused kernel's arithmetic.
__global__ void silu_mul_ref(bf* out, const bf* gu, int inter) {
    const int c = (blockIdx.x * blockDim.x + threadIdx.x) * 8;
    if (c >= inter) return;
    const size_t row = blockIdx.y;
    uint4 graw = *reinterpret_cast<const uint4*>(gu + row * 2 * inter + c);
    uint4 uraw = *reinterpret_cast<const uint4*>(gu + row * 2 * inter + inter + c);
    const bf* g = reinterpret_cast<const bf*>(&graw);
    const bf* u = reinterpret_cast<const bf*>(&uraw);
    bf r[8];
    for (int e = 0; e < 8; e++) r[e] = __float2bfloat16_rn(gs::swiglu(__bfloat162float(g[e]), __bfloat162float(u[e])));
    *reinterpret_cast<uint4*>(out + row * inter + c) = *reinterpret_cast<uint4*>(r);
}

struct Model { const char* name; int hidden, inter; };

// The entry points, as SwigluGemm lists them.
struct Cfg { int bm, bn, threads, smem; const void* fn; const char* tag = ""; };
#define CFG(BM, CW, MW, BN) {BM, BN, (CW + 1) * 128, gs::smem_bytes<CW, MW, BN>(), (const void*)gemm_swiglu_bm##BM##_bn##BN##_bf16},
#define CFG_WIDTHS(BM, CW, MW) CFG(BM, CW, MW, 48) CFG(BM, CW, MW, 64) CFG(BM, CW, MW, 96) CFG(BM, CW, MW, 128) \
    CFG(BM, CW, MW, 144) CFG(BM, CW, MW, 192)
const Cfg CFGS[] = {CFG_WIDTHS(64, 1, 1) CFG_WIDTHS(128, 2, 1) CFG_WIDTHS(192, 3, 1) CFG_WIDTHS(256, 2, 2)
                    CFG(64, 1, 1, 256) CFG(128, 2, 1, 256)};

// Bench-only 256-row blocks as four consumer warpgroups of one 64-row slice each (the engine's are two of two): more
// warps to issue from and half the accumulators a thread (96 registers at launch, 104 after setmaxnreg), same ring and
// bytes. Timed beside the engine's 256 x 128 blocks (an A/B at one tile shape), never picked.
#define EMBER_SWIGLU_CW4(BN)                                                                                       \
    __global__ void __launch_bounds__(5 * 128, 1) swiglu_cw4_bn##BN(const __grid_constant__ CUtensorMap map_x,    \
        const __grid_constant__ CUtensorMap map_w, bf* __restrict__ out, int M, int inter, int K) {                \
        gs::gemm_swiglu<4, 1, BN>(map_x, map_w, out, M, inter, K);                                                 \
    }
EMBER_SWIGLU_CW4(128)  // 144 needs 98 registers a thread, past 640 threads' 96 (ptxas compiles to the launch bound)
const Cfg EXTRA[] = {{256, 128, 640, gs::smem_bytes<4, 1, 128>(), (const void*)swiglu_cw4_bn128, "cw4"}};

int block_rows(int M) { return M <= 64 ? 64 : M <= 128 ? 128 : M <= 192 ? 192 : 256; }
// SwigluGemm.tileWidth: the width whose blocks give a SM the least work, ceil(blocks / SMs) x BN; ties to the wider.
int pick_bn(int bm, int M, int inter, int sms) {
    int best = 0;
    long best_cost = 0;
    for (const Cfg& c : CFGS) {
        if (c.bm != bm) continue;
        long blocks = (long)((inter + c.bn / 2 - 1) / (c.bn / 2)) * ((M + bm - 1) / bm);
        long cost = (blocks + sms - 1) / sms * c.bn;
        if (best == 0 || cost < best_cost || (cost == best_cost && c.bn > best)) { best = c.bn; best_cost = cost; }
    }
    return best;
}

// On `st` (0: the legacy stream).
void launch(const Cfg& c, const CUtensorMap& mx, const CUtensorMap& mw, bf* out, int M, int inter, int K,
            cudaStream_t st = 0) {
    dim3 grid((inter + c.bn / 2 - 1) / (c.bn / 2), (M + c.bm - 1) / c.bm);
    void* args[] = {(void*)&mx, (void*)&mw, &out, &M, &inter, &K};
    CK(cudaLaunchKernel(c.fn, grid, dim3(c.threads), args, c.smem, st));
}

constexpr int COPIES = 8;
Card g;
bool g_failed = false;
bool g_profile = false;

// Checks one configuration at M rows against the reference (elements off by more than 2 bf16 ulps + 1e-3 fail)
// and times it.
void run_fused(const Cfg& c, bool picked, const Model& md, int M, bf* x, bf* const* w, bf* out,
               const std::vector<float>& ref) {
    const int K = md.hidden, inter = md.inter;
    CK(cudaFuncSetAttribute(c.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, c.smem));
    CUtensorMap mx = map_2d(x, M, K, c.bm);
    CUtensorMap mw[COPIES];
    for (int i = 0; i < COPIES; i++) mw[i] = map_2d(w[i], 2 * inter, K, c.bn / 2);
    CK(cudaMemset(out, 0xFF, (size_t)M * inter * 2));  // NaN: an unwritten element fails the check
    launch(c, mx, mw[0], out, M, inter, K);
    CK(cudaDeviceSynchronize());
    std::vector<bf> got((size_t)M * inter);
    CK(cudaMemcpy(got.data(), out, got.size() * 2, cudaMemcpyDeviceToHost));
    const size_t bad = count_off(ref, got, 2.0 / 128);
    const double worst = max_abs_error(ref, got);
    g_failed |= bad != 0;
    if (g_profile) {
        printf("%-6s M=%5d fused%-4s BM=%3d BN=%3d  max err %.3g  bad %zu %s\n", md.name, M, c.tag, c.bm, c.bn, worst, bad,
               bad ? "FAIL" : "PASS");
        return;
    }
    double us = time_us([&](int i) { launch(c, mx, mw[i % COPIES], out, M, inter, K); });
    double graph = graph_us([&](int i) { launch(c, mx, mw[i % COPIES], out, M, inter, K, capture_stream()); });
    double flops = 2.0 * M * 2.0 * inter * K, bytes = 2.0 * (2.0 * inter * K + (double)M * K + (double)M * inter);
    double floor_us = std::max(bytes / (g.bw * 1e3), flops / (g.tflops * 1e6));
    printf("%-6s M=%5d fused%-4s BM=%3d BN=%3d %8.2f us (graph %8.2f) %6.1f TFLOP/s %5.1f %% of floor  max err %.3g  bad %zu "
           "%s%s\n", md.name, M, c.tag, c.bm, c.bn, us, graph, flops / graph * 1e-6, floor_us / graph * 100, worst, bad,
           bad ? "FAIL" : "PASS", picked ? "  <- pick" : "");
}

void run_model(const Model& md, const std::vector<int>& rows) {
    const int K = md.hidden, inter = md.inter, maxM = *std::max_element(rows.begin(), rows.end());
    bf *x, *w[COPIES], *gu, *out;
    float* yref;
    CK(cudaMalloc(&x, (size_t)maxM * K * 2));
    for (int i = 0; i < COPIES; i++) {
        CK(cudaMalloc(&w[i], (size_t)2 * inter * K * 2));
        fill<<<1024, 256>>>(w[i], (size_t)2 * inter * K, 7u + i, 0.05f);
    }
    CK(cudaMalloc(&gu, (size_t)maxM * 2 * inter * 2));
    CK(cudaMalloc(&out, (size_t)maxM * inter * 2));
    CK(cudaMalloc(&yref, (size_t)maxM * 2 * inter * 4));
    fill<<<1024, 256>>>(x, (size_t)maxM * K, 3u, 1.0f);
    for (int M : rows) {
        ref_gemm<<<dim3((2 * inter + 127) / 128, M), 128>>>(yref, x, w[0], M, 2 * inter, K);
        std::vector<float> y((size_t)M * 2 * inter), ref((size_t)M * inter);
        CK(cudaMemcpy(y.data(), yref, y.size() * 4, cudaMemcpyDeviceToHost));
        for (int m = 0; m < M; m++)
            for (int f = 0; f < inter; f++) {
                const float* row = &y[(size_t)m * 2 * inter];
                float g = row[f], u = row[inter + f];
                g = __bfloat162float(__float2bfloat16_rn(g));
                u = __bfloat162float(__float2bfloat16_rn(u));
                float s = __bfloat162float(__float2bfloat16_rn(g / (1.f + expf(-g))));
                ref[(size_t)m * inter + f] = __bfloat162float(__float2bfloat16_rn(s * u));
            }
        // the engine's path today: the GEMM into (M, 2 inter), then silu_mul
        double silu = g_profile ? 0 : graph_us([&](int) {
            silu_mul_ref<<<dim3((inter / 8 + 127) / 128, M), 128, 0, capture_stream()>>>(out, gu, inter);
        });
        double gemm = -1;
        if (g.has_blas && !g_profile) {
            g.blas.on(capture_stream());
            gemm = graph_us([&](int i) { g.blas.linear(gu, x, w[i % COPIES], M, 2 * inter, K); });
            g.blas.on(0);
        }
        if (g.has_blas) {
            g.blas.linear(gu, x, w[0], M, 2 * inter, K);
            silu_mul_ref<<<dim3((inter / 8 + 127) / 128, M), 128>>>(out, gu, inter);
            std::vector<bf> got((size_t)M * inter);
            CK(cudaMemcpy(got.data(), out, got.size() * 2, cudaMemcpyDeviceToHost));
            if (g_profile)  // launched once above, for the profiler
                printf("%-7s M=%5d cuBLAS + silu_mul  max err %.3g\n", md.name, M, max_abs_error(ref, got));
            else
                printf("%-7s M=%5d cuBLAS + silu_mul           %8.2f us  (GEMM %.2f + silu_mul %.2f)  max err %.3g\n",
                       md.name, M, gemm + silu, gemm, silu, max_abs_error(ref, got));
        } else {
            printf("%-7s M=%5d silu_mul alone %.2f us\n", md.name, M, silu);
        }
        const int bm = block_rows(M), bn = pick_bn(bm, M, inter, g.sms);
        for (const Cfg& c : CFGS)
            if (c.bm == bm || (M > 256 && c.bm == 128)) run_fused(c, c.bm == bm && c.bn == bn, md, M, x, w, out, ref);
        for (const Cfg& c : EXTRA)
            if (c.bm == bm) run_fused(c, false, md, M, x, w, out, ref);
    }
    CK(cudaFree(x)); CK(cudaFree(gu)); CK(cudaFree(out)); CK(cudaFree(yref));
    for (int i = 0; i < COPIES; i++) CK(cudaFree(w[i]));
}

}  // namespace

int main(int argc, char** argv) {
    g = open_card();
    const Model models[] = {{"qwen2", 1536, 8960}, {"llama", 2048, 8192}, {"qwen3", 1024, 3072}};
    const std::vector<int> rows = int_list("ROWS", {1, 5, 16, 64, 100, 128, 160, 192, 256, 1024});
    g_profile = getenv("PROFILE") != nullptr;
    for (const Model& m : models)
        if (wanted(argc, argv, m.name)) run_model(m, rows);
    printf("%s\n", g_failed ? "FAIL: a fused case is off the reference" : "every fused case PASS");
    return g_failed ? 1 : 0;
}
