// Sampling on the GPU with exactly the semantics of dev.ember.sampling.Sampler (read its class comment):
// raw log-softmax for logprobs, penalties and min_tokens masks (apply_penalties, sparse), greedy argmax, or
// temperature, min-p and the Gumbel-max draw keyed by Ember's Philox stream. Top-k and top-p rows are sampled
// on the host by Sampler itself (they need a sort), so this kernel never sees them.
//
// apply_penalties(work (rows, vocab) f32, entries (n, 8) int, n, vocab): one thread per entry
//   entry = (row, token, output count, flags: 1 = seen in prompt or output, 2 = masked by min_tokens,
//            float bits of repetition, frequency and presence penalty, unused)
// Each (row, token) appears at most once, so entries never race.
//
// sample_rows(tokens (n), logprobs (n), top_ids (n, 20), top_logprobs (n, 20), raw, work (rows, vocab) f32,
//             params (n, 8) int, vocab): grid = n, block = 1024
//   params = (logits row, greedy, float bits of temperature, float bits of min_p, seed low, seed high,
//             output index, number of top logprobs)
// Float arithmetic follows Sampler step by step (IEEE division and products, double log/exp and double sums),
// so tokens agree except where a double sum's order moves a rounding; block reductions break ties toward the
// lower token id as Sampler does.
#include "common.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__device__ __forceinline__ uint32_t philox_first_word(uint32_t c0, uint32_t c1, uint32_t k0, uint32_t k1) {
    uint32_t c2 = 0, c3 = 0;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        uint32_t hi0 = __umulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        uint32_t hi1 = __umulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    return c0;
}

__device__ __forceinline__ float philox_uniform(uint32_t seed_lo, uint32_t seed_hi, int output_index, int vocab_index) {
    uint32_t x0 = philox_first_word((uint32_t)vocab_index, (uint32_t)output_index, seed_lo, seed_hi);
    return __fmul_rn(__fadd_rn((float)(x0 >> 8), 0.5f), 5.9604644775390625e-8f);
}

// (value, id) pairs ordered by value, then by lower id; -inf with id INT_MAX is "nothing".
__device__ __forceinline__ bool better(float v, int i, float bv, int bi) {
    return v > bv || (v == bv && i < bi);
}

__device__ void block_argmax(float& v, int& i, float* sv, int* si) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, i, o);
        if (better(ov, oi, v, i)) { v = ov; i = oi; }
    }
    __syncthreads();
    if (lane == 0) { sv[warp] = v; si[warp] = i; }
    __syncthreads();
    v = lane < nwarps ? sv[lane] : -INFINITY;
    i = lane < nwarps ? si[lane] : INT_MAX;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, i, o);
        if (better(ov, oi, v, i)) { v = ov; i = oi; }
    }
}

extern "C" __global__ void apply_penalties(float* work, const int* entries, int n, int vocab) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    const int* e = entries + 8 * k;
    float* p = work + (size_t)e[0] * vocab + e[1];
    float l = *p;
    int count = e[2], flags = e[3];
    float rp = __int_as_float(e[4]), fp = __int_as_float(e[5]), pp = __int_as_float(e[6]);
    if (flags & 1) l = l > 0.f ? __fdiv_rn(l, rp) : __fmul_rn(l, rp);
    if (count > 0) {
        l = __fsub_rn(l, __fmul_rn(fp, (float)count));
        l = __fsub_rn(l, pp);
    }
    if (flags & 2) l = -INFINITY;
    *p = l;
}

extern "C" __global__ void __launch_bounds__(1024) sample_rows(int* tokens, float* logprobs, int* top_ids,
        float* top_logprobs, const float* raw, const float* work, const int* params, int vocab) {
    __shared__ float sv[32];
    __shared__ int si[32];
    __shared__ double sd[32];
    const int* pr = params + 8 * blockIdx.x;
    const int row = pr[0], greedy = pr[1], output_index = pr[6], top_n = pr[7];
    const float temperature = __int_as_float(pr[2]), min_p = __int_as_float(pr[3]);
    const uint32_t seed_lo = (uint32_t)pr[4], seed_hi = (uint32_t)pr[5];
    const float* lr = raw + (size_t)row * vocab;
    const float* lw = work + (size_t)row * vocab;

    float mx = -INFINITY;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) mx = fmaxf(mx, lr[i]);
    mx = block_max(mx, sv);
    double s = 0.0;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) s += exp((double)lr[i] - (double)mx);
    const double log_sum = log(block_sum_d(s, sd));

    float pv = INFINITY;
    int pi = -1;
    for (int k = 0; k < top_n; k++) {
        float bv = -INFINITY;
        int bi = INT_MAX;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float v = lr[i];
            if ((v < pv || (v == pv && i > pi)) && better(v, i, bv, bi)) { bv = v; bi = i; }
        }
        block_argmax(bv, bi, sv, si);
        if (threadIdx.x == 0) {
            top_ids[blockIdx.x * 20 + k] = bi;
            top_logprobs[blockIdx.x * 20 + k] = (float)((double)bv - (double)mx - log_sum);
        }
        pv = bv;
        pi = bi;
    }

    float bv = -INFINITY;
    int bi = INT_MAX;
    if (greedy) {
        for (int i = threadIdx.x; i < vocab; i += blockDim.x)
            if (better(lw[i], i, bv, bi)) { bv = lw[i]; bi = i; }
        block_argmax(bv, bi, sv, si);
    } else {
        float zmax = -INFINITY;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float z = __fdiv_rn(lw[i], temperature);
            if (z != -INFINITY && z >= -INFINITY) zmax = fmaxf(zmax, z);
        }
        zmax = block_max(zmax, sv);
        double zsum = 1.0;
        float cutoff = 0.f;
        if (min_p > 0.f) {
            double part = 0.0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                float z = __fdiv_rn(lw[i], temperature);
                if (z != -INFINITY && z >= -INFINITY) part += exp((double)__fsub_rn(z, zmax));
            }
            zsum = block_sum_d(part, sd);
            cutoff = __fmul_rn(min_p, (float)(1.0 / zsum));
        }
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float z = __fdiv_rn(lw[i], temperature);
            if (!(z >= -INFINITY) || z == -INFINITY) continue;
            if (min_p > 0.f && (float)(exp((double)__fsub_rn(z, zmax)) / zsum) < cutoff) continue;
            float e = (float)(-log((double)philox_uniform(seed_lo, seed_hi, output_index, i)));
            float key = __fsub_rn(z, (float)log((double)e));
            if (better(key, i, bv, bi)) { bv = key; bi = i; }
        }
        block_argmax(bv, bi, sv, si);
    }
    if (threadIdx.x == 0) {
        tokens[blockIdx.x] = bi;
        logprobs[blockIdx.x] = (float)((double)lr[bi] - (double)mx - log_sum);
    }
}
