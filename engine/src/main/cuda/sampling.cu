// Sampling on the GPU with exactly the semantics of dev.ember.sampling.Sampler (read its class comment):
// raw log-softmax for logprobs, penalties and min_tokens masks (apply_penalties, sparse), greedy argmax, or
// temperature, top-k, top-p, min-p and the Gumbel-max draw keyed by Ember's Philox stream.
// Neither top-k nor top-p sorts the vocabulary: top-k is a radix select over order-preserving keys (4 histogram
// passes); top-p sorts only when top-k left at most 1024 tokens (top_p_cut_sorted: Sampler's exact order and
// running sum), otherwise it radix-selects the cut over fixed-point masses (top_p_cut_search, 4 passes). Integer
// histograms and fixed-order reductions make every result deterministic.
//
// apply_penalties(work (rows, vocab) f32, entries (n, 8) int, n, vocab): one thread per entry
//   entry = (row, token, output count, flags: 1 = seen in prompt or output, 2 = masked by min_tokens,
//            float bits of repetition, frequency and presence penalty, unused)
// Each (row, token) appears at most once, so entries never race.
//
// sample_rows(tokens (n), logprobs (n), top_ids (n, 20), top_logprobs (n, 20), raw, work (rows, vocab) f32,
//             params (n, 12) int, masks (mask rows, 2 * ceil(vocab / 64)) uint32, vocab, parts, splits): grid = n,
//             block = 1024; splits > 1 when the split kernels ran first for the one-pass rows (see Split rows).
//             A row whose raw logits hold a NaN or an infinity gets token -2 (StepOutput.NON_FINITE) and a NaN
//             logprob, and nothing else is written for it; a row whose every token is masked gets token -3
//             (StepOutput.NO_CANDIDATE) and a NaN logprob.
//   params = (logits row, greedy, float bits of temperature, float bits of min_p, seed low, seed high,
//             output index, number of top logprobs, top_k (0 = off), double bits of top_p (low, high; 1 = off),
//             mask row (-1 = unconstrained))
//   masks: one packed bitmask per guided row (bit i & 31 of word i >> 5 set = token i allowed), uploaded per step;
//   a disallowed token reads as -inf from work wherever the kernel reads it (guided decoding, as Sampler masks
//   after the penalties), so greedy, top-k, top-p and min-p see only allowed tokens; a guided row's
//   logprobs are the log-softmax of raw over its allowed tokens, as Sampler's.
// Float arithmetic follows Sampler step by step: IEEE-rounded float adds, products and divisions (the __f*_rn
// intrinsics, never contracted into FMAs), Ember's own float exp and log (ember_exp, ember_log = FloatMath) and
// fixed-point sums of probabilities (FloatMath.MASS_ONE units; integer sums do not depend on their order), so the
// kernel draws exactly Sampler's token, top-p cut included. No double arithmetic runs per vocabulary entry (the
// RTX 3090 runs fp64 at 1/64 rate); only the per-row log of the softmax sum is a double. Block reductions break
// ties toward the lower token id as Sampler does.
// Passes over a row: a greedy row or a plain temperature row (no top-k, top-p or min-p: the Gumbel keys need no
// normalization) takes its token in the same pass as the logits' maximum, then one more for the softmax sum of its
// logprob, only for a row that asked for logprobs (top logprobs > 0; otherwise its logprob is NaN, as Sampler's);
// n top logprobs add n - 1 passes (the first is the maximum's, which pass 1 finds with its lowest id); top-k, top-p
// and min-p add their own passes.
//
// Split rows: with few rows a CTA per row leaves most SMs idle while each walks 150k entries (a Philox draw and
// two logs each), so GpuSampler may split each such one-pass row (greedy or plain temperature) over `splits`
// CTAs of 256 threads: sample_split_scan(parts (n, splits), raw, work, params, masks, vocab) takes each chunk's
// maximum, finiteness and best (key, id); sample_split_sum(parts, raw, params, masks, vocab) each chunk's
// fixed-point softmax sum against the row's maximum; sample_rows(..., parts, splits) merges them in place of its
// own two passes. A maximum, a best key with ties to the lower id and an integer sum do not depend on the order
// they are combined in, so a split row's token and logprob are bit for bit the unsplit ones. Rows that filter
// (top-k, top-p, min-p) ignore the split kernels and take the one-CTA path.
#include "common.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// The ten round keys of Philox4x32-10 under seed (k0, k1): round r uses (k0 + r W0, k1 + r W1). A row's keys are
// computed once, before its scan, instead of two adds per round of every call.
struct PhiloxKeys {
    uint32_t k0[10], k1[10];
};

__device__ __forceinline__ PhiloxKeys philox_keys(uint32_t k0, uint32_t k1) {
    PhiloxKeys keys;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        keys.k0[round] = k0 + (uint32_t)round * PHILOX_W0;
        keys.k1[round] = k1 + (uint32_t)round * PHILOX_W1;
    }
    return keys;
}

// Makes the keys opaque to the compiler, so a scan keeps them in registers instead of redoing the adds in every call
// (256 rows at T = 0.6: 108.8 -> 105.3 us on an H200).
__device__ __forceinline__ void pin_keys(PhiloxKeys& keys) {
#pragma unroll
    for (int round = 0; round < 10; round++) {
        asm volatile("mov.b32 %0, %0;" : "+r"(keys.k0[round]));
        asm volatile("mov.b32 %0, %0;" : "+r"(keys.k1[round]));
    }
}

// Philox4x32-10 of counter (c0, c1, 0, 0) under the round keys: the four output words (x0, x1, x2, x3).
__device__ __forceinline__ uint4 philox4x32_10(uint32_t c0, uint32_t c1, const PhiloxKeys& keys) {
    uint32_t c2 = 0, c3 = 0;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = __umulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        uint32_t hi1 = __umulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        uint32_t n0 = hi1 ^ c1 ^ keys.k0[round], n2 = hi0 ^ c3 ^ keys.k1[round];
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    return make_uint4(c0, c1, c2, c3);
}

__device__ __forceinline__ uint4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t k0, uint32_t k1) {
    return philox4x32_10(c0, c1, philox_keys(k0, k1));
}

// The uniform of one generator word: its top 23 bits, centred in their cell of the 2^-23 grid (k + 0.5 is exact
// for k < 2^23, so u stays inside (0, 1); 24 bits rounded the top value to u = 1). Philox.uniformOf.
__device__ __forceinline__ float uniform_of(uint32_t x) {
    return __fmul_rn(__fadd_rn((float)(x >> 9), 0.5f), 1.1920928955078125e-7f);
}

__device__ __forceinline__ uint32_t word_of(uint4 w, int k) {
    return k == 0 ? w.x : k == 1 ? w.y : k == 2 ? w.z : w.w;
}

// Ember's stream (Philox.uniform): vocabulary entry i takes word i & 3 of the block of counter (i >> 2, output_index),
// so one generator call serves four consecutive entries.
__device__ __forceinline__ float philox_uniform(uint32_t seed_lo, uint32_t seed_hi, int output_index, int vocab_index) {
    const uint4 w = philox4x32_10((uint32_t)vocab_index >> 2, (uint32_t)output_index, seed_lo, seed_hi);
    return uniform_of(word_of(w, vocab_index & 3));
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

// Unsigned keys that order like the floats (-inf lowest; -0 below +0, as Arrays.sort orders them).
__device__ __forceinline__ uint32_t order_key(float v) {
    uint32_t b = __float_as_uint(v);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ float key_value(uint32_t k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// The penalized logit of token i, or -inf where the row's guided-decoding mask (null: none) disallows it.
__device__ __forceinline__ bool is_allowed(const uint32_t* allowed, int i) {
    return allowed == nullptr || ((allowed[i >> 5] >> (i & 31)) & 1u);
}

__device__ __forceinline__ float wl(const float* lw, const uint32_t* allowed, int i) {
    return is_allowed(allowed, i) ? lw[i] : -INFINITY;
}

// A token is a candidate when its scaled logit is neither -inf (masked) nor NaN.
__device__ __forceinline__ bool candidate(float z) {
    return z > -INFINITY;
}

// The order key of the k-th largest z = lw / temperature (NaN ignored): a radix select, 8 key bits per pass from
// the top, over a 256-bin histogram in shared memory. Lanes of a warp that hit one bin add once
// (__match_any_sync), and integer counts make the result independent of the order the adds land in.
__device__ uint32_t kth_largest_key(const float* lw, const uint32_t* allowed, float temperature, int k, int vocab) {
    __shared__ int hist[256];
    __shared__ uint32_t chosen_prefix;
    __shared__ int chosen_k;
    uint32_t prefix = 0, mask = 0;
    int remaining = k;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
        __syncthreads();
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float z = __fdiv_rn(wl(lw, allowed, i), temperature);
            uint32_t key = order_key(z);
            int bin = !isnan(z) && (key & mask) == prefix ? (int)((key >> shift) & 255u) : -1;
            unsigned peers = __match_any_sync(__activemask(), bin);
            if (bin >= 0 && (threadIdx.x & 31) == __ffs(peers) - 1) atomicAdd(&hist[bin], __popc(peers));
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int above = 0, b = 255;
            for (; b > 0 && above + hist[b] < remaining; b--) above += hist[b];
            chosen_prefix = prefix | ((uint32_t)b << shift);
            chosen_k = remaining - above;
        }
        __syncthreads();
        prefix = chosen_prefix;
        remaining = chosen_k;
        mask |= 255u << shift;
        __syncthreads();
    }
    return prefix;
}

// Ember's float exp and log: FloatMath.exp and FloatMath.log step by step (read there), so CPU and GPU agree bit for bit.
#define EMBER_LOG2E 1.44269502f
#define EMBER_LN2_HI 0.693359375f
#define EMBER_LN2_LO -2.12194440e-4f
#define EMBER_LN2 0.693147182f
#define EMBER_SQRT2 1.41421354f
#define EMBER_MASS_ONE 1099511627776.0f

__device__ __forceinline__ float ember_exp(float x) {
    if (x != x) return x;
    if (x < -87.33f) return 0.f;
    if (x > 88.72f) return INFINITY;
    const float n = floorf(__fadd_rn(__fmul_rn(x, EMBER_LOG2E), 0.5f));
    const float r = __fsub_rn(__fsub_rn(x, __fmul_rn(n, EMBER_LN2_HI)), __fmul_rn(n, EMBER_LN2_LO));
    float p = __fadd_rn(1.38888892e-3f, __fmul_rn(r, 1.98412701e-4f));
    p = __fadd_rn(8.33333377e-3f, __fmul_rn(r, p));
    p = __fadd_rn(4.16666679e-2f, __fmul_rn(r, p));
    p = __fadd_rn(1.66666672e-1f, __fmul_rn(r, p));
    p = __fadd_rn(0.5f, __fmul_rn(r, p));
    p = __fadd_rn(1.f, __fmul_rn(r, p));
    p = __fadd_rn(1.f, __fmul_rn(r, p));
    int e = (int)n;
    if (e > 127) {
        p = __fmul_rn(p, 2.f);
        e = 127;
    }
    return __fmul_rn(p, __int_as_float((e + 127) << 23));
}

__device__ __forceinline__ float ember_log(float x) {
    if (!(x > 0.f)) return x == 0.f ? -INFINITY : __int_as_float(0x7fffffff);
    if (x == INFINITY) return x;
    int bits = __float_as_int(x);
    int e = 0;
    if (bits < 0x00800000) {
        x = __fmul_rn(x, 8388608.f);
        bits = __float_as_int(x);
        e = -23;
    }
    e += (int)((unsigned)bits >> 23) - 127;
    float m = __int_as_float((bits & 0x007fffff) | 0x3f800000);
    if (m > EMBER_SQRT2) {
        m = __fmul_rn(m, 0.5f);
        e++;
    }
    const float f = __fsub_rn(m, 1.f);
    const float s = __fdiv_rn(f, __fadd_rn(2.f, f));
    const float s2 = __fmul_rn(s, s);
    float series = __fadd_rn(2.85714298e-1f, __fmul_rn(s2, 2.22222224e-1f));
    series = __fadd_rn(4.00000006e-1f, __fmul_rn(s2, series));
    series = __fadd_rn(6.66666687e-1f, __fmul_rn(s2, series));
    series = __fmul_rn(s2, series);
    const float logm = __fsub_rn(f, __fmul_rn(s, __fsub_rn(f, series)));
    return __fadd_rn(__fmul_rn((float)e, EMBER_LN2), logm);
}

// FloatMath.mass: a value in [0, 1] in fixed point, truncated to 2^-40 units.
__device__ __forceinline__ unsigned long long mass_units(float v) {
    return (unsigned long long)__fmul_rn(v, EMBER_MASS_ONE);
}

// The softmax probability of a kept token, as Sampler: exp(z - zmax) / sum, the sum a fixed-point total.
__device__ __forceinline__ float kept_p(float z, float zmax, float zsum) {
    return __fdiv_rn(ember_exp(__fsub_rn(z, zmax)), zsum);
}

// Sampler's top-p order: probability descending, then id ascending (p >= 0, so its bits order like its value).
__device__ __forceinline__ uint64_t p_order_key(float p, int id) {
    return ((uint64_t)(0x7fffffffu - __float_as_uint(p)) << 32) | (uint32_t)id;
}

#define SORT_CAPACITY 1024

// top-p over at most SORT_CAPACITY kept tokens (top-k left few): gather their order keys, bitonic-sort them in
// shared memory and let one thread add the masses in sorted order, exactly as Sampler does. Needs
// blockDim.x == SORT_CAPACITY. Returns the order key of the last token kept.
__device__ uint64_t top_p_cut_sorted(const float* lw, const uint32_t* allowed, float temperature, float threshold, float zmax,
                                     float zsum, unsigned long long target, int vocab) {
    __shared__ uint64_t keys[SORT_CAPACITY];
    __shared__ int count;
    __shared__ uint64_t cut;
    if (threadIdx.x == 0) count = 0;
    keys[threadIdx.x] = UINT64_MAX;
    __syncthreads();
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float z = __fdiv_rn(wl(lw, allowed, i), temperature);
        if (candidate(z) && z >= threshold) keys[atomicAdd(&count, 1)] = p_order_key(kept_p(z, zmax, zsum), i);
    }
    __syncthreads();
    for (int k = 2; k <= SORT_CAPACITY; k <<= 1) {
        for (int j = k >> 1; j > 0; j >>= 1) {
            int i = threadIdx.x, l = i ^ j;
            if (l > i) {
                uint64_t a = keys[i], b = keys[l];
                if ((a > b) == ((i & k) == 0)) { keys[i] = b; keys[l] = a; }
            }
            __syncthreads();
        }
    }
    if (threadIdx.x == 0) {
        unsigned long long cumulative = 0;
        uint64_t last = keys[count - 1];
        for (int r = 0; r < count; r++) {
            cumulative += mass_units(__uint_as_float(0x7fffffffu - (uint32_t)(keys[r] >> 32)));
            if (cumulative >= target) { last = keys[r]; break; }
        }
        cut = last;
    }
    __syncthreads();
    return cut;
}

// top-p over any number of kept tokens without a sort: a radix select over the probabilities' float bits (8 bits
// per pass, 256 mass bins in shared memory, split 8 ways by warp to spread atomic contention) finds pt, the
// largest probability whose mass {p >= pt} reaches top_p; then, among the tokens with exactly that probability,
// the lowest ids until the cumulative mass reaches top_p. The masses are Sampler's fixed-point masses and their
// sums exact, so the cut is the one Sampler's sorted running sum finds.
__device__ uint64_t top_p_cut_search(const float* lw, const uint32_t* allowed, float temperature, float threshold, float zmax,
                                     float zsum, unsigned long long target, int vocab, float* sf) {
    __shared__ unsigned long long bins[8][256];
    __shared__ uint32_t chosen_prefix;
    __shared__ unsigned long long chosen_above;
    unsigned long long* my_bins = bins[(threadIdx.x >> 5) & 7];
    uint32_t pt = 0, mask = 0;
    unsigned long long above = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 8 * 256; b += blockDim.x) bins[b >> 8][b & 255] = 0;
        __syncthreads();
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float z = __fdiv_rn(wl(lw, allowed, i), temperature);
            if (!candidate(z) || z < threshold) continue;
            float p = kept_p(z, zmax, zsum);
            uint32_t key = __float_as_uint(p);
            if ((key & mask) == pt) atomicAdd(&my_bins[(key >> shift) & 255u], mass_units(p));
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            unsigned long long acc = above;
            int b = 255;
            for (; b >= 0; b--) {
                unsigned long long m = 0;
                for (int w = 0; w < 8; w++) m += bins[w][b];
                if (acc + m >= target) break;
                acc += m;
            }
            // b < 0: even everything left misses top_p (fixed-point truncation); keep all
            chosen_prefix = b < 0 ? 0xffffffffu : pt | ((uint32_t)b << shift);
            chosen_above = acc;
        }
        __syncthreads();
        if (chosen_prefix == 0xffffffffu) return UINT64_MAX;
        pt = chosen_prefix;
        above = chosen_above;
        mask |= 255u << shift;
        __syncthreads();
    }
    // counts below 2^24 are exact float sums
    float tied = 0.f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float z = __fdiv_rn(wl(lw, allowed, i), temperature);
        if (!candidate(z) || z < threshold) continue;
        if (__float_as_uint(kept_p(z, zmax, zsum)) == pt) tied += 1.f;
    }
    const int num_tied = (int)block_sum(tied, sf);
    const unsigned long long t = mass_units(__uint_as_float(pt));
    int keep = num_tied;
    unsigned long long cumulative = above;
    for (int j = 1; j <= num_tied; j++) {
        cumulative += t;
        if (cumulative >= target) { keep = j; break; }
    }
    int id_cut = INT_MAX;
    if (keep < num_tied) {
        // id_cut: the keep-th lowest id among the tied tokens
        int prefix = 0;
        for (int bit = 31 - __clz(vocab); bit >= 0; bit--) {
            int cand = prefix | (1 << bit);
            float c = 0.f;
            for (int i = threadIdx.x; i < vocab && i < cand; i += blockDim.x) {
                float z = __fdiv_rn(wl(lw, allowed, i), temperature);
                if (!candidate(z) || z < threshold) continue;
                if (__float_as_uint(kept_p(z, zmax, zsum)) == pt) c += 1.f;
            }
            if (block_sum(c, sf) < (float)keep) prefix = cand;
        }
        id_cut = prefix;
    }
    return ((uint64_t)(0x7fffffffu - pt) << 32) | (uint32_t)id_cut;
}

// Enters token i, scaled logit z (a candidate), into the race for the best Gumbel-max key z - log(-log(u)) (u from
// Ember's Philox stream, as Sampler.draw) and its id, (bv, bi): the same winner as computing every key, at a fraction
// of the arithmetic. Two bounds skip tokens whose key cannot reach bv: the noise -log(e) is below 16.64
// (Sampler.MAX_GUMBEL_NOISE, with its relative margin), which skips most of a trained model's vocabulary before any
// draw; and e = -log(u) >= 1 - u, so key <= z - log(1 - u), taken with the hardware's approximate log2 (absolute error
// far below the 1e-3 margin; 1 - u is exact or within an ulp) instead of Ember's two exact logs, each with an IEEE
// division. A skipped token's exact key is strictly below bv, so ties are unaffected. (The rows that filter use this
// one token at a time; the one-pass rows race four at a time, gumbel_enter4.)
__device__ __forceinline__ void gumbel_enter(float z, int i, uint32_t seed_lo, uint32_t seed_hi, int output_index,
                                             float& bv, int& bi) {
    const float margin = fabsf(z) * 0x1p-20f;
    if (z + 17.f + margin < bv) return;
    const float u = philox_uniform(seed_lo, seed_hi, output_index, i);
    if (z - 0.6931472f * __log2f(1.f - u) + 1e-3f + margin < bv) return;
    const float key = __fsub_rn(z, ember_log(-ember_log(u)));
    if (better(key, i, bv, bi)) { bv = key; bi = i; }
}

// log2(x) by the hardware's approximation (MUFU.LG2: absolute error near 2^-22 here), flushing subnormal inputs,
// which the caller never passes: without .ftz the compiler wraps every call in a subnormal rescale.
__device__ __forceinline__ float approx_log2_ftz(float x) {
    float y;
    asm("lg2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// The constant part of gumbel_enter4's per-token bound: 23 ln 2 and the 1e-3 margin
#define EMBER_BOUND_BIAS (23.f * 0.6931472f + 1e-3f)

// The bound z - log(1 - u) + margin on the key of a token whose scaled logit is about zq (a = |zq|) and whose
// uniform comes from generator word x. 1 - u = (8388607.5 - (x >> 9)) 2^-23 exactly (u's 23 bits, centred; see
// uniform_of), so log(1 - u) = ln 2 (log2(8388607.5 - (x >> 9)) - 23): the argument is the float whose 23 mantissa bits
// are ~(x >> 9) (exponent 2^23) minus a constant, exact, at least 0.5 (never subnormal), and the log2 is the
// hardware's. The margin: zq comes from a multiplication by 1 / temperature (within 1.5 ulp of the IEEE division, so
// the relative margin doubles to 2^-19), and 1e-3 absolute covers the approximate log2 and the float sums (each
// within a few ulps of values below 64).
__device__ __forceinline__ float key_bound(float zq, float a, uint32_t x) {
    const float one_minus_u = __fsub_rn(__uint_as_float(0x4b000000u | (~(x >> 9) & 0x7fffffu)), 8388607.5f);
    return zq + a * 0x1p-19f + EMBER_BOUND_BIAS - 0.6931472f * approx_log2_ftz(one_minus_u);
}

// gumbel_enter for the four tokens i0 .. i0 + 3 (i0 a multiple of 4) with penalized, masked logits l (-inf: masked
// or past the row's end; NaN: no candidate), in three gates, each sound for all four at once (z <= z of the largest,
// since the division by the temperature is monotone; u <= the largest of the four u, which comes from the largest
// word, and -log(1 - u) grows with u):
//   1. the noise bound on the largest logit (the noise of any token is below 17): no generator call;
//   2. one Philox call draws the four uniforms (Ember's stream gives a block's four words to four consecutive entries),
//      and key_bound of the largest logit with the largest word bounds all four keys: one log2 for the group;
//   3. key_bound of each token, then the exact key (one IEEE division and Ember's two logs) of a token that passes.
// Once a scan's cut has risen, few groups that pass gate 1 hold a token that passes gate 3 (run_sampling_sim.sh: about
// 140 exact keys a 152k-entry row at T = 0.6), which is what gate 2 is for. An infinite or near-overflow
// z skips the bounds and takes the exact path. `cut` is a key some token of the row already reached (the best of the
// warp, see first_pass; at most bv's own when -inf): a token whose key stays below it cannot win, whichever thread
// holds that key.
__device__ __forceinline__ void gumbel_enter4(const float* l, int i0, float temperature, float inv_t, float cut,
                                              const PhiloxKeys& keys, int output_index, float& bv, int& bi) {
    cut = fmaxf(cut, bv);
    const float lmax = fmaxf(fmaxf(l[0], l[1]), fmaxf(l[2], l[3]));  // fmaxf drops NaN
    const float zq_max = __fmul_rn(lmax, inv_t), a_max = fabsf(zq_max);
    const bool bounded = a_max < 1e38f;
    if (!(lmax > -INFINITY) || (bounded && zq_max + 17.f + a_max * 0x1p-19f < cut)) return;
    const uint4 w = philox4x32_10((uint32_t)i0 >> 2, (uint32_t)output_index, keys);
    const uint32_t x_max = max(max(w.x, w.y), max(w.z, w.w));
    if (bounded && key_bound(zq_max, a_max, x_max) < cut) return;
    unsigned pass = 0;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        const float zq = __fmul_rn(l[k], inv_t), a = fabsf(zq);
        const float bound = key_bound(zq, a, word_of(w, k));
        const bool skip = !(l[k] > -INFINITY) | ((a < 1e38f) & (bound < cut));  // no branches
        pass |= skip ? 0u : 1u << k;
    }
    if (pass == 0) return;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        if (!((pass >> k) & 1u)) continue;
        const float z = __fdiv_rn(l[k], temperature);
        if (!candidate(z)) continue;
        const float key = __fsub_rn(z, ember_log(-ember_log(uniform_of(word_of(w, k)))));
        if (better(key, i0 + k, bv, bi)) { bv = key; bi = i0 + k; }
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

// One chunk of a split row (see the header).
struct SplitPart {
    float mx;
    float bv;
    int bi;
    int non_finite;
    unsigned long long sum;
    int mi;  // the lowest id holding mx (INT_MAX when mx is -inf): a row's first top logprob
};

// A row whose token comes out of the maximum's pass: greedy, or temperature with no top-k, top-p or min-p.
__device__ __forceinline__ bool one_pass_row(const int* pr, int vocab) {
    const int top_k = pr[8];
    const double top_p = __hiloint2double(pr[10], pr[9]);
    return pr[1] || (!(top_k > 0 && top_k < vocab) && !(top_p < 1.0 || __int_as_float(pr[3]) > 0.f));
}

// n <= 4 floats from p[i ..] (i a multiple of 4): one 16-byte load when p is 16-byte aligned and all four are there;
// entries past n read as `fill`.
__device__ __forceinline__ void load4(const float* p, int i, int n, bool aligned, float* v, float fill = -INFINITY) {
    if (aligned && n == 4) {
        const float4 f = *reinterpret_cast<const float4*>(p + i);
        v[0] = f.x; v[1] = f.y; v[2] = f.z; v[3] = f.w;
    } else {
#pragma unroll
        for (int k = 0; k < 4; k++) v[k] = k < n ? p[i + k] : fill;
    }
}

// The chunk of a row each split CTA takes: a multiple of 4, so gumbel_enter4's blocks of four never straddle chunks.
__device__ __forceinline__ int split_chunk(int vocab, int splits) {
    return ((vocab + splits - 1) / splits + 3) & ~3;
}

// first_pass for one kind of row (greedy or not, guided or not, wanting top logprobs or not: uniform over the block,
// so each loop carries only its own work; a row without top logprobs does not track the maximum's id).
template <bool GREEDY, bool GUIDED, bool TOP>
__device__ __forceinline__ void first_pass_of(const float* lr, const float* lw, const uint32_t* allowed, float temperature,
                                              const PhiloxKeys& keys, int output_index, int begin, int end, float& mx,
                                              int& mi, int& non_finite, float& bv, int& bi) {
    const bool aligned = ((reinterpret_cast<uintptr_t>(lr) | reinterpret_cast<uintptr_t>(lw)) & 15) == 0;
    const float inv_t = GREEDY ? 0.f : __frcp_rn(temperature);
    // r * 0 is 0 for a finite r and NaN for an infinity or a NaN: one FMA an entry collects the finiteness check
    float nonfinite_sum = 0.f;
    for (int i = begin + 4 * threadIdx.x; i < end; i += 4 * blockDim.x) {
        const int n = min(4, end - i);
        float r[4], w[4];
        load4(lr, i, n, aligned, r, 0.f);  // 0 past the end for the finiteness check; -inf below, for the maximum
        load4(lw, i, n, aligned, w);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            nonfinite_sum = fmaf(r[k], 0.f, nonfinite_sum);
            if (k >= n || (GUIDED && !is_allowed(allowed, i + k))) r[k] = w[k] = -INFINITY;
            // a thread meets its ids in increasing order, so a later equal value never wins: no tie test
            if (TOP) {
                if (r[k] > mx) { mx = r[k]; mi = i + k; }
            } else {
                mx = fmaxf(mx, r[k]);
            }
            if (GREEDY && w[k] > bv) { bv = w[k]; bi = i + k; }
        }
        if (!GREEDY) {
            // the warp's best key so far bounds every lane: with its own best alone, a lane's early draws pass the
            // bounds often, and one lane on the exact path holds its whole warp there
            const float cut = key_value(__reduce_max_sync(__activemask(), order_key(bv)));
            gumbel_enter4(w, i, temperature, inv_t, cut, keys, output_index, bv, bi);
        }
    }
    non_finite |= nonfinite_sum != 0.f;  // NaN != 0
}

// Pass 1 of sample_rows over [begin, end) (begin a multiple of 4), four consecutive entries a thread at a time: the
// raw maximum, non-finite raw logits, and the best (value, id) of a greedy row or (Gumbel key, id) of a temperature
// row. A greedy thread that met only -inf (or NaN) keeps (-inf, INT_MAX): sample_rows reads a greedy -inf as no
// candidate whatever its id.
__device__ __forceinline__ void first_pass(const float* lr, const float* lw, const uint32_t* allowed, int greedy,
                                           float temperature, uint32_t seed_lo, uint32_t seed_hi, int output_index,
                                           bool top, int begin, int end, float& mx, int& mi, int& non_finite, float& bv,
                                           int& bi) {
    PhiloxKeys keys = philox_keys(seed_lo, seed_hi);
    // pinned before the branch: inside the temperature branch the compiler keeps the adds in each Philox call again
    // (the PTX of both placements differs in ~17k lines; this one is the build measured in BENCHMARKS' seventh round)
    if (!greedy) pin_keys(keys);
#define EMBER_FIRST_PASS(G, A, T) \
    first_pass_of<G, A, T>(lr, lw, allowed, temperature, keys, output_index, begin, end, mx, mi, non_finite, bv, bi)
    if (greedy) {
        if (allowed) { if (top) EMBER_FIRST_PASS(true, true, true); else EMBER_FIRST_PASS(true, true, false); }
        else if (top) EMBER_FIRST_PASS(true, false, true); else EMBER_FIRST_PASS(true, false, false);
    } else {
        if (allowed) { if (top) EMBER_FIRST_PASS(false, true, true); else EMBER_FIRST_PASS(false, true, false); }
        else if (top) EMBER_FIRST_PASS(false, false, true); else EMBER_FIRST_PASS(false, false, false);
    }
#undef EMBER_FIRST_PASS
}

extern "C" __global__ void __launch_bounds__(256) sample_split_scan(SplitPart* parts, const float* raw,
        const float* work, const int* params, const uint32_t* masks, int vocab) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const int* pr = params + 12 * blockIdx.x;
    if (!one_pass_row(pr, vocab)) return;
    const int row = pr[0];
    const bool top = pr[7] > 0;  // top logprobs wanted: the maximum's id too
    const uint32_t* allowed = pr[11] >= 0 ? masks + (size_t)pr[11] * (((vocab + 63) >> 6) * 2) : nullptr;
    const int chunk = split_chunk(vocab, gridDim.y);
    const int begin = blockIdx.y * chunk;
    float mx = -INFINITY, bv = -INFINITY;
    int non_finite = 0, bi = INT_MAX, mi = INT_MAX;
    first_pass(raw + (size_t)row * vocab, work + (size_t)row * vocab, allowed, pr[1], __int_as_float(pr[2]),
               (uint32_t)pr[4], (uint32_t)pr[5], pr[6], top, begin, min(vocab, begin + chunk), mx, mi, non_finite, bv, bi);
    non_finite = __syncthreads_or(non_finite);
    if (top) block_argmax(mx, mi, sv, si);
    else mx = block_max(mx, sv);
    block_argmax(bv, bi, sv, si);
    if (threadIdx.x == 0) {
        SplitPart& p = parts[blockIdx.x * gridDim.y + blockIdx.y];
        p.mx = mx;
        p.mi = mi;
        p.bv = bv;
        p.bi = bi;
        p.non_finite = non_finite;
    }
}

extern "C" __global__ void __launch_bounds__(256) sample_split_sum(SplitPart* parts, const float* raw,
        const int* params, const uint32_t* masks, int vocab) {
    __shared__ unsigned long long su[32];
    const int* pr = params + 12 * blockIdx.x;
    if (!one_pass_row(pr, vocab) || pr[7] == 0) return;  // the sum only serves logprobs (see sample_rows)
    SplitPart* row_parts = parts + blockIdx.x * gridDim.y;
    float mx = -INFINITY;
    int non_finite = 0;
    for (int c = 0; c < gridDim.y; c++) {
        mx = fmaxf(mx, row_parts[c].mx);
        non_finite |= row_parts[c].non_finite;
    }
    if (non_finite) return;  // sample_rows reports the row
    const float* lr = raw + (size_t)pr[0] * vocab;
    const uint32_t* allowed = pr[11] >= 0 ? masks + (size_t)pr[11] * (((vocab + 63) >> 6) * 2) : nullptr;
    const int chunk = split_chunk(vocab, gridDim.y);
    const int begin = blockIdx.y * chunk, end = min(vocab, begin + chunk);
    unsigned long long part = 0;
    const bool aligned = (reinterpret_cast<uintptr_t>(lr) & 15) == 0;
    for (int i = begin + 4 * threadIdx.x; i < end; i += 4 * blockDim.x) {
        // four entries a thread with one 16-byte load (a 4-byte load a thread left too few bytes in flight)
        const int n = min(4, end - i);
        float r[4];
        load4(lr, i, n, aligned, r);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            if (k < n) part += mass_units(ember_exp(__fsub_rn(is_allowed(allowed, i + k) ? r[k] : -INFINITY, mx)));
        }
    }
    part = block_sum_u64(part, su);
    if (threadIdx.x == 0) row_parts[blockIdx.y].sum = part;
}

extern "C" __global__ void __launch_bounds__(1024) sample_rows(int* tokens, float* logprobs, int* top_ids,
        float* top_logprobs, const float* raw, const float* work, const int* params, const uint32_t* masks, int vocab,
        const SplitPart* parts, int splits) {
    __shared__ float sv[32];
    __shared__ int si[32];
    __shared__ unsigned long long su[32];
    const int* pr = params + 12 * blockIdx.x;
    const int row = pr[0], greedy = pr[1], output_index = pr[6], top_n = pr[7], top_k = pr[8];
    const float temperature = __int_as_float(pr[2]), min_p = __int_as_float(pr[3]);
    // top_p stays a double: Sampler compares the cumulative mass with the double the request holds (once per row)
    const double top_p = __hiloint2double(pr[10], pr[9]);
    const uint32_t seed_lo = (uint32_t)pr[4], seed_hi = (uint32_t)pr[5];
    const float* lr = raw + (size_t)row * vocab;
    const float* lw = work + (size_t)row * vocab;
    const uint32_t* allowed = pr[11] >= 0 ? masks + (size_t)pr[11] * (((vocab + 63) >> 6) * 2) : nullptr;
    const bool filtered = top_k > 0 && top_k < vocab;
    const bool use_p = top_p < 1.0 || min_p > 0.f;
    // greedy and plain temperature rows take their token in the first pass (Gumbel keys need no normalization)
    const bool early = greedy || (!filtered && !use_p);

    // pass 1: the raw logits' maximum (over the allowed tokens for a guided row: its logprobs are of that
    // distribution, as Sampler), the finiteness check, and an early row's token; pass 2: the softmax sum of the
    // logprobs, in fixed point. A split row (see the header) merges its chunks' results instead.
    float mx = -INFINITY;
    int mi = INT_MAX;  // the lowest allowed id holding mx: the first top logprob without a pass of its own
    int non_finite = 0;
    float bv = -INFINITY;
    int bi = INT_MAX;
    unsigned long long total = 0;
    const bool split = splits > 1 && early;
    if (split) {
        // every thread merges the row's few chunks in the same order: nothing to broadcast
        const SplitPart* rp = parts + blockIdx.x * splits;
        for (int c = 0; c < splits; c++) {
            if (top_n == 0) mx = fmaxf(mx, rp[c].mx);
            else if (better(rp[c].mx, rp[c].mi, mx, mi)) { mx = rp[c].mx; mi = rp[c].mi; }
            non_finite |= rp[c].non_finite;
            if (better(rp[c].bv, rp[c].bi, bv, bi)) { bv = rp[c].bv; bi = rp[c].bi; }
            total += rp[c].sum;
        }
    } else {
        if (early) {
            first_pass(lr, lw, allowed, greedy, temperature, seed_lo, seed_hi, output_index, top_n > 0, 0, vocab, mx,
                       mi, non_finite, bv, bi);
        } else {
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                const float v = wl(lr, allowed, i);
                if (v > mx) { mx = v; mi = i; }  // ids rise within a thread: the first of equal values stays
                non_finite |= !isfinite(lr[i]);
            }
        }
        non_finite = __syncthreads_or(non_finite);
    }
    // A NaN or an infinity among the raw logits: no token drawn from the row means anything. Report the row
    // (token -2, StepOutput.NON_FINITE) instead of sampling; the whole block leaves together.
    if (non_finite) {
        if (threadIdx.x == 0) {
            tokens[blockIdx.x] = -2;
            logprobs[blockIdx.x] = __int_as_float(0x7fffffff);
        }
        return;
    }
    if (!split) {
        if (top_n > 0) block_argmax(mx, mi, sv, si);
        else mx = block_max(mx, sv);
        if (early) block_argmax(bv, bi, sv, si);
        if (top_n > 0) {
            unsigned long long part = 0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                part += mass_units(ember_exp(__fsub_rn(wl(lr, allowed, i), mx)));
            }
            total = block_sum_u64(part, su);
        }
    }
    // NaN (a logprob nobody asked for) when top_n == 0: the sum pass is skipped
    const double log_sum = top_n > 0 ? log((double)total * (1.0 / EMBER_MASS_ONE)) : __longlong_as_double(0x7ff8000000000000LL);

    // The first top logprob is the maximum's (mx, mi: the pass above took it). Not when every token is masked (mx
    // -inf): the search below then returns the lowest id of all, as Sampler's sort does.
    float pv = INFINITY;
    int pi = -1;
    int k0 = 0;
    if (top_n > 0 && mx > -INFINITY) {
        if (threadIdx.x == 0) {
            top_ids[blockIdx.x * 20] = mi;
            top_logprobs[blockIdx.x * 20] = (float)((double)mx - (double)mx - log_sum);
        }
        pv = mx;
        pi = mi;
        k0 = 1;
    }
    for (int k = k0; k < top_n; k++) {
        float tv = -INFINITY;
        int ti = INT_MAX;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float v = wl(lr, allowed, i);
            if ((v < pv || (v == pv && i > pi)) && better(v, i, tv, ti)) { tv = v; ti = i; }
        }
        block_argmax(tv, ti, sv, si);
        if (threadIdx.x == 0) {
            top_ids[blockIdx.x * 20 + k] = ti;
            top_logprobs[blockIdx.x * 20 + k] = (float)((double)tv - (double)mx - log_sum);
        }
        pv = tv;
        pi = ti;
    }

    if (!early) {
        // top-k: the k-th largest z (over the whole row, as Sampler sorts it)
        const float threshold = filtered ? key_value(kth_largest_key(lw, allowed, temperature, top_k, vocab)) : -INFINITY;
        float zmax = -INFINITY;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float z = __fdiv_rn(wl(lw, allowed, i), temperature);
            if (candidate(z) && z >= threshold) zmax = fmaxf(zmax, z);
        }
        zmax = block_max(zmax, sv);
        float zsum = 1.f;
        if (use_p) {
            unsigned long long zpart = 0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                float z = __fdiv_rn(wl(lw, allowed, i), temperature);
                if (candidate(z) && z >= threshold) zpart += mass_units(ember_exp(__fsub_rn(z, zmax)));
            }
            zsum = __fmul_rn(__ull2float_rn(block_sum_u64(zpart, su)), 1.f / EMBER_MASS_ONE);
        }
        // top-p keeps the tokens whose order key (probability descending, then id ascending: Sampler's sort
        // key) is at most cut_key.
        uint64_t cut_key = UINT64_MAX;
        if (top_p < 1.0) {
            const unsigned long long target = (unsigned long long)(top_p * (double)EMBER_MASS_ONE);
            float kept_count = 0.f;
            if (filtered && blockDim.x == SORT_CAPACITY) {
                for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                    float z = __fdiv_rn(wl(lw, allowed, i), temperature);
                    if (candidate(z) && z >= threshold) kept_count += 1.f;
                }
                kept_count = block_sum(kept_count, sv);
            }
            if (kept_count > 0.f && kept_count <= (float)SORT_CAPACITY) {
                cut_key = top_p_cut_sorted(lw, allowed, temperature, threshold, zmax, zsum, target, vocab);
            } else {
                cut_key = top_p_cut_search(lw, allowed, temperature, threshold, zmax, zsum, target, vocab, sv);
            }
        }
        // min-p: Sampler's pmax is the kept maximum's p = exp(0) / zsum
        const float cutoff = min_p > 0.f ? __fmul_rn(min_p, __fdiv_rn(1.f, zsum)) : 0.f;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float z = __fdiv_rn(wl(lw, allowed, i), temperature);
            if (!candidate(z) || z < threshold) continue;
            if (use_p) {
                float p = kept_p(z, zmax, zsum);
                if (top_p < 1.0 && p_order_key(p, i) > cut_key) continue;
                if (min_p > 0.f && p < cutoff) continue;
            }
            gumbel_enter(z, i, seed_lo, seed_hi, output_index, bv, bi);
        }
        block_argmax(bv, bi, sv, si);
    }
    if (threadIdx.x == 0) {
        // every token masked (-inf after penalties, min_tokens and a guided mask): nothing to draw; token -3
        // (Sampler.NO_CANDIDATE)
        const bool none = bi == INT_MAX || (greedy && bv == -INFINITY);
        tokens[blockIdx.x] = none ? -3 : bi;
        logprobs[blockIdx.x] = none ? __int_as_float(0x7fffffff)
                                    : (float)((double)wl(lr, allowed, bi) - (double)mx - log_sum);
    }
}
