// Does asking L2 for the next projection's weights, from the small latency-bound kernel before it, shorten a decode
// layer? At 144-256 rows a decode step's GEMMs run at 66-69 % of their floor (docs/BENCHMARKS.md), the small
// projections worst: qkv 2,048 x 1,536 takes ~5.7 us over a 2.7 us floor, what is left being the GEMM's ramp (its
// first weight tiles come from HBM) and the launch gap. The kernel before qkv, add_rmsnorm, moves under a megabyte
// and is latency-bound (2.4 us at 256 rows against a 1 us floor): the HBM is idle while it runs. If it asks L2 for
// qkv's weight (6.3 MB, 2 us at the copy rate) as it starts, qkv may find it there; likewise silu_mul (193-256 rows:
// the unfused path) for down_proj's 27.5 MB, and the second add_rmsnorm for the head of gate/up's 55 MB.
//
// One decode layer as the engine runs it at 193-256 rows, attention stood in for by a kernel that streams KV_MB of
// its own "cache" (default 16: 64 sequences of ~500 tokens of Qwen2-1.5B's K and V a layer) and a split merge:
// add_rmsnorm -> qkv GEMM -> stream -> merge -> o GEMM -> add_rmsnorm -> gate/up GEMM -> silu_mul -> down GEMM, cuBLAS's default algorithm for every
// GEMM; 20 layers of their own weights (1.9 GB for Qwen2-1.5B, so no layer finds another's weights in L2) captured
// into one CUDA graph (as a decode step runs) and replayed, best of five; us a layer. o_proj's weight, if asked for,
// is asked by the split merge's stand-in after the stream (attention is bandwidth-bound: asking during it would only
// move the same bytes earlier; the merge, like the norms, is not). The prefetching kernels are bench wrappers around the
// engine's own device functions (add_rmsnorm, silu_mul): first every thread of the grid asks L2 for its share of the
// weight, then the row work runs unchanged; grids get at least one block a SM so a one-row step spreads the requests.
// Two ways to ask: `prefetch.global.L2` a 128-byte line per request (sm_80 and up, so the RTX 3090 could use it) and
// sm_90's `cp.async.bulk.prefetch.L2` of a block's whole share in one request. Every variant's last layer output must
// equal the plain run's bit for bit (a prefetch changes no value).
//
//   l2_prefetch_bench [MODEL...]   MODEL = qwen2 | llama | qwen3 (default all three)
//   environment: ROWS=1,16,64,128,192,256 (default), LAYERS=20, HEAD_MB=16 (how much of gate/up the second norm asks
//   for), KV_MB=16 (what the attention stand-in streams a layer)
//
// Build (stages.sh l2prefetch; pack.sh builds it for sm_90a):
//   nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -I engine/src/main/cuda engine/src/bench/cuda/l2_prefetch_bench.cu
#include "ember_kernels.cu"
#include "tma_bench.cuh"

namespace {

enum Ask { NONE, LINES, BULK };

// This thread's part of asking L2 for bytes [p, p + n): the grid's threads (LINES) or blocks (BULK) take even shares.
__device__ __forceinline__ void ask_l2(const char* p, size_t n, Ask how) {
    if (n == 0 || how == NONE) return;
    if (how == LINES) {
        const size_t lines = (n + 127) / 128;
        const size_t stride = (size_t)gridDim.x * gridDim.y * blockDim.x;
        const size_t t = ((size_t)blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x;
        for (size_t l = t; l < lines; l += stride) asm volatile("prefetch.global.L2 [%0];" ::"l"(p + l * 128));
        return;
    }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if (threadIdx.x != 0) return;
    const size_t blocks = (size_t)gridDim.x * gridDim.y, b = (size_t)blockIdx.y * gridDim.x + blockIdx.x;
    const size_t share = (n / blocks + 15) / 16 * 16;  // a multiple of 16 bytes, as the instruction asks
    const size_t from = b * share;
    if (from >= n) return;
    const size_t len = (share < n - from ? share : n - from) / 16 * 16;
    for (size_t at = 0; at < len; at += (1u << 20))  // at most 1 MiB a request
        asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(p + from + at),
                     "r"((unsigned)(len - at < (1u << 20) ? len - at : (1u << 20))) : "memory");
#endif
}

__global__ void __launch_bounds__(1024) norm_ask(bf* out, float* residual, const bf* in, const bf* weight, float eps,
                                                 int hidden, int rows, const char* next, size_t next_bytes, Ask how) {
    ask_l2(next, next_bytes, how);
    if ((int)blockIdx.x < rows) add_rmsnorm(out, residual, in, weight, eps, hidden, 1);
}

__global__ void silu_ask(bf* out, const bf* gate_up, int inter, int rows, const char* next, size_t next_bytes, Ask how) {
    ask_l2(next, next_bytes, how);
    if ((int)blockIdx.y < rows) silu_mul(out, gate_up, inter, (long long)rows * inter);
}

// Attention's stand-in: streams n16 16-byte words (grid-strided) and writes one float a block, so the reads stay.
__global__ void stream_kv(const uint4* kv, size_t n16, float* sink) {
    unsigned acc = 0;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n16; i += (size_t)gridDim.x * blockDim.x) {
        const uint4 v = kv[i];
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    sink[blockIdx.x] = (float)acc;
}

// The split merge's stand-in (attn_decode_reduce's bytes: two float partials an output element, one bf16 out), which
// runs between attention and o_proj whenever a decode step splits its keys, asking L2 for o_proj's weight first.
__global__ void merge_ask(bf* out, const float* part, int n, const char* next, size_t next_bytes, Ask how) {
    ask_l2(next, next_bytes, how);
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(part[i] + part[n + i]);
}

struct Model { const char* name; int hidden, qkv, q, inter; };
const Model MODELS[] = {{"qwen2", 1536, 2048, 1536, 8960}, {"llama", 2048, 3072, 2048, 8192},
                        {"qwen3", 1024, 4096, 2048, 3072}};

struct Layer { bf *norm1, *norm2, *qkv, *o, *gu, *down; };

struct Variant { const char* name; Ask qkv, o, gu, down; };
const Variant VARIANTS[] = {
    {"none", NONE, NONE, NONE, NONE},
    {"qkv lines", LINES, NONE, NONE, NONE},
    {"qkv bulk", BULK, NONE, NONE, NONE},
    {"qkv+down lines", LINES, NONE, NONE, LINES},
    {"qkv+down bulk", BULK, NONE, NONE, BULK},
    {"qkv+o+down bulk", BULK, BULK, NONE, BULK},
    {"qkv+o+down lines", LINES, LINES, NONE, LINES},
    {"qkv+o+gu+down bulk", BULK, BULK, BULK, BULK},
};

void run_model(Card& card, const Model& md, const std::vector<int>& rows_list, int layers, size_t head_bytes,
               size_t kv_bytes) {
    const int H = md.hidden, I = md.inter;
    const int max_rows = *std::max_element(rows_list.begin(), rows_list.end());
    std::vector<Layer> L(layers);
    auto alloc = [](size_t n, uint32_t seed, float scale) {
        bf* p;
        CK(cudaMalloc(&p, n * sizeof(bf)));
        fill<<<1024, 256>>>(p, n, seed, scale);
        return p;
    };
    for (int l = 0; l < layers; l++) {
        const uint32_t s = 1000u * (l + 1);
        L[l] = {alloc(H, s + 1, 1.f), alloc(H, s + 2, 1.f), alloc((size_t)md.qkv * H, s + 3, 0.03f),
                alloc((size_t)H * md.q, s + 4, 0.03f), alloc((size_t)2 * I * H, s + 5, 0.03f),
                alloc((size_t)H * I, s + 6, 0.03f)};
    }
    bf *x = alloc((size_t)max_rows * H, 7, 1.f), *normed, *qkv, *hid, *gu, *act;
    float* res0;
    float* res;
    uint4* kv;
    float *sink, *part;
    bf* attn;
    CK(cudaMalloc(&kv, kv_bytes * layers));
    CK(cudaMemset(kv, 1, kv_bytes * layers));
    CK(cudaMalloc(&sink, 4096 * 4));
    CK(cudaMalloc(&part, (size_t)max_rows * md.q * 2 * 4));
    CK(cudaMemset(part, 0x3c, (size_t)max_rows * md.q * 2 * 4));  // every float 0.0115
    CK(cudaMalloc(&attn, (size_t)max_rows * md.q * 2));
    CK(cudaMalloc(&normed, (size_t)max_rows * H * 2));
    CK(cudaMalloc(&qkv, (size_t)max_rows * md.qkv * 2));
    CK(cudaMalloc(&hid, (size_t)max_rows * H * 2));
    CK(cudaMalloc(&gu, (size_t)max_rows * 2 * I * 2));
    CK(cudaMalloc(&act, (size_t)max_rows * I * 2));
    CK(cudaMalloc(&res0, (size_t)max_rows * H * 4));
    CK(cudaMalloc(&res, (size_t)max_rows * H * 4));
    CK(cudaMemset(res0, 0, (size_t)max_rows * H * 4));
    CK(cudaDeviceSynchronize());
    card.blas.on(capture_stream());
    for (int M : rows_list) {
        const int threads = (H % 8 == 0 && H <= 8 * 4 * 256) ? 256 : 512;  // Kernels.addRmsNorm's choice
        const int ask_blocks = std::max(M, card.sms);
        const int silu_x = (I / 8 + 255) / 256;
        const int silu_rows = std::max(M, (card.sms + silu_x - 1) / silu_x);
        auto layer = [&](const Variant& v, int l, cudaStream_t st) {
            const Layer& w = L[l];
            const int n1 = v.qkv == NONE ? M : ask_blocks;
            norm_ask<<<n1, threads, 0, st>>>(normed, res, l == 0 ? x : hid, w.norm1, 1e-6f, H, M, (const char*)w.qkv,
                                             (size_t)md.qkv * H * 2, v.qkv);
            card.blas.linear(qkv, normed, w.qkv, M, md.qkv, H);
            stream_kv<<<4 * card.sms, 256, 0, st>>>(kv + l * (kv_bytes / 16), kv_bytes / 16, sink);
            const int merge_blocks = (M * md.q + 255) / 256;
            merge_ask<<<v.o == NONE ? merge_blocks : std::max(merge_blocks, card.sms), 256, 0, st>>>(
                attn, part, M * md.q, (const char*)w.o, (size_t)H * md.q * 2, v.o);
            card.blas.linear(hid, attn, w.o, M, H, md.q);
            const int n2 = v.gu == NONE ? M : ask_blocks;
            norm_ask<<<n2, threads, 0, st>>>(normed, res, hid, w.norm2, 1e-6f, H, M, (const char*)w.gu,
                                             std::min(head_bytes, (size_t)2 * I * H * 2), v.gu);
            card.blas.linear(gu, normed, w.gu, M, 2 * I, H);
            silu_ask<<<dim3(silu_x, v.down == NONE ? M : silu_rows), 256, 0, st>>>(act, gu, I, M, (const char*)w.down,
                                                                                  (size_t)H * I * 2, v.down);
            card.blas.linear(hid, act, w.down, M, H, I);
        };
        std::vector<uint16_t> want, got((size_t)M * H);
        double base = 0;
        for (const Variant& v : VARIANTS) {
            // the same inputs for every variant: residual zeroed, then one checked pass of all layers
            const cudaStream_t st = capture_stream();
            CK(cudaMemcpyAsync(res, res0, (size_t)M * H * 4, cudaMemcpyDeviceToDevice, st));
            for (int l = 0; l < layers; l++) layer(v, l, st);
            CK(cudaStreamSynchronize(st));
            CK(cudaGetLastError());
            CK(cudaMemcpy(got.data(), hid, got.size() * 2, cudaMemcpyDeviceToHost));
            if (want.empty()) want = got;
            const bool same = got == want;
            const double us = graph_us([&](int i) { layer(v, i % layers, st); });
            if (base == 0) base = us;
            printf("%-6s M=%4d %-18s %8.2f us a layer (%+6.2f us, %+5.1f %%)  output %s\n", md.name, M, v.name, us,
                   us - base, (us / base - 1) * 100, same ? "bit-identical" : "DIFFERS (FAIL)");
        }
    }
    for (Layer& w : L)
        for (bf* p : {w.norm1, w.norm2, w.qkv, w.o, w.gu, w.down}) CK(cudaFree(p));
    for (void* p : {(void*)x, (void*)normed, (void*)qkv, (void*)hid, (void*)gu, (void*)act, (void*)res0, (void*)res,
                    (void*)kv, (void*)sink, (void*)part, (void*)attn})
        CK(cudaFree(p));
}

}  // namespace

int main(int argc, char** argv) {
    Card card = open_card();
    if (!card.has_blas) {
        printf("no cuBLAS: nothing to time\n");
        return 1;
    }
    const std::vector<int> rows = int_list("ROWS", {1, 16, 64, 128, 192, 256});
    const std::vector<int> layers = int_list("LAYERS", {20});
    const std::vector<int> head_mb = int_list("HEAD_MB", {16});
    const std::vector<int> kv_mb = int_list("KV_MB", {16});
    printf("%d layers a graph; the second norm asks for %d MB of gate/up; attention's stand-in streams %d MB a layer\n",
           layers[0], head_mb[0], kv_mb[0]);
    for (const Model& md : MODELS)
        if (wanted(argc, argv, md.name))
            run_model(card, md, rows, layers[0], (size_t)head_mb[0] << 20, (size_t)kv_mb[0] << 20);
    return 0;
}
