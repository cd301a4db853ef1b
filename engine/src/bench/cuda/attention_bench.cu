// Kernel benchmark of the paged attention kernels (a main for the GPU host, not part of the engine's build):
// checks each tensor-core kernel against a plain float32 reference kernel on random bf16 data, then times it
// against the card's measured ceilings (device copy bandwidth, and for prefill a FLOP count). The fused decode
// kernel (attn_decode_tc_rope) is checked bit for bit against rope_store + attn_decode_tc and timed against them.
//
//   nvcc -std=c++17 -O3 -arch=sm_90 -I engine/src/main/cuda engine/src/bench/cuda/attention_bench.cu -o /tmp/ab
//   /tmp/ab [prefill | decode-mixed | decode-rope | decode S CTX]   (one line per case; the argument picks one group)
//
// Shapes: Qwen2-1.5B attention (12 query heads, 2 KV heads, head_dim 128), block size 16, block tables
// shuffled so pages are scattered as in a long-running engine.
#include "attention_paged.cu"
#include "attention_decode.cu"
#include "rope.cu"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <algorithm>
#include <random>
#include <cmath>
#include <array>

#include "bench_ref.cuh"

static float elapsed_ms(cudaEvent_t a, cudaEvent_t b) { float ms; CK(cudaEventElapsedTime(&ms, a, b)); return ms; }

// CudaModel.decodeSplits for S sequences of contexts up to maxc (or force_splits partitions).
static void decode_split(int S, int nkv, int maxc, int sms, int force_splits, int& partition, int& splits) {
    long ctas = (long)S * nkv;
    long fill = (4L * sms + ctas - 1) / ctas;
    int shortest = ctas * ((maxc + 255) / 256) < 2L * sms ? 128 : 256;
    int want = (int)std::max<long>(1, std::min<long>(std::max<long>(fill, (maxc + 1023) / 1024), (maxc + shortest - 1) / shortest));
    if (force_splits > 0) want = force_splits;
    partition = 64 * ((((maxc + want - 1) / want) + 63) / 64);
    splits = (maxc + partition - 1) / partition;
}

// Decode over sequences of the given context lengths (each its own scattered pages, one query token each; a context
// of 0 is a graph's padding row), split as CudaModel.decodeSplits splits by the longest or into force_splits
// partitions; checked against ref_attn when `check`.
static void bench_decode_lens(const Cache& c, const std::vector<int>& lens, const char* label, int nh, double copy_gbs,
                              bool check, int sms, int force_splits = 0) {
    int nkv = c.nkv, hd = c.hd, bs = c.bs, S = lens.size();
    int maxc = *std::max_element(lens.begin(), lens.end());
    int per_seq = (maxc + bs - 1) / bs;
    if ((long)per_seq * S > c.blocks) { printf("decode %s: cache too small\n", label); return; }
    std::vector<int> perm(c.blocks);
    for (int i = 0; i < c.blocks; i++) perm[i] = i;
    std::mt19937 rng(S * 31 + maxc);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<int> bt((size_t)S * per_seq), seq_of(S), pos_of(S);
    long keys = 0;
    for (size_t i = 0; i < bt.size(); i++) bt[i] = perm[i];
    for (int s = 0; s < S; s++) { seq_of[s] = s; pos_of[s] = lens[s] - 1; keys += lens[s]; }
    int *d_bt, *d_lens, *d_seq, *d_pos;
    CK(cudaMalloc(&d_bt, bt.size() * 4)); CK(cudaMalloc(&d_lens, S * 4)); CK(cudaMalloc(&d_seq, S * 4));
    CK(cudaMalloc(&d_pos, S * 4));
    CK(cudaMemcpy(d_bt, bt.data(), bt.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_lens, lens.data(), S * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_seq, seq_of.data(), S * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_pos, pos_of.data(), S * 4, cudaMemcpyHostToDevice));
    bf *q, *out; float *ref, *pacc, *pml;
    CK(cudaMalloc(&q, (size_t)S * nh * hd * 2)); CK(cudaMalloc(&out, (size_t)S * nh * hd * 2));
    CK(cudaMalloc(&ref, (size_t)S * nh * hd * 4));
    fill_rand<<<256, 256>>>(q, (size_t)S * nh * hd, 99);
    float scale = 1.f / sqrtf((float)hd);
    int partition, splits;
    decode_split(S, nkv, maxc, sms, force_splits, partition, splits);
    int smem = (16 * hd + paged::DECODE_STAGES * 2 * paged::BN * hd) * 2;
    auto kern = hd == 128 ? attn_decode_tc_hd128_bf16 : attn_decode_tc_hd64_bf16;
    CK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    CK(cudaMalloc(&pacc, (size_t)S * splits * nh * hd * 4)); CK(cudaMalloc(&pml, (size_t)S * splits * nh * 2 * 4));
    auto run = [&]() {
        kern<<<dim3(nkv, S, splits), paged::THREADS, smem>>>(out, pacc, pml, q, c.k, c.v, d_lens, d_bt, per_seq, nh, nkv, bs, scale, partition, splits);
        if (splits > 1) attn_decode_reduce_bf16<<<dim3(nh, S), hd>>>(out, pacc, pml, d_lens, nh, hd, splits, partition);
    };
    CK(cudaMemset(out, 0xff, (size_t)S * nh * hd * 2));
    run();
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    double err = -1;
    if (check) {
        ref_attn<<<dim3(S, nh), 128, (maxc + 1) * 4>>>(ref, q, c.k, c.v, d_seq, d_pos, d_bt, per_seq, nh, nkv, hd, bs, scale);
        CK(cudaDeviceSynchronize());
        std::vector<float> r((size_t)S * nh * hd);
        std::vector<bf> g((size_t)S * nh * hd);
        CK(cudaMemcpy(r.data(), ref, r.size() * 4, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(g.data(), out, g.size() * 2, cudaMemcpyDeviceToHost));
        err = max_abs_error(r, g);
        if (!(err < 2e-2)) err = 1e9;  // an unwritten (NaN) row or a wrong one
    }
    cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
    int iters = 50;
    for (int i = 0; i < 3; i++) run();
    cudaEventRecord(e0);
    for (int i = 0; i < iters; i++) run();
    cudaEventRecord(e1); cudaEventSynchronize(e1);
    double ms = elapsed_ms(e0, e1) / iters;
    double gbs = 2.0 * keys * nkv * hd * 2 / (ms * 1e-3) / 1e9;
    char errs[32];
    if (check) snprintf(errs, sizeof errs, "max|err| %.2e", err); else snprintf(errs, sizeof errs, "unchecked");
    printf("decode %-22s splits=%2d partition=%5d: %8.1f us  KV %7.1f GB/s = %5.1f%% of copy  %s\n",
           label, splits, partition, ms * 1e3, gbs, 100 * gbs / copy_gbs, errs);
    cudaFree(d_bt); cudaFree(d_lens); cudaFree(d_seq); cudaFree(d_pos); cudaFree(q); cudaFree(out);
    cudaFree(ref); cudaFree(pacc); cudaFree(pml);
}

// Elements whose 16 bits differ between a and b, added to *n.
__global__ void count_diff(unsigned long long* n, const unsigned short* a, const unsigned short* b, size_t len) {
    unsigned long long c = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < len; i += (size_t)gridDim.x * blockDim.x) c += a[i] != b[i];
    if (c) atomicAdd(n, c);
}

static unsigned long long differing(const bf* a, const bf* b, size_t len) {
    unsigned long long* d;
    unsigned long long n = 0;
    CK(cudaMalloc(&d, 8));
    CK(cudaMemset(d, 0, 8));
    count_diff<<<1024, 256>>>(d, (const unsigned short*)a, (const unsigned short*)b, len);
    CK(cudaMemcpy(&n, d, 8, cudaMemcpyDeviceToHost));
    cudaFree(d);
    return n;
}

// Pure decode step, one layer: rope_store (Qwen2's q/k/v bias, no q/k norm) + attn_decode_tc against the fused
// attn_decode_tc_rope, S sequences of context ctx (the new token is each one's last key), split as CudaModel does.
// Both start from the same caches: the output and the whole K and V caches must be equal bit for bit. Then each is
// timed (50 launches; the caches are rewritten with the same rows each time).
static void bench_decode_rope(const Cache& c, int S, int ctx, int nh, int sms) {
    const int nkv = c.nkv, hd = c.hd, bs = c.bs, width = (nh + 2 * nkv) * hd, per_seq = (ctx + bs - 1) / bs;
    const float eps = 1e-6f, scale = 1.f / sqrtf((float)hd);
    if ((long)per_seq * S > c.blocks) { printf("decode-rope S=%d ctx=%d: cache too small\n", S, ctx); return; }
    std::vector<int> perm(c.blocks);
    for (int i = 0; i < c.blocks; i++) perm[i] = i;
    std::mt19937 rng(S * 17 + ctx);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<int> bt((size_t)S * per_seq), lens(S, ctx), pos(S, ctx - 1), slots(S);
    for (size_t i = 0; i < bt.size(); i++) bt[i] = perm[i];
    for (int s = 0; s < S; s++) slots[s] = bt[(size_t)s * per_seq + (ctx - 1) / bs] * bs + (ctx - 1) % bs;
    std::vector<float> inv(hd / 2);
    for (int i = 0; i < hd / 2; i++) inv[i] = (float)(1.0 / pow(1e6, 2.0 * i / hd));
    int *d_bt, *d_lens, *d_pos, *d_slots; float *d_inv, *pacc, *pml;
    bf *qkv, *bias, *q, *out_ref, *out_fused;
    CK(cudaMalloc(&d_bt, bt.size() * 4)); CK(cudaMalloc(&d_lens, S * 4)); CK(cudaMalloc(&d_pos, S * 4));
    CK(cudaMalloc(&d_slots, S * 4)); CK(cudaMalloc(&d_inv, hd / 2 * 4));
    CK(cudaMemcpy(d_bt, bt.data(), bt.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_lens, lens.data(), S * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_pos, pos.data(), S * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_slots, slots.data(), S * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_inv, inv.data(), hd / 2 * 4, cudaMemcpyHostToDevice));
    CK(cudaMalloc(&qkv, (size_t)S * width * 2)); CK(cudaMalloc(&bias, (size_t)width * 2));
    CK(cudaMalloc(&q, (size_t)S * nh * hd * 2));
    CK(cudaMalloc(&out_ref, (size_t)S * nh * hd * 2)); CK(cudaMalloc(&out_fused, (size_t)S * nh * hd * 2));
    fill_rand<<<256, 256>>>(qkv, (size_t)S * width, 5);
    fill_rand<<<16, 256>>>(bias, width, 6);
    int partition, splits;
    decode_split(S, nkv, ctx, sms, 0, partition, splits);
    CK(cudaMalloc(&pacc, (size_t)S * splits * nh * hd * 4)); CK(cudaMalloc(&pml, (size_t)S * splits * nh * 2 * 4));
    int smem = (16 * hd + paged::DECODE_STAGES * 2 * paged::BN * hd) * 2;
    auto dec = hd == 128 ? attn_decode_tc_hd128_bf16 : attn_decode_tc_hd64_bf16;
    auto fused = hd == 128 ? attn_decode_tc_rope_hd128_bf16 : attn_decode_tc_rope_hd64_bf16;
    CK(cudaFuncSetAttribute(dec, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    CK(cudaFuncSetAttribute(fused, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    const int rope_threads = 32 * std::min(32, nh + 2 * nkv);  // Kernels.ropeThreads at decode sizes
    dim3 grid(nkv, S, splits);
    auto reduce = [&](bf* out) {
        if (splits > 1) attn_decode_reduce_bf16<<<dim3(nh, S), hd>>>(out, pacc, pml, d_lens, nh, hd, splits, partition);
    };
    auto rope = [&]() {
        rope_store_bf16<<<S, rope_threads>>>(q, c.k, c.v, qkv, bias, nullptr, nullptr, d_pos, d_slots, d_inv, nh, nkv, hd, bs, eps);
    };
    auto run_ref = [&]() {
        rope();
        dec<<<grid, paged::THREADS, smem>>>(out_ref, pacc, pml, q, c.k, c.v, d_lens, d_bt, per_seq, nh, nkv, bs, scale, partition, splits);
        reduce(out_ref);
    };
    auto run_fused = [&]() {
        fused<<<grid, paged::THREADS, smem>>>(out_fused, pacc, pml, c.k, c.v, qkv, bias, nullptr, nullptr, d_pos, d_slots,
                                              d_inv, d_lens, d_bt, per_seq, nh, nkv, bs, scale, partition, splits, eps);
        reduce(out_fused);
    };
    // bit for bit: the reference from a copy of the caches, the fused kernel from the same copy
    size_t n = (size_t)c.blocks * nkv * bs * hd;
    bf *k0, *v0, *kr, *vr;
    CK(cudaMalloc(&k0, n * 2)); CK(cudaMalloc(&v0, n * 2)); CK(cudaMalloc(&kr, n * 2)); CK(cudaMalloc(&vr, n * 2));
    CK(cudaMemcpy(k0, c.k, n * 2, cudaMemcpyDeviceToDevice)); CK(cudaMemcpy(v0, c.v, n * 2, cudaMemcpyDeviceToDevice));
    CK(cudaMemset(out_ref, 0xff, (size_t)S * nh * hd * 2)); CK(cudaMemset(out_fused, 0xff, (size_t)S * nh * hd * 2));
    run_ref();
    CK(cudaGetLastError());
    CK(cudaMemcpy(kr, c.k, n * 2, cudaMemcpyDeviceToDevice)); CK(cudaMemcpy(vr, c.v, n * 2, cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy(c.k, k0, n * 2, cudaMemcpyDeviceToDevice)); CK(cudaMemcpy(c.v, v0, n * 2, cudaMemcpyDeviceToDevice));
    run_fused();
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    unsigned long long d_out = differing(out_ref, out_fused, (size_t)S * nh * hd);
    unsigned long long d_k = differing(kr, c.k, n), d_v = differing(vr, c.v, n), stored = differing(k0, c.k, n);
    std::vector<bf> o((size_t)S * nh * hd);
    CK(cudaMemcpy(o.data(), out_ref, o.size() * 2, cudaMemcpyDeviceToHost));
    bool finite = std::all_of(o.begin(), o.end(), [](bf x) { return std::isfinite(__bfloat162float(x)); });
    bool same = d_out == 0 && d_k == 0 && d_v == 0 && finite && stored > 0;
    cudaFree(k0); cudaFree(v0); cudaFree(kr); cudaFree(vr);
    cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
    const int iters = 50;
    auto timed = [&](auto&& f) {
        for (int i = 0; i < 3; i++) f();
        cudaEventRecord(e0);
        for (int i = 0; i < iters; i++) f();
        cudaEventRecord(e1); cudaEventSynchronize(e1);
        return elapsed_ms(e0, e1) / iters * 1e3;
    };
    double t_rope = timed(rope), t_ref = timed(run_ref), t_fused = timed(run_fused);
    CK(cudaGetLastError());
    printf("decode-rope S=%d ctx=%d splits=%2d partition=%5d: rope_store %6.1f us + decode = %7.1f us, fused %7.1f us "
           "(%+.1f us); bitwise %s (differing: out %llu, K %llu, V %llu; new K elements %llu)\n",
           S, ctx, splits, partition, t_rope, t_ref, t_fused, t_fused - t_ref, same ? "PASS" : "FAIL", d_out, d_k, d_v, stored);
    cudaFree(d_bt); cudaFree(d_lens); cudaFree(d_pos); cudaFree(d_slots); cudaFree(d_inv); cudaFree(pacc); cudaFree(pml);
    cudaFree(qkv); cudaFree(bias); cudaFree(q); cudaFree(out_ref); cudaFree(out_fused);
}

// Decode: S sequences of context ctx.
static void bench_decode(const Cache& c, int S, int ctx, int nh, double copy_gbs, bool check, int sms, int force_splits = 0) {
    char label[64];
    snprintf(label, sizeof label, "S=%d ctx=%d", S, ctx);
    bench_decode_lens(c, std::vector<int>(S, ctx), label, nh, copy_gbs, check, sms, force_splits);
}

// Mixed contexts, as in a throughput run: uniform in [lo, hi], with one padding row (context 0).
static void decode_mixed(const Cache& c, int nh, double copy_gbs, int sms) {
    char label[64];
    std::mt19937 rng(7);
    for (auto [S, lo, hi] : std::vector<std::array<int, 3>>{{256, 150, 2048}, {128, 600, 2048}, {32, 1000, 2048}, {16, 1, 300}}) {
        std::vector<int> lens(S);
        for (int& l : lens) l = lo + (int)(rng() % (hi - lo + 1));
        lens[S / 3] = 0;
        snprintf(label, sizeof label, "S=%d ctx=%d..%d", S, lo, hi);
        bench_decode_lens(c, lens, label, nh, copy_gbs, true, sms);
    }
}

// Prefill: S sequences of L new tokens each (no earlier context), causal.
static void bench_prefill(const Cache& c, int S, int L, int nh, bool check) {
    const int nkv = c.nkv, hd = c.hd, bs = c.bs, G = nh / nkv;
    PrefillCase pc(c, S, L, nh, 0, paged::PREFILL_ROWS / G, check);
    int smem = (paged::PREFILL_ROWS * hd + paged::PREFILL_STAGES * 2 * paged::BN * hd) * 2;
    auto kern = hd == 128 ? attn_prefill_tc_hd128_bf16 : attn_prefill_tc_hd64_bf16;
    CK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    auto run = [&]() {
        kern<<<dim3(pc.ntiles, nkv), paged::PREFILL_THREADS, smem>>>(pc.out, pc.q, c.k, c.v, pc.d_tiles, pc.d_qs,
                                                                     pc.d_lens, pc.d_bt, pc.per_seq, nh, nkv, bs, pc.scale);
    };
    run();
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    double err = -1;
    if (check) {
        std::vector<bf> g(pc.n_out);
        CK(cudaMemcpy(g.data(), pc.out, g.size() * 2, cudaMemcpyDeviceToHost));
        err = max_abs_error(pc.ref, g);
    }
    cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
    int iters = 20;
    cudaEventRecord(e0);
    for (int i = 0; i < iters; i++) run();
    cudaEventRecord(e1); cudaEventSynchronize(e1);
    double ms = elapsed_ms(e0, e1) / iters;
    double flops = 4.0 * S * (double)L * (L + 1) / 2 * nh * hd;  // causal: QK^T and PV over the visible half
    printf("prefill S=%d L=%d (G=%d, %d tiles): %8.1f us  %6.1f TFLOP/s (causal FLOPs)  max|err| %.2e\n", S, L, G, pc.ntiles,
           ms * 1e3, flops / (ms * 1e-3) / 1e12, err);
}

int main(int argc, char** argv) {
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    double copy_gbs = copy_bandwidth();
    printf("decode stages %d\n", paged::DECODE_STAGES);
    printf("%s, %d SMs; device copy %.0f GB/s (bytes read + written)\n", p.name, p.multiProcessorCount, copy_gbs);
    Cache c{2, 128, 16, 0, nullptr, nullptr};
    c.blocks = 256 * 4096 / 16 + 64;  // batch 256 x context 4096 at most
    size_t n = (size_t)c.blocks * c.nkv * c.bs * c.hd;
    CK(cudaMalloc(&c.k, n * 2)); CK(cudaMalloc(&c.v, n * 2));
    fill_rand<<<1024, 256>>>(c.k, n, 1);
    fill_rand<<<1024, 256>>>(c.v, n, 2);
    int nh = 12;
    if (argc > 1 && strcmp(argv[1], "prefill") == 0) {  // prefill cases only (compile-time variants compared)
        printf("prefill warps %d, tiles %s\n", paged::PREFILL_WARPS, EMBER_PREFILL_REVERSE ? "longest first" : "in order");
#ifdef EMBER_PREFILL_STEP  // absent from kernels older than the step (kernel_ab.sh builds those too)
        printf("prefill steps of %d keys, Q fragments from %s\n", EMBER_PREFILL_STEP, EMBER_PREFILL_QREG ? "registers" : "shared memory");
#endif
#ifdef EMBER_PREFILL_WARP_ROWS  // absent from kernels older than the warp-rows and mask-free variants
        printf("prefill variant: %d rows a warp, %d threads x %d rows a block, causal mask on %s\n", paged::PREFILL_WARP_ROWS,
               paged::PREFILL_THREADS, paged::PREFILL_ROWS, EMBER_PREFILL_MASKFREE ? "diagonal steps only" : "every step");
#endif
        bench_prefill(c, 2, 300, nh, true);
        bench_prefill(c, 8, 1024, nh, true);
        bench_prefill(c, 1, 4096, nh, false);
        bench_prefill(c, 32, 256, nh, false);
        bench_prefill(c, 8, 1024, 2 * 2, false);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "decode-mixed") == 0) {  // mixed contexts only
        decode_mixed(c, nh, copy_gbs, p.multiProcessorCount);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "decode-rope") == 0) {  // the fused RoPE decode kernel only
        for (int S : {16, 256}) bench_decode_rope(c, S, 1024, nh, p.multiProcessorCount);
        bench_decode_rope(c, 64, 4096, nh, p.multiProcessorCount);
        return 0;
    }
    if (argc > 3 && strcmp(argv[1], "decode") == 0) {  // one decode shape (profilers): decode S ctx
        bench_decode(c, atoi(argv[2]), atoi(argv[3]), nh, copy_gbs, false, p.multiProcessorCount);
        return 0;
    }
    bench_decode_rope(c, 256, 1024, nh, p.multiProcessorCount);  // first, so stages.sh's first 30 lines keep it
    bench_decode(c, 16, 1000, nh, copy_gbs, true, p.multiProcessorCount);
    bench_decode(c, 4, 4096, nh, copy_gbs, true, p.multiProcessorCount);
    for (int S : {16, 64, 256})
        for (int ctx : {1024, 4096}) bench_decode(c, S, ctx, nh, copy_gbs, S <= 64, p.multiProcessorCount);
    bench_decode(c, 256, 600, nh, copy_gbs, false, p.multiProcessorCount);
    decode_mixed(c, nh, copy_gbs, p.multiProcessorCount);
    // the split policy (CudaModel.decodeSplits) against fixed split counts
    for (int ctx : {600, 1024, 2048})
        for (int f : {1, 2, 3, 4, 6, 8}) bench_decode(c, 256, ctx, nh, copy_gbs, false, p.multiProcessorCount, f);
    // small batches at long contexts (the end of a throughput run): is a 256-key floor on the split too coarse?
    for (int S : {8, 16, 32, 64})
        for (int f : {0, 4, 6, 8, 12, 16, 24}) bench_decode(c, S, 1536, nh, copy_gbs, false, p.multiProcessorCount, f);
    bench_prefill(c, 2, 300, nh, true);
    bench_prefill(c, 8, 1024, nh, true);
    bench_prefill(c, 8, 1024, 2 * 2, false);   // G = 2 (qwen3-0.6b style packing)
    return 0;
}
