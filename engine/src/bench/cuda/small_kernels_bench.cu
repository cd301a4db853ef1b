// Kernel benchmark of the fused small kernels (a main for the GPU host, not part of the engine's build): residual-add
// + RMSNorm, bias + RoPE + KV store, SiLU x mul and sampling, each launched as Kernels.java / GpuSampler launch them,
// checked against a host reference, then timed against its byte floor: the bytes it must read and write at the
// card's measured device-copy bandwidth (issue 8 asks for each within 2x of that floor).
//
//   nvcc -std=c++17 -O3 -arch=sm_90 -I engine/src/main/cuda engine/src/bench/cuda/small_kernels_bench.cu -o /tmp/skb
//   /tmp/skb                  (one line per case; engine/src/bench/cuda/run_small_kernels_bench.sh does both)
//
// Shapes: Qwen2-1.5B (hidden 1,536, intermediate 8,960, 12 query heads, 2 KV heads, head_dim 128, vocabulary
// 151,936, bf16), decode batches of 16, 64 and 256 rows and a prefill chunk of 8,192 tokens.
#include "ember_kernels.cu"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <algorithm>
#include <cmath>

#include "bench_ref.cuh"

static const int HIDDEN = 1536, INTER = 8960, NH = 12, NKV = 2, HD = 128, VOCAB = 151936, BLOCK = 16;

static float bf_round(float v) { return __bfloat162float(__float2bfloat16(v)); }

static std::vector<bf> random_bf(size_t n, unsigned seed, float scale) {
    std::vector<bf> v(n);
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        v[i] = __float2bfloat16(((x & 0xffffff) / 16777216.f - 0.5f) * 2.f * scale);
    }
    return v;
}

template <typename T> static T* upload(const std::vector<T>& h) {
    T* d;
    CK(cudaMalloc(&d, h.size() * sizeof(T)));
    CK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

template <typename T> static std::vector<T> download(const T* d, size_t n) {
    std::vector<T> h(n);
    CK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

// Every launch goes to this stream (created in main), so the same lambda can be timed eagerly and captured.
static cudaStream_t g_stream;

// Mean microseconds of one call over `reps` back-to-back launches, after three untimed ones, each launched from the
// host as an eager engine pass launches it (launch gaps and each grid's ramp included).
// Milliseconds between two events on g_stream around what `enqueue` puts there.
template <typename F> static float stream_ms(F enqueue) {
    cudaEvent_t e0, e1; CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
    CK(cudaEventRecord(e0, g_stream));
    enqueue();
    CK(cudaEventRecord(e1, g_stream)); CK(cudaEventSynchronize(e1));
    CK(cudaGetLastError());
    float ms; CK(cudaEventElapsedTime(&ms, e0, e1));
    CK(cudaEventDestroy(e0)); CK(cudaEventDestroy(e1));
    return ms;
}

template <typename F> static double time_us(F launch, int reps = 50) {
    for (int i = 0; i < 3; i++) launch();
    CK(cudaGetLastError());
    CK(cudaStreamSynchronize(g_stream));
    return stream_ms([&] { for (int i = 0; i < reps; i++) launch(); }) * 1000.0 / reps;
}

// The same, as a decode step runs it: `reps` calls captured into one CUDA graph (each depends on the one before, as
// a layer's kernels do), replayed after one untimed replay. What is left of the launch cost is the graph's
// kernel-to-kernel gap, which the engine's decode graphs pay too.
template <typename F> static double time_graph_us(F launch, int reps = 50) {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CK(cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < reps; i++) launch();
    CK(cudaStreamEndCapture(g_stream, &graph));
    CK(cudaGraphInstantiate(&exec, graph, 0));
    CK(cudaGraphLaunch(exec, g_stream));
    CK(cudaStreamSynchronize(g_stream));
    float ms = stream_ms([&] { CK(cudaGraphLaunch(exec, g_stream)); });
    CK(cudaGraphExecDestroy(exec)); CK(cudaGraphDestroy(graph));
    return ms * 1000.0 / reps;
}

static int failures = 0;

// One line a case: eager (launched one by one) and in a graph (as a decode step), each against the byte floor.
template <typename F> static void report(const char* what, int rows, F launch, double bytes, double copy_gbs, double err,
                                         double tol) {
    double us = time_us(launch), graph_us = time_graph_us(launch);
    double floor_us = bytes / (copy_gbs * 1e3);
    bool ok = err <= tol;
    failures += ok ? 0 : 1;
    printf("%-26s rows %5d: %8.2f us  floor %7.2f us (%6.1f MB)  %4.2fx floor  graph %8.2f us %4.2fx  max|err| %.2e %s\n",
           what, rows, us, floor_us, bytes / 1e6, us / floor_us, graph_us, graph_us / floor_us, err,
           ok ? "" : "  <-- WRONG");
}

// Residual add + RMSNorm, as Kernels.addRmsNorm launches it (accumulate: residual += in).
static void bench_rmsnorm(int rows, double copy_gbs) {
    size_t n = (size_t)rows * HIDDEN;
    std::vector<bf> in = random_bf(n, 1, 2.f), weight = random_bf(HIDDEN, 2, 1.f);
    std::vector<bf> residual_bf = random_bf(n, 7, 3.f);
    std::vector<float> residual(n);
    for (size_t i = 0; i < n; i++) residual[i] = __bfloat162float(residual_bf[i]);
    bf* d_in = upload(in); bf* d_w = upload(weight); float* d_res = upload(residual);
    bf* d_out; CK(cudaMalloc(&d_out, n * sizeof(bf)));
    int threads = HIDDEN % 8 == 0 && HIDDEN <= 8 * 4 * 256 ? 256 : 512;
    const float eps = 1e-6f;
    add_rmsnorm_bf16<<<rows, threads, 0, g_stream>>>(d_out, d_res, d_in, d_w, eps, HIDDEN, 1);
    CK(cudaDeviceSynchronize());
    std::vector<bf> out = download(d_out, n);
    std::vector<float> res_after = download(d_res, n);
    double err = 0;
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        std::vector<float> x(HIDDEN);
        for (int c = 0; c < HIDDEN; c++) {
            x[c] = residual[(size_t)r * HIDDEN + c] + __bfloat162float(in[(size_t)r * HIDDEN + c]);
            ss += (double)x[c] * x[c];
            err = std::max(err, (double)fabsf(res_after[(size_t)r * HIDDEN + c] - x[c]));
        }
        float inv = (float)(1.0 / sqrt(ss / HIDDEN + eps));
        for (int c = 0; c < HIDDEN; c++) {
            float ref = bf_round(bf_round(x[c] * inv) * __bfloat162float(weight[c]));
            // one bf16 rounding apart at most (the kernel's sum order differs from the host's)
            float got = __bfloat162float(out[(size_t)r * HIDDEN + c]);
            err = std::max(err, (double)fabsf(got - ref) / std::max(1.f, fabsf(ref)));
        }
    }
    // each timed call adds `in` to the residual stream again (as a layer does): same bytes, values stay finite
    auto launch = [&] { add_rmsnorm_bf16<<<rows, threads, 0, g_stream>>>(d_out, d_res, d_in, d_w, eps, HIDDEN, 1); };
    double bytes = (double)n * (2 + 4 + 4 + 2) + HIDDEN * 2.0;
    report("add_rmsnorm", rows, launch, bytes, copy_gbs, err, 1.6e-2);
    cudaFree(d_in); cudaFree(d_w); cudaFree(d_res); cudaFree(d_out);
}

// Bias + RoPE + K/V store (Qwen2: q/k/v bias, no q/k norm), as Kernels.ropeStore launches it.
// threads: Kernels.ropeThreads (a warp per head), or 128 as before 2026-12-06 (session 5) for the comparison.
static void bench_rope(int tokens, int threads, double copy_gbs) {
    int width = (NH + 2 * NKV) * HD;
    std::vector<bf> qkv = random_bf((size_t)tokens * width, 3, 2.f), bias = random_bf(width, 4, 0.5f);
    std::vector<int> positions(tokens), slots(tokens);
    for (int t = 0; t < tokens; t++) {
        positions[t] = t == 0 ? 0 : (t * 37) % 4096;
        slots[t] = t;  // one slot each: the cache holds `tokens` slots
    }
    std::vector<float> inv_freq(HD / 2);
    for (int i = 0; i < HD / 2; i++) inv_freq[i] = (float)pow(1000000.0, -2.0 * i / HD);
    int blocks = (tokens + BLOCK - 1) / BLOCK;
    size_t cache = (size_t)blocks * NKV * BLOCK * HD;
    bf* d_qkv = upload(qkv); bf* d_bias = upload(bias);
    int* d_pos = upload(positions); int* d_slots = upload(slots); float* d_inv = upload(inv_freq);
    bf *d_q, *d_k, *d_v;
    CK(cudaMalloc(&d_q, (size_t)tokens * NH * HD * sizeof(bf)));
    CK(cudaMalloc(&d_k, cache * sizeof(bf))); CK(cudaMalloc(&d_v, cache * sizeof(bf)));
    auto launch = [&] {
        rope_store_bf16<<<tokens, threads, 0, g_stream>>>(d_q, d_k, d_v, d_qkv, d_bias, nullptr, nullptr, d_pos, d_slots, d_inv, NH, NKV,
                                         HD, BLOCK, 1e-6f);
    };
    launch();
    CK(cudaDeviceSynchronize());
    std::vector<bf> q = download(d_q, (size_t)tokens * NH * HD), v = download(d_v, cache);
    double err = 0;
    // token 0 sits at position 0 (cos 1, sin 0): q is q + bias rounded to bf16
    for (int i = 0; i < NH * HD; i++) {
        float ref = bf_round(__bfloat162float(qkv[i]) + __bfloat162float(bias[i]));
        err = std::max(err, (double)fabsf(__bfloat162float(q[i]) - ref));
    }
    // every token's V lands unrotated in its slot: v + bias
    for (int t = 0; t < tokens; t++) {
        for (int h = 0; h < NKV; h++) {
            for (int e = 0; e < HD; e++) {
                int col = (NH + NKV + h) * HD + e;
                float ref = bf_round(__bfloat162float(qkv[(size_t)t * width + col]) + __bfloat162float(bias[col]));
                size_t at = (((size_t)(slots[t] / BLOCK) * NKV + h) * BLOCK + slots[t] % BLOCK) * HD + e;
                err = std::max(err, (double)fabsf(__bfloat162float(v[at]) - ref));
            }
        }
    }
    double bytes = (double)tokens * width * 2 * 2 + width * 2.0 + tokens * 8.0;
    report(threads == 128 ? "rope_store, 4 warps" : "rope_store", tokens, launch, bytes, copy_gbs, err, 1e-2);
    cudaFree(d_qkv); cudaFree(d_bias); cudaFree(d_pos); cudaFree(d_slots); cudaFree(d_inv);
    cudaFree(d_q); cudaFree(d_k); cudaFree(d_v);
}

// SiLU(gate) x up over the fused gate_up output, as Kernels.siluMul launches it (the vector path).
static void bench_silu(int rows, double copy_gbs) {
    std::vector<bf> gate_up = random_bf((size_t)rows * 2 * INTER, 5, 4.f);
    bf* d_gu = upload(gate_up);
    bf* d_out; CK(cudaMalloc(&d_out, (size_t)rows * INTER * sizeof(bf)));
    long long total = (long long)rows * INTER;
    dim3 grid((INTER / 8 + 255) / 256, rows);
    auto launch = [&] { silu_mul_bf16<<<grid, 256, 0, g_stream>>>(d_out, d_gu, INTER, total); };
    launch();
    CK(cudaDeviceSynchronize());
    std::vector<bf> out = download(d_out, (size_t)rows * INTER);
    double err = 0;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < INTER; c++) {
            float g = __bfloat162float(gate_up[(size_t)r * 2 * INTER + c]);
            float u = __bfloat162float(gate_up[(size_t)r * 2 * INTER + INTER + c]);
            float ref = bf_round(bf_round(g / (1.f + expf(-g))) * u);
            float got = __bfloat162float(out[(size_t)r * INTER + c]);
            err = std::max(err, (double)fabsf(got - ref) / std::max(1.f, fabsf(ref)));
        }
    }
    double bytes = (double)rows * INTER * (2 * 2 + 2);
    report("silu_mul", rows, launch, bytes, copy_gbs, err, 1.6e-2);
    cudaFree(d_gu); cudaFree(d_out);
}

// Host reference of a temperature row's token: the Gumbel-max over every entry with Ember's stream and float math,
// step by step as sampling.cu (and the CPU Sampler) compute the key, so a kernel that skips a draw that could win, or
// draws the wrong word, shows up as a wrong token. Host float arithmetic is IEEE single precision here (x86-64 SSE,
// no FMA contraction without an FMA target).
static void host_philox(uint32_t c0, uint32_t c1, uint32_t k0, uint32_t k1, uint32_t* out) {
    uint32_t c2 = 0, c3 = 0;
    for (int round = 0; round < 10; round++) {
        if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0; c1 = (uint32_t)p1; c2 = n2; c3 = (uint32_t)p0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

static float host_ember_log(float x) {  // FloatMath.log, as ember_log in sampling.cu
    if (!(x > 0.f)) return x == 0.f ? -INFINITY : NAN;
    if (x == INFINITY) return x;
    int bits; memcpy(&bits, &x, 4);
    int e = 0;
    if (bits < 0x00800000) { x = x * 8388608.f; memcpy(&bits, &x, 4); e = -23; }
    e += (int)((unsigned)bits >> 23) - 127;
    int mb = (bits & 0x007fffff) | 0x3f800000;
    float m; memcpy(&m, &mb, 4);
    if (m > 1.41421354f) { m = m * 0.5f; e++; }
    const float f = m - 1.f, s = f / (2.f + f), s2 = s * s;
    float series = 2.85714298e-1f + s2 * 2.22222224e-1f;
    series = 4.00000006e-1f + s2 * series;
    series = 6.66666687e-1f + s2 * series;
    series = s2 * series;
    const float logm = f - s * (f - series);
    return (float)e * 0.693147182f + logm;
}

static int host_gumbel_token(const float* row, float temperature, uint32_t seed_lo, uint32_t seed_hi, int output_index) {
    float best = -INFINITY;
    int best_id = -1;
    uint32_t w[4];
    for (int i = 0; i < VOCAB; i++) {
        if ((i & 3) == 0) host_philox((uint32_t)i >> 2, (uint32_t)output_index, seed_lo, seed_hi, w);
        const float u = ((float)(w[i & 3] >> 9) + 0.5f) * 1.1920928955078125e-7f;
        const float key = row[i] / temperature - host_ember_log(-host_ember_log(u));
        if (key > best) { best = key; best_id = i; }  // ids ascend: an equal key later never wins
    }
    return best_id;
}

// Sampling of `rows` rows over the whole vocabulary, as GpuSampler launches it for rows without penalties (work and
// raw logits are one buffer): greedy or temperature 0.6 with no top-k/top-p/min-p, the one-pass rows the engine
// splits over several CTAs, then sample_rows; with `logprobs`, each row asks for its token's logprob (one top
// logprob), which adds the softmax-sum pass (sample_split_sum); without, the logprob is not computed (NaN, or a
// correct value, passes). Every token is checked: greedy against the argmax, temperature against host_gumbel_token;
// with `logprobs` also the top logprob's id (the argmax, lowest id) and value.
// Built against an older sampling.cu (to time the code before a change), rows without
// logprobs print WRONG: that sample_rows merges the sums of a split-sum pass this launch skips; its times hold.
static void bench_sampling(int rows, bool greedy, bool logprobs, int sms, double copy_gbs) {
    size_t n = (size_t)rows * VOCAB;
    std::vector<float> logits(n);
    unsigned x = 99;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        logits[i] = ((x & 0xffffff) / 16777216.f - 0.5f) * 8.f;
    }
    std::vector<int> params((size_t)rows * 12, 0);
    float temperature = 0.6f, min_p = 0.f;
    double top_p = 1.0;
    long long top_p_bits;
    memcpy(&top_p_bits, &top_p, 8);
    for (int r = 0; r < rows; r++) {
        int* p = &params[(size_t)r * 12];
        p[0] = r;
        p[1] = greedy ? 1 : 0;
        memcpy(&p[2], &temperature, 4);
        memcpy(&p[3], &min_p, 4);
        p[4] = 1234 + r; p[5] = 0;  // seed
        p[6] = 17;                  // output index
        p[7] = logprobs ? 1 : 0;    // top logprobs
        p[8] = 0;                   // top_k off
        p[9] = (int)(top_p_bits & 0xffffffff); p[10] = (int)(top_p_bits >> 32);
        p[11] = -1;                 // no guided mask
    }
    int splits = std::max(2, std::min(32, (4 * sms + rows - 1) / rows));
    float* d_logits = upload(logits);
    int* d_params = upload(params);
    int* d_tokens; float* d_lp; int* d_top_ids; float* d_top_lps; SplitPart* d_parts;
    CK(cudaMalloc(&d_tokens, rows * sizeof(int))); CK(cudaMalloc(&d_lp, rows * sizeof(float)));
    CK(cudaMalloc(&d_top_ids, rows * 20 * sizeof(int))); CK(cudaMalloc(&d_top_lps, rows * 20 * sizeof(float)));
    CK(cudaMalloc(&d_parts, (size_t)rows * splits * sizeof(SplitPart)));
    auto launch = [&] {
        dim3 grid(rows, splits);
        sample_split_scan<<<grid, 256, 0, g_stream>>>(d_parts, d_logits, d_logits, d_params, nullptr, VOCAB);
        if (logprobs) sample_split_sum<<<grid, 256, 0, g_stream>>>(d_parts, d_logits, d_params, nullptr, VOCAB);
        sample_rows<<<rows, 1024, 0, g_stream>>>(d_tokens, d_lp, d_top_ids, d_top_lps, d_logits, d_logits, d_params, nullptr, VOCAB,
                                    d_parts, splits);
    };
    launch();
    CK(cudaDeviceSynchronize());
    std::vector<int> tokens = download(d_tokens, rows);
    std::vector<float> lps = download(d_lp, rows);
    std::vector<int> top_ids = download(d_top_ids, (size_t)rows * 20);
    std::vector<float> top_lps = download(d_top_lps, (size_t)rows * 20);
    double err = 0;
    for (int r = 0; r < rows; r++) {
        const float* row = &logits[(size_t)r * VOCAB];
        if (greedy) {
            int best = (int)(std::max_element(row, row + VOCAB) - row);  // lowest id among equal maxima
            err = std::max(err, tokens[r] == best ? 0.0 : 1.0);
        } else {
            err = std::max(err, tokens[r] == host_gumbel_token(row, temperature, 1234 + r, 0, 17) ? 0.0 : 1.0);
        }
        if (tokens[r] >= 0 && tokens[r] < VOCAB && (logprobs || !std::isnan(lps[r]))) {
            // the sampled token's log-probability under the raw logits (host: double)
            double mx = *std::max_element(row, row + VOCAB), sum = 0;
            for (int i = 0; i < VOCAB; i++) sum += exp((double)row[i] - mx);
            double ref = row[tokens[r]] - mx - log(sum);
            err = std::max(err, fabs(lps[r] - ref));
            if (logprobs) {  // the one top logprob: the maximum's, at its lowest id
                const int top = (int)(std::max_element(row, row + VOCAB) - row);
                err = std::max(err, top_ids[(size_t)r * 20] == top ? 0.0 : 1.0);
                err = std::max(err, fabs(top_lps[(size_t)r * 20] - (-log(sum))));
            }
        }
    }
    double bytes = (double)n * 4;  // one read of the float32 logits
    char what[64];
    snprintf(what, sizeof what, "sampling %s%s (%d splits)", greedy ? "greedy" : "T=0.6", logprobs ? " +lp" : "", splits);
    report(what, rows, launch, bytes, copy_gbs, err, 1e-4);
    cudaFree(d_logits); cudaFree(d_params); cudaFree(d_tokens); cudaFree(d_lp); cudaFree(d_top_ids);
    cudaFree(d_top_lps); cudaFree(d_parts);
}

int main() {
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    CK(cudaStreamCreate(&g_stream));
    double copy_gbs = copy_bandwidth();
    printf("%s, %d SMs; device copy %.0f GB/s (bytes read + written); floor = bytes moved at that rate\n", p.name,
           p.multiProcessorCount, copy_gbs);
    for (int rows : {16, 64, 256, 8192}) bench_rmsnorm(rows, copy_gbs);
    for (int rows : {16, 64, 256, 1024, 2048, 4096, 8192}) {
        bench_rope(rows, 128, copy_gbs);
        bench_rope(rows, 32 * std::min(32, NH + 2 * NKV), copy_gbs);
    }
    for (int rows : {16, 64, 256, 8192}) bench_silu(rows, copy_gbs);
    for (int rows : {16, 64, 256}) {
        bench_sampling(rows, true, false, p.multiProcessorCount, copy_gbs);
        bench_sampling(rows, false, false, p.multiProcessorCount, copy_gbs);
        bench_sampling(rows, false, true, p.multiProcessorCount, copy_gbs);
    }
    printf(failures == 0 ? "all cases match their host reference\n" : "%d case(s) WRONG\n", failures);
    return failures == 0 ? 0 : 1;
}
