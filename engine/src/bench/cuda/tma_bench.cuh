// What the sm_90a GEMM benches share (gemm_swiglu_bench.cu, gemm_cluster_bench.cu): TMA descriptors made through
// the driver's cuTensorMapEncodeTiled, cuBLAS opened at run time for the baseline, a float32 reference GEMM on the GPU,
// a hashed bf16 fill and a launch-sequence timer.
#pragma once
#include <dlfcn.h>
#include <cstring>
#include <cuda.h>
#include <functional>
#include "bench_ref.cuh"

namespace {

typedef CUresult (*EncodeTiled)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
EncodeTiled encode_tiled() {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult q;
    CK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &q));
    if (!fn) { printf("no cuTensorMapEncodeTiled\n"); exit(1); }
    return reinterpret_cast<EncodeTiled>(fn);
}

// A row-major bf16 matrix (rows x cols) read in boxes of box_rows x 64 with the 128-byte swizzle; rows past the end
// read as zeros.
CUtensorMap map_2d(const bf* p, int rows, int cols, int box_rows) {
    static EncodeTiled enc = encode_tiled();
    CUtensorMap m;
    cuuint64_t dims[2] = {(cuuint64_t)cols, (cuuint64_t)rows};
    cuuint64_t strides[1] = {(cuuint64_t)cols * 2};
    cuuint32_t box[2] = {64, (cuuint32_t)box_rows};
    cuuint32_t elem[2] = {1, 1};
    CUresult r = enc(&m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, (void*)p, dims, strides, box, elem,
                     CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                     CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) { printf("cuTensorMapEncodeTiled failed: %d\n", (int)r); exit(1); }
    return m;
}

// cuBLAS through dlopen (the GPU host has the library with the engine's jars or torch, not with the toolkit).
typedef int (*CublasCreate)(void**);
typedef int (*CublasSetStream)(void*, cudaStream_t);
typedef int (*CublasSetWorkspace)(void*, void*, size_t);
typedef int (*CublasGemmEx)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int,
                            const void*, void*, int, int, int, int);
struct Cublas {
    void* handle = nullptr;
    CublasGemmEx gemm = nullptr;
    CublasSetStream set_stream = nullptr;
    CublasSetWorkspace set_workspace = nullptr;
    bool open() {
        const char* lib = getenv("CUBLAS_LIB");
        void* so = nullptr;
        for (const char* name : {lib, "libcublas.so.13", "libcublas.so.12", "libcublas.so"})
            if (name && !so) so = dlopen(name, RTLD_NOW);
        if (!so) { printf("cuBLAS not opened (%s): baseline GEMM left out\n", dlerror()); return false; }
        auto create = (CublasCreate)dlsym(so, "cublasCreate_v2");
        gemm = (CublasGemmEx)dlsym(so, "cublasGemmEx");
        set_stream = (CublasSetStream)dlsym(so, "cublasSetStream_v2");
        set_workspace = (CublasSetWorkspace)dlsym(so, "cublasSetWorkspace_v2");
        if (!create || !gemm || !set_stream || !set_workspace || create(&handle) != 0) return false;
        // as the engine's Cublas: a workspace of its own, so a call captured into a graph allocates nothing
        void* ws;
        CK(cudaMalloc(&ws, 32u << 20));
        return set_workspace(handle, ws, 32u << 20) == 0;
    }
    // Later calls go to stream st (0: the legacy default stream).
    void on(cudaStream_t st) {
        if (set_stream(handle, st) != 0) { printf("cublasSetStream failed\n"); exit(1); }
    }
    // y (M x N) = x (M x K) w (N x K)^T, row-major bf16, float32 compute, the default algorithm
    void linear(bf* y, const bf* x, const bf* w, int M, int N, int K) {
        float one = 1.f, zero = 0.f;
        int st = gemm(handle, 1 /*T*/, 0 /*N*/, N, M, K, &one, w, 14 /*CUDA_R_16BF*/, K, x, 14, K, &zero, y, 14, N,
                      68 /*CUBLAS_COMPUTE_32F*/, -1 /*CUBLAS_GEMM_DEFAULT*/);
        if (st != 0) { printf("cublasGemmEx failed: %d\n", st); exit(1); }
    }
};

__global__ void ref_gemm(float* y, const bf* x, const bf* w, int M, int N, int K) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x, m = blockIdx.y;
    if (n >= N) return;
    float s = 0.f;
    for (int k = 0; k < K; k++) s += __bfloat162float(x[(size_t)m * K + k]) * __bfloat162float(w[(size_t)n * K + k]);
    y[(size_t)m * N + n] = s;
}

__global__ void fill(bf* p, size_t n, uint32_t seed, float scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
        p[i] = __float2bfloat16_rn(((h & 0xFFFFFF) / 16777216.f * 2.f - 1.f) * scale);
    }
}

// The comma-separated integers of environment variable `name`, or `dflt` when it is unset.
std::vector<int> int_list(const char* name, std::vector<int> dflt) {
    const char* v = getenv(name);
    if (!v) return dflt;
    std::vector<int> out;
    for (const char* p = v; *p;) {
        char* end;
        const long n = strtol(p, &end, 10);
        if (end == p || n < 1 || (*end && *end != ',')) { printf("%s: not a list of positive integers: %s\n", name, v); exit(2); }
        out.push_back((int)n);
        p = *end ? end + 1 : end;
    }
    return out;
}

// µs a launch: 20 launches in a row (launch(0) .. launch(19)), best of five (bench_ref.cuh's best_ms).
double time_us(const std::function<void(int)>& launch) {
    static cudaEvent_t e0, e1;
    if (!e0) { CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1)); }
    const float ms = best_ms(0, e0, e1, [&] { for (int i = 0; i < 20; i++) launch(i); });
    CK(cudaGetLastError());
    return ms * 1e3 / 20;
}

// The stream graph_us captures on (the legacy default stream cannot be captured).
cudaStream_t capture_stream() {
    static cudaStream_t st = [] { cudaStream_t t; CK(cudaStreamCreateWithFlags(&t, cudaStreamNonBlocking)); return t; }();
    return st;
}

// µs a launch as a decode step runs it: launch(0) .. launch(19), each enqueued on capture_stream(), captured into one
// CUDA graph and replayed (one untimed replay, then the best of five), so what the eager timer counts of the launch
// path is gone and a short kernel shows its run time plus the graph's kernel-to-kernel gap, as the engine's race
// (GemmPlans) times its candidates.
double graph_us(const std::function<void(int)>& launch) {
    static cudaEvent_t e0, e1;
    if (!e0) { CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1)); }
    const cudaStream_t st = capture_stream();
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < 20; i++) launch(i);
    CK(cudaStreamEndCapture(st, &graph));
    CK(cudaGraphInstantiate(&exec, graph, 0));
    const float ms = best_ms(st, e0, e1, [&] { CK(cudaGraphLaunch(exec, st)); });
    CK(cudaGraphExecDestroy(exec));
    CK(cudaGraphDestroy(graph));
    return ms * 1e3 / 20;
}

// The card and what the floors count at: the copy bandwidth measured here, the GEMM rate from PEAK_TFLOPS (default
// 798, the H100's measured cuBLAS rate in docs/BENCHMARKS.md; the H200's is 793); cuBLAS opened for the baseline.
struct Card {
    double bw = 0, tflops = 0;
    int sms = 0;
    Cublas blas;
    bool has_blas = false;
};
Card open_card() {
    Card c;
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    c.bw = copy_bandwidth();
    const char* t = getenv("PEAK_TFLOPS");
    c.tflops = t ? atof(t) : 798.0;
    c.sms = p.multiProcessorCount;
    printf("%s, %d SMs; copy %.0f GB/s; floors at %.0f TFLOP/s\n", p.name, p.multiProcessorCount, c.bw, c.tflops);
    c.has_blas = c.blas.open();
    return c;
}

// Whether the command line names `model` (no arguments: every model).
bool wanted(int argc, char** argv, const char* model) {
    bool want = argc < 2;
    for (int a = 1; a < argc; a++) want |= strcmp(argv[a], model) == 0;
    return want;
}

// Elements further from the reference than `relative` of it + 1e-3 (a NaN, an unwritten element, counts).
size_t count_off(const std::vector<float>& ref, const std::vector<bf>& got, double relative) {
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); i++) {
        double e = fabs((double)ref[i] - (double)__bfloat162float(got[i]));
        if (!(e <= fabs(ref[i]) * relative + 1e-3)) bad++;
    }
    return bad;
}

}  // namespace
