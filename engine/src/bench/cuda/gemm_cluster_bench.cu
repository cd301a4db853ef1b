// Benchmark of gemm_cluster (engine/src/main/cuda/gemm_cluster_wgmma.cu, sm_90a): decode-shaped GEMMs with K split
// over a thread-block cluster, against cuBLAS's default algorithm, on the QKV, o and down projections of three
// checkpoints at decode batch sizes. Each case is checked against a float32 reference GEMM on the GPU (rounded to bf16;
// an element off by more than one bf16 step + 1e-3 fails, an unwritten one is NaN) and timed as 20 launches in a row
// over 8 copies of the weight (so the weight comes from memory, as in a step of 28 layers), best of 5: launched one by
// one ("eager") and captured into a CUDA graph ("graph", as the engine's decode steps and its tuning race run them; a
// small GEMM's eager time is mostly the launch path). Every compiled variant of the rows' block height is timed, and
// the lower block heights too ("rows split": more row blocks, each weight tile read once a row block, from L2 after the
// first); "<- race" marks those ClusterGemm.candidates offers the engine's race (the same rule, mirrored in offered()
// below); "one wave" says whether its blocks fit the SMs at once.
//
//   gemm_cluster_bench [MODEL...]   MODEL = qwen2 | llama | qwen3 (default all three)
//   environment: ROWS=256,144 (the row counts; default 1,16,64,128,144,192,256), SHAPES=down,o (default qkv,o,down),
//   PROFILE=1 (each case launched once, checked, not timed: for ncu, which then sees one launch a variant)
//
// cuBLAS is its default algorithm here; the engine races its candidates against cuBLASLt's tuned choice as well:
// StepProfile's decode-GEMM table (its "cluster" column) is that comparison.
#include <string>
#include "tma_bench.cuh"
#include "gemm_cluster_wgmma.cu"

namespace {

struct Shape { const char* name; int N, K; };
struct Model { const char* name; Shape shapes[3]; };

// The entry points, as ClusterGemm lists them.
struct Cfg { int bm, bn, s, threads, smem; const void* fn; };
#define CFG(BM, CW, MW, BN, S) {BM, BN, S, (CW + 1) * 128, gc::smem_bytes<BM, BN>(), (const void*)gemm_cluster_bm##BM##_bn##BN##_s##S##_bf16},
#define CFG_SPLITS(BM, CW, MW, BN) CFG(BM, CW, MW, BN, 4) CFG(BM, CW, MW, BN, 8)
#define CFG_WIDTHS(BM, CW, MW) CFG_SPLITS(BM, CW, MW, 96) CFG_SPLITS(BM, CW, MW, 128) CFG_SPLITS(BM, CW, MW, 192)
const Cfg CFGS[] = {CFG_WIDTHS(64, 1, 1) CFG_WIDTHS(128, 2, 1) CFG_WIDTHS(192, 3, 1) CFG_WIDTHS(256, 2, 2)
                    CFG_SPLITS(64, 1, 1, 256) CFG_SPLITS(128, 2, 1, 256)};

int block_rows(int M) { return M <= 64 ? 64 : M <= 128 ? 128 : M <= 192 ? 192 : 256; }
long blocks(const Cfg& c, int M, int N) { return (long)((N + c.bn - 1) / c.bn) * c.s * ((M + c.bm - 1) / c.bm); }
long block_bytes(const Cfg& c, int K) { return 2L * (c.bm + c.bn) * ((K + c.s - 1) / c.s); }

// ClusterGemm.candidates: one wave, at least two K steps a block, the 4 with the fewest bytes a block.
std::vector<const Cfg*> offered(int M, int N, int K, int sms) {
    std::vector<const Cfg*> out;
    for (const Cfg& c : CFGS)
        if (c.bm == block_rows(M) && blocks(c, M, N) <= sms && K / 64 >= 2 * c.s) out.push_back(&c);
    std::stable_sort(out.begin(), out.end(), [&](const Cfg* a, const Cfg* b) { return block_bytes(*a, K) < block_bytes(*b, K); });
    if (out.size() > 4) out.resize(4);
    return out;
}

void launch(const Cfg& c, const CUtensorMap& mx, const CUtensorMap& mw, bf* y, int M, int N, int K, cudaStream_t st) {
    dim3 grid((N + c.bn - 1) / c.bn * c.s, (M + c.bm - 1) / c.bm);
    void* args[] = {(void*)&mx, (void*)&mw, &y, &M, &N, &K};
    CK(cudaLaunchKernel(c.fn, grid, dim3(c.threads), args, c.smem, st));
}

constexpr int COPIES = 8;
Card g;
bool g_failed = false;

double floor_us(int M, int N, int K) {
    double bytes = 2.0 * ((double)N * K + (double)M * K + (double)M * N), flops = 2.0 * M * N * K;
    return std::max(bytes / (g.bw * 1e3), flops / (g.tflops * 1e6));
}

bool g_profile = false;

// Whether shape `name` is in SHAPES (comma-separated), or SHAPES is unset.
bool shape_wanted(const char* name) {
    const char* v = getenv("SHAPES");
    if (!v) return true;
    const std::string list = std::string(",") + v + ",";
    return list.find(std::string(",") + name + ",") != std::string::npos;
}

void run_shape(const char* model, const Shape& sh, const std::vector<int>& rows) {
    const int N = sh.N, K = sh.K, maxM = *std::max_element(rows.begin(), rows.end());
    bf *x, *w[COPIES], *y;
    float* yref;
    CK(cudaMalloc(&x, (size_t)maxM * K * 2));
    for (int i = 0; i < COPIES; i++) {
        CK(cudaMalloc(&w[i], (size_t)N * K * 2));
        fill<<<1024, 256>>>(w[i], (size_t)N * K, 11u + i, 0.05f);
    }
    CK(cudaMalloc(&y, (size_t)maxM * N * 2));
    CK(cudaMalloc(&yref, (size_t)maxM * N * 4));
    fill<<<1024, 256>>>(x, (size_t)maxM * K, 5u, 1.0f);
    for (int M : rows) {
        ref_gemm<<<dim3((N + 127) / 128, M), 128>>>(yref, x, w[0], M, N, K);
        std::vector<float> ref((size_t)M * N);
        CK(cudaMemcpy(ref.data(), yref, ref.size() * 4, cudaMemcpyDeviceToHost));
        for (float& v : ref) v = __bfloat162float(__float2bfloat16_rn(v));
        const double fl = floor_us(M, N, K);
        if (g.has_blas && g_profile) {
            g.blas.linear(y, x, w[0], M, N, K);
            CK(cudaDeviceSynchronize());
        } else if (g.has_blas) {
            double us = time_us([&](int i) { g.blas.linear(y, x, w[i % COPIES], M, N, K); });
            g.blas.on(capture_stream());
            double gus = graph_us([&](int i) { g.blas.linear(y, x, w[i % COPIES], M, N, K); });
            g.blas.on(0);
            printf("%-6s %-5s %5d x %5d M=%4d floor %6.2f us  cuBLAS default eager %7.2f us  graph %7.2f us %5.1f %% of floor\n",
                   model, sh.name, N, K, M, fl, us, gus, fl / gus * 100);
        }
        const std::vector<const Cfg*> race = offered(M, N, K, g.sms);
        for (const Cfg& c : CFGS) {
            if (c.bm > block_rows(M)) continue;
            CK(cudaFuncSetAttribute(c.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, c.smem));
            CUtensorMap mx = map_2d(x, M, K, c.bm), mw[COPIES];
            for (int i = 0; i < COPIES; i++) mw[i] = map_2d(w[i], N, K, c.bn);
            CK(cudaMemset(y, 0xFF, (size_t)M * N * 2));  // NaN: an unwritten element fails the check
            launch(c, mx, mw[0], y, M, N, K, 0);
            CK(cudaDeviceSynchronize());
            std::vector<bf> got((size_t)M * N);
            CK(cudaMemcpy(got.data(), y, got.size() * 2, cudaMemcpyDeviceToHost));
            const size_t bad = count_off(ref, got, 1.0 / 128);
            g_failed |= bad != 0;
            if (g_profile) {
                printf("%-6s %-5s %5d x %5d M=%4d   cluster %3dx%3d s%d  bad %zu %s\n", model, sh.name, N, K, M, c.bm,
                       c.bn, c.s, bad, bad ? "FAIL" : "PASS");
                continue;
            }
            double us = time_us([&](int i) { launch(c, mx, mw[i % COPIES], y, M, N, K, 0); });
            double gus = graph_us([&](int i) { launch(c, mx, mw[i % COPIES], y, M, N, K, capture_stream()); });
            bool in_race = std::find(race.begin(), race.end(), &c) != race.end();
            printf("%-6s %-5s %5d x %5d M=%4d   cluster %3dx%3d s%d %4ld blocks%s eager %7.2f us  graph %7.2f us %5.1f %% of floor  max err %.3g  bad %zu %s%s%s\n",
                   model, sh.name, N, K, M, c.bm, c.bn, c.s, blocks(c, M, N),
                   blocks(c, M, N) <= g.sms ? " (one wave)" : "           ", us, gus, fl / gus * 100, max_abs_error(ref, got),
                   bad, bad ? "FAIL" : "PASS", c.bm < block_rows(M) ? "  rows split" : "", in_race ? "  <- race" : "");
        }
    }
    CK(cudaFree(x)); CK(cudaFree(y)); CK(cudaFree(yref));
    for (int i = 0; i < COPIES; i++) CK(cudaFree(w[i]));
}

}  // namespace

int main(int argc, char** argv) {
    g = open_card();
    // (out, in) of QKV, o_proj and down_proj
    const Model models[] = {{"qwen2", {{"qkv", 2048, 1536}, {"o", 1536, 1536}, {"down", 1536, 8960}}},
                            {"llama", {{"qkv", 3072, 2048}, {"o", 2048, 2048}, {"down", 2048, 8192}}},
                            {"qwen3", {{"qkv", 4096, 1024}, {"o", 1024, 2048}, {"down", 1024, 3072}}}};
    const std::vector<int> rows = int_list("ROWS", {1, 16, 64, 128, 144, 192, 256});
    g_profile = getenv("PROFILE") != nullptr;
    for (const Model& m : models)
        if (wanted(argc, argv, m.name))
            for (const Shape& s : m.shapes)
                if (shape_wanted(s.name)) run_shape(m.name, s, rows);
    printf("%s\n", g_failed ? "FAIL: a cluster case is off the reference" : "every cluster case PASS");
    return g_failed ? 1 : 0;
}
