// What the kernel benchmarks share: the CUDA error check, the device-copy ceiling and a best-of-five timer; for the
// attention benches (attention_bench.cu, prefill_wgmma.cu) also the float32 reference attention every tensor-core
// kernel is checked against, the error measure, the random bf16 fill and the paged cache.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cuda_bf16.h>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__, __LINE__); exit(1); } } while (0)

typedef __nv_bfloat16 bf;

// The card's device-to-device copy bandwidth in GB/s, bytes read + written (a 1 GiB copy, ten times after one
// untimed): the byte floors of every bench are counted at it.
static double copy_bandwidth() {
    size_t n = 1ull << 30;
    void *a, *b;
    CK(cudaMalloc(&a, n)); CK(cudaMalloc(&b, n));
    cudaEvent_t e0, e1; CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
    CK(cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice));
    CK(cudaEventRecord(e0));
    for (int i = 0; i < 10; i++) CK(cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice));
    CK(cudaEventRecord(e1)); CK(cudaEventSynchronize(e1));
    float ms; CK(cudaEventElapsedTime(&ms, e0, e1));
    CK(cudaFree(a)); CK(cudaFree(b));
    return 2.0 * n * 10 / (ms * 1e-3) / 1e9;
}

// The best of five event-timed runs of `run` on st, in milliseconds (after one untimed run).
template <typename F> static float best_ms(cudaStream_t st, cudaEvent_t e0, cudaEvent_t e1, F run) {
    run();
    float best = 1e9f, ms = 0.f;
    for (int rep = 0; rep < 5; rep++) {
        CK(cudaEventRecord(e0, st));
        run();
        CK(cudaEventRecord(e1, st));
        CK(cudaEventSynchronize(e1));
        CK(cudaEventElapsedTime(&ms, e0, e1));
        best = std::min(best, ms);
    }
    return best;
}

// Worst |ref - got| over all outputs, a NaN (a poisoned, unwritten element, or a wrong one) counting as infinity;
// `where`, when given, gets its index.
static double max_abs_error(const std::vector<float>& ref, const std::vector<bf>& got, size_t* where = nullptr) {
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        double e = fabs((double)ref[i] - (double)__bfloat162float(got[i]));
        if (std::isnan(e)) e = INFINITY;
        if (e > worst) { worst = e; at = i; }
    }
    if (where) *where = at;
    return worst;
}

// Reference: one block per (token, head), float32, two passes over the keys; a token at position -1 (no key) gets zeros.
__global__ void ref_attn(float* out, const bf* q, const bf* kc, const bf* vc, const int* seq_of, const int* pos_of,
                         const int* bt, int bt_stride, int nh, int nkv, int hd, int bs, float scale) {
    extern __shared__ float sh[];
    int tok = blockIdx.x, h = blockIdx.y, kvh = h / (nh / nkv);
    int seq = seq_of[tok], pos = pos_of[tok];
    const bf* qr = q + (size_t)tok * nh * hd + h * hd;
    float* s = sh;  // pos + 1 scores
    for (int j = threadIdx.x; j <= pos; j += blockDim.x) {
        const bf* k = kc + (((size_t)bt[seq * bt_stride + j / bs] * nkv + kvh) * bs + j % bs) * hd;
        float d = 0.f;
        for (int e = 0; e < hd; e++) d += __bfloat162float(qr[e]) * __bfloat162float(k[e]);
        s[j] = d * scale;
    }
    __syncthreads();
    __shared__ float mx, sum;
    if (threadIdx.x == 0) {
        float m = -INFINITY;
        for (int j = 0; j <= pos; j++) m = fmaxf(m, s[j]);
        float t = 0.f;
        for (int j = 0; j <= pos; j++) t += expf(s[j] - m);
        mx = m; sum = t;
    }
    __syncthreads();
    for (int e = threadIdx.x; e < hd; e += blockDim.x) {
        float a = 0.f;
        for (int j = 0; j <= pos; j++) {
            const bf* v = vc + (((size_t)bt[seq * bt_stride + j / bs] * nkv + kvh) * bs + j % bs) * hd;
            a += expf(s[j] - mx) * __bfloat162float(v[e]);
        }
        // no key (a graph's padding row, context 0): zeros, what the decode kernels write for it (not 0 / 0)
        out[(size_t)tok * nh * hd + h * hd + e] = sum > 0.f ? a / sum : 0.f;
    }
}

__global__ void fill_rand(bf* p, size_t n, unsigned seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned x = (unsigned)(i * 2654435761u) ^ seed;
        x ^= x >> 13; x *= 0x5bd1e995; x ^= x >> 15;
        p[i] = __float2bfloat16(((x & 0xffff) / 65536.f - 0.5f) * 4.f);
    }
}

struct Cache {
    int nkv, hd, bs, blocks;
    bf *k, *v;
};

// A prefill case on the device: S sequences of L new tokens each after `prior` cached tokens, pages scattered by a
// shuffled block table, query tiles of at most `tq` tokens (the kernels' 128 rows / G), random queries. The
// float32 reference of every output is computed at construction (ref, on the host).
struct PrefillCase {
    int S, L, prior, nh, per_seq, T, ntiles;
    size_t n_out;
    std::vector<int> qs, seq_of, pos_of, tiles;
    std::vector<float> ref;
    int *d_bt, *d_qs, *d_lens, *d_tiles;
    bf *q, *out;
    float scale;

    PrefillCase(const Cache& c, int S_, int L_, int nh_, int prior_, int tq, bool check)
        : S(S_), L(L_), prior(prior_), nh(nh_) {
        const int ctx = prior + L, bs = c.bs, hd = c.hd;
        per_seq = (ctx + bs - 1) / bs;
        T = S * L;
        std::vector<int> perm(c.blocks);
        for (int i = 0; i < c.blocks; i++) perm[i] = i;
        std::mt19937 rng(S * 13 + L + prior);
        std::shuffle(perm.begin(), perm.end(), rng);
        std::vector<int> bt(perm.begin(), perm.begin() + (size_t)S * per_seq), lens(S, ctx);
        qs.resize(S + 1); seq_of.resize(T); pos_of.resize(T);
        for (int s = 0; s <= S; s++) qs[s] = s * L;
        for (int s = 0; s < S; s++) {
            for (int t = 0; t < L; t++) { seq_of[s * L + t] = s; pos_of[s * L + t] = prior + t; }
            for (int t = 0; t < L; t += tq) { tiles.push_back(s); tiles.push_back(s * L + t); tiles.push_back(std::min(tq, L - t)); }
        }
        ntiles = tiles.size() / 3;
        n_out = (size_t)T * nh * hd;
        d_bt = upload(bt); d_qs = upload(qs); d_lens = upload(lens); d_tiles = upload(tiles);
        CK(cudaMalloc(&q, n_out * 2)); CK(cudaMalloc(&out, n_out * 2));
        fill_rand<<<256, 256>>>(q, n_out, 7);
        scale = 1.f / sqrtf((float)hd);
        if (check) {
            int *d_seq = upload(seq_of), *d_pos = upload(pos_of);
            float* d_ref;
            CK(cudaMalloc(&d_ref, n_out * 4));
            ref_attn<<<dim3(T, nh), 128, (ctx + 1) * 4>>>(d_ref, q, c.k, c.v, d_seq, d_pos, d_bt, per_seq, nh, c.nkv, hd, bs, scale);
            CK(cudaGetLastError());
            ref.resize(n_out);
            CK(cudaMemcpy(ref.data(), d_ref, n_out * 4, cudaMemcpyDeviceToHost));
            cudaFree(d_ref); cudaFree(d_seq); cudaFree(d_pos);
        }
    }
    // The engine's tile order (PrefillTileOrder): the fewest keys first, ties in reverse token order, since the
    // prefill kernels run the array from its end; so the longest tiles of every sequence start in the first wave.
    // Reorders `tiles` and its device copy; the outputs stay the same.
    void longest_first() {
        std::vector<int> idx(ntiles);
        for (int i = 0; i < ntiles; i++) idx[i] = ntiles - 1 - i;
        auto keys = [&](int i) { return prior + (tiles[3 * i + 1] - tiles[3 * i] * L) + tiles[3 * i + 2]; };
        std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return keys(a) < keys(b); });
        std::vector<int> sorted;
        for (int i : idx) sorted.insert(sorted.end(), tiles.begin() + 3 * i, tiles.begin() + 3 * i + 3);
        tiles = sorted;
        CK(cudaMemcpy(d_tiles, tiles.data(), tiles.size() * 4, cudaMemcpyHostToDevice));
    }
    ~PrefillCase() { cudaFree(d_bt); cudaFree(d_qs); cudaFree(d_lens); cudaFree(d_tiles); cudaFree(q); cudaFree(out); }
    PrefillCase(const PrefillCase&) = delete;
    PrefillCase& operator=(const PrefillCase&) = delete;

    static int* upload(const std::vector<int>& v) {
        int* d;
        CK(cudaMalloc(&d, v.size() * 4));
        CK(cudaMemcpy(d, v.data(), v.size() * 4, cudaMemcpyHostToDevice));
        return d;
    }
};
