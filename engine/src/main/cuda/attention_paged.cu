// Paged attention on tensor cores for 16-bit storage types (float32 models use attention_prefill.cu and
// attention_decode.cu). Both kernels pack the G = nh / nkv query heads that share a KV head into the rows of
// one mma tile (row r = token * G + head), so every K/V byte read from the cache serves all of them, and
// stream the keys in tiles of 64 through a cp.async pipeline into swizzled shared memory (attention_tc.cuh).
// KV cache layout (blocks, nkv, block_size, D) of one layer; a sequence's blocks come from its block table.
//
// attn_prefill_tc_hdD_T(out (T, nh*D), q (T, nh*D), k_cache, v_cache, tiles (n, 3): (sequence, first token,
//                       count <= tile_tokens), query_start (S + 1), context_lens (S), block_tables (S, bt_stride),
//                       bt_stride, nh, nkv, block_size, scale)
//   grid = (n tiles, nkv), block = 256 (8 warps x 16 rows = 128 rows: tile_tokens = 128 / G tokens, so each K/V
//   tile loaded serves 128 query rows), dynamic shared memory = (128 + 2 stages x 2 x 64) x D x 2 bytes (96 KiB at
//   D = 128, within sm_86's 99 KiB). Causal by position: the query at position p sees keys k <= p, where
//   p = context_len - query_len + its index in the sequence's run. Blocks take the tiles in reverse order: a
//   sequence's later tiles see more keys, so the longest run first and the last wave holds short ones. Each warp
//   reads its Q fragments from shared memory and takes a K/V tile in PREFILL_STEP-key softmax steps: 128
//   registers, so on sm_90 two blocks share a SM (the profile's limit was one block of 184 registers).
//   Variants for the benchmark, off by default (block = paged::PREFILL_THREADS, 128 rows either way):
//   EMBER_PREFILL_WARP_ROWS=32: 4 warps x 32 rows (two m16 row groups), so each K/V fragment a warp reads from
//   shared memory feeds two mma's (FlashAttention-2's split); block = 128, about 245 registers, two blocks a SM on
//   sm_90 by shared memory. EMBER_PREFILL_MASKFREE=1: a step whose keys every row of the warp sees skips the causal
//   mask, so only the steps on the diagonal pay for it.
//
// attn_decode_tc_hdD_T(out (S, nh*D), part_acc (S, splits, nh, D) f32, part_ml (S, splits, nh, 2) f32,
//                      q (S, nh*D), k_cache, v_cache, context_lens (S), block_tables, bt_stride, nh, nkv,
//                      block_size, scale, partition, num_splits)
//   grid = (nkv, S, num_splits), block = 128, dynamic shared memory = decode_smem(D). One block takes the
//   context range [split * partition, + partition) of one (sequence, KV head); its 4 warps take 16 keys each
//   of every 64-key tile (the next tile loads while this one is used) and merge their softmax states at the end. One split writes
//   the normalized output, several write unnormalized sums and (max, sum) for attn_decode_reduce
//   (attention_decode.cu). A context of 0 (a graph's padding row) writes zeros.
//
// attn_decode_tc_rope_hdD_T(out, part_acc, part_ml, k_cache, v_cache, qkv (S, (nh + 2 nkv) * D), bias or null,
//                           q_norm or null, k_norm or null, positions (S), slots (S; -1 = do not store), inv_freq (D/2),
//                           context_lens, block_tables, bt_stride, nh, nkv, block_size, scale, partition, num_splits, eps)
//   attn_decode_tc with rope_store's work (rope.cu) fused in, for pure decode steps (token i of the step is sequence
//   i's new token, the last key of its context): each block builds its G query heads from the raw qkv row (bias,
//   q norm, RoPE: rope.cuh, so the bits are rope_store's) into its Q tile, and the block whose split ends at the
//   context's end also stores the new token's K (bias, k norm, RoPE) and V (bias) of its KV head at its slot, before
//   it loads any key. Same grid, block and shared memory as attn_decode_tc.
#include "attention_tc.cuh"
#include "rope.cuh"

namespace paged {
constexpr int BN = 64;       // keys per tile
constexpr int WARPS = 4;
constexpr int THREADS = WARPS * 32;
constexpr int PREFILL_STAGES = 2;
#ifndef EMBER_PREFILL_WARP_ROWS
// query rows a warp owns: 16 (one m16 row group), or 32 (two: FlashAttention-2's split, every K/V fragment a warp
// reads from shared memory feeds two mma's, for twice the accumulator registers)
#define EMBER_PREFILL_WARP_ROWS 16
#endif
#ifndef EMBER_PREFILL_WARPS
// Kernels.TC_PREFILL_THREADS / 32: a block of 128 query rows either way; the attention benchmark compiles other values
#define EMBER_PREFILL_WARPS (128 / EMBER_PREFILL_WARP_ROWS)
#endif
#ifndef EMBER_PREFILL_MASKFREE
// 1: a step whose keys every row of the warp sees skips the causal mask (only the steps on the diagonal mask)
#define EMBER_PREFILL_MASKFREE 0
#endif
#ifndef EMBER_PREFILL_REVERSE
#define EMBER_PREFILL_REVERSE 1  // 0 only in the attention benchmark, to compare the orders
#endif
#ifndef EMBER_PREFILL_QREG
#define EMBER_PREFILL_QREG 0  // Q fragments in registers (1) or read from shared memory at each step (0)
#endif
#ifndef EMBER_PREFILL_STEP
#define EMBER_PREFILL_STEP 32  // keys per softmax step: a 64-key tile in two steps keeps the scores in fewer registers
#endif
#ifndef EMBER_PREFILL_MIN_BLOCKS
// blocks a SM must hold (registers): two 8-warp blocks hide each other's waits where shared memory fits two
// (sm_90's 227 KiB; sm_80 and sm_86 hold one block of 96 KiB, so their register budget stays free). Two 4-warp blocks
// of 32-row warps leave the full 255 registers a thread.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define EMBER_PREFILL_MIN_BLOCKS 2
#else
#define EMBER_PREFILL_MIN_BLOCKS 1
#endif
#endif
constexpr int PREFILL_WARPS = EMBER_PREFILL_WARPS;
constexpr int PREFILL_STEP = EMBER_PREFILL_STEP;
static_assert(BN % PREFILL_STEP == 0 && PREFILL_STEP % 16 == 0, "a softmax step is whole 16-key mma chunks of a tile");
constexpr int PREFILL_WARP_ROWS = EMBER_PREFILL_WARP_ROWS;
static_assert(PREFILL_WARP_ROWS == 16 || PREFILL_WARP_ROWS == 32, "a warp owns one or two m16 row groups");
constexpr int PREFILL_THREADS = PREFILL_WARPS * 32;  // the block size: Kernels.TC_PREFILL_THREADS
constexpr int PREFILL_ROWS = PREFILL_WARP_ROWS * PREFILL_WARPS;
#ifndef EMBER_DECODE_STAGES
#define EMBER_DECODE_STAGES 2  // 2 x 32 KiB keeps a block within the 99 KiB of sm_86 (Kernels.TC_DECODE_STAGES)
#endif
constexpr int DECODE_STAGES = EMBER_DECODE_STAGES;
}  // namespace paged

template <typename T, int HD>
__device__ void attn_prefill_tc(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ kc,
                                const T* __restrict__ vc, const int* __restrict__ tiles,
                                const int* __restrict__ query_start, const int* __restrict__ context_lens,
                                const int* __restrict__ block_tables, int bt_stride, int nh, int nkv, int bs,
                                float scale) {
    using namespace paged;
    constexpr int ROWS = PREFILL_ROWS, CH = HD / 8, TILE = BN * HD;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* qs = reinterpret_cast<T*>(smem_raw);
    T* ks = qs + ROWS * HD;
    T* vs = ks + PREFILL_STAGES * TILE;
    const int tile = EMBER_PREFILL_REVERSE ? gridDim.x - 1 - blockIdx.x : blockIdx.x, kvh = blockIdx.y, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int G = nh / nkv;
    const int seq = tiles[3 * tile], t0 = tiles[3 * tile + 1], count = tiles[3 * tile + 2];
    const int qlen = query_start[seq + 1] - query_start[seq];
    const int pos0 = context_lens[seq] - qlen + (t0 - query_start[seq]);
    const int kv_end = pos0 + count;
    const int* bt = block_tables + (size_t)seq * bt_stride;

    for (int i = tid; i < ROWS * CH; i += PREFILL_THREADS) {
        int r = i / CH, c = i % CH, tok = r / G, g = r % G;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (tok < count) v = *reinterpret_cast<const uint4*>(q + (size_t)(t0 + tok) * nh * HD + (kvh * G + g) * HD + c * 8);
        *reinterpret_cast<uint4*>(qs + tc::swz<HD>(r, c)) = v;
    }
    const int ntiles = (kv_end + BN - 1) / BN;
#pragma unroll
    for (int s = 0; s < PREFILL_STAGES - 1; s++) {
        if (s < ntiles) tc::load_kv_tile<T, HD, BN, PREFILL_THREADS>(ks + s * TILE, vs + s * TILE, kc, vc, bt, s * BN, kv_end, kvh, nkv, bs, tid);
        tc::cp_async_commit();
    }
    __syncthreads();
    constexpr int WR = PREFILL_WARP_ROWS, RG = WR / 16;
    tc::WarpState<T, HD, EMBER_PREFILL_QREG, RG> st;
    st.init(qs + warp * WR * HD, lane);  // this warp's rows (a multiple of 8 rows keeps the swizzle phase)
    // lim[i]: the last key row row0 + 8 * i sees (i = 2 * group + half: rows g, g + 8 of each group); -1 for rows
    // past the tile's tokens
    const int row0 = warp * WR + (lane >> 2);
    int lim[2 * RG];
#pragma unroll
    for (int i = 0; i < 2 * RG; i++) {
        int r = row0 + 8 * i;
        lim[i] = r / G < count ? pos0 + r / G : -1;
    }
    const int last_row = min(warp * WR + WR - 1, count * G - 1);
    const int warp_limit = last_row < warp * WR ? -1 : pos0 + last_row / G;  // the warp's furthest visible key
    // the nearest limit of the warp's rows (its first row's: limits grow with the row); rows past `count` have Q = 0,
    // so an unmasked step gives them finite scores, and they are not written
    const int warp_first = pos0 + warp * WR / G;
    const float scale2 = scale * 1.4426950408889634f;
    for (int i = 0; i < ntiles; i++) {
        tc::cp_async_wait<PREFILL_STAGES - 2>();
        __syncthreads();
        int next = i + PREFILL_STAGES - 1;
        if (next < ntiles) {
            int s = next % PREFILL_STAGES;
            tc::load_kv_tile<T, HD, BN, PREFILL_THREADS>(ks + s * TILE, vs + s * TILE, kc, vc, bt, next * BN, kv_end, kvh, nkv, bs, tid);
        }
        tc::cp_async_commit();
        int s = i % PREFILL_STAGES;
#pragma unroll
        for (int h = 0; h < BN; h += PREFILL_STEP) {
            const int key0 = i * BN + h;
            if (key0 > warp_limit) continue;
            if (EMBER_PREFILL_MASKFREE && key0 + PREFILL_STEP - 1 <= warp_first)
                st.template step<PREFILL_STEP, false>(ks + s * TILE, vs + s * TILE, h, key0, lim, scale2, lane);
            else
                st.template step<PREFILL_STEP>(ks + s * TILE, vs + s * TILE, h, key0, lim, scale2, lane);
        }
    }
    st.finish_sums();
    const int t = lane & 3;
#pragma unroll
    for (int i = 0; i < 2 * RG; i++) {  // row g + 8 * half of group j = i / 2: C regs 2 * half, 2 * half + 1
        int r = row0 + 8 * i, tok = r / G, g = r % G, j = i / 2, half = i & 1;
        if (tok >= count) continue;
        float inv = st.l[i] > 0.f ? 1.f / st.l[i] : 0.f;
        T* o = out + (size_t)(t0 + tok) * nh * HD + (kvh * G + g) * HD;
#pragma unroll
        for (int n = 0; n < HD / 8; n++) {
            o[n * 8 + 2 * t] = from_float<T>(st.acc[j * HD / 8 + n][2 * half] * inv);
            o[n * 8 + 2 * t + 1] = from_float<T>(st.acc[j * HD / 8 + n][2 * half + 1] * inv);
        }
    }
}

// rope_store's arguments for attn_decode_tc_rope (k_cache and v_cache are the kernel's kc and vc, written here).
template <typename T>
struct DecodeRope {
    T* k_cache;
    T* v_cache;
    const T* qkv;
    const T* bias;
    const T* q_norm;
    const T* k_norm;
    const int* positions;
    const int* slots;
    const float* inv_freq;
    float eps;
};

// The fused path's rope_store work for one (sequence, KV head) block, before any key load: the G query heads of the
// new token into Q tile rows 0..G-1 (rows G..15 zero, as attn_decode_tc's padding rows), and where stores_kv (this
// split holds the context's last key, the new token) K and V of head kvh into the caches at the token's slot. A warp
// takes a head at a time, as rope_store; the arithmetic is rope.cuh's, so q, K and V have rope_store's bits.
template <typename T, int HD>
__device__ __forceinline__ void decode_rope_token(T* qs, const DecodeRope<T>& rope, int seq, int kvh, int G, int nh,
                                                  int nkv, int bs, bool stores_kv, int tid, int warp, int lane) {
    using namespace paged;
    constexpr int CH = HD / 8, HALF = HD / 2;
    const T* row = rope.qkv + (size_t)seq * (nh + 2 * nkv) * HD;
    const float pos = (float)rope.positions[seq];
    // this lane's pairs' cos and sin, for every head the warp takes (rope_store keeps a block-wide table instead)
    float cr[4], sr[4];
#pragma unroll
    for (int m = 0; m < 4; m++) {
        int i = lane + 32 * m;
        if (i < HALF) rope::cos_sin<T>(pos, rope.inv_freq[i], cr[m], sr[m]);
    }
    for (int i = tid; i < (16 - G) * CH; i += THREADS) {
        int r = G + i / CH, c = i % CH;
        *reinterpret_cast<uint4*>(qs + tc::swz<HD>(r, c)) = make_uint4(0, 0, 0, 0);
    }
    const int slot = rope.slots[seq];
    for (int h = warp; h < G + (stores_kv ? 2 : 0); h += WARPS) {
        const bool is_q = h < G, is_k = h == G;
        const int base = (is_q ? kvh * G + h : is_k ? nh + kvh : nh + nkv + kvh) * HD;
        float x1[4], x2[4];
        rope::load_head<T>(x1, x2, row, rope.bias, base, is_q ? rope.q_norm : (is_k ? rope.k_norm : nullptr), HD,
                           rope.eps, lane);
        if (is_q || is_k) {
            rope::rotate<T>(x1, x2, [&](int m, int, float& c, float& s) { c = cr[m]; s = sr[m]; }, HD, lane);
        }
        if (is_q) {
#pragma unroll
            for (int m = 0; m < 4; m++) {
                int i = lane + 32 * m;
                if (i < HALF) {
                    qs[tc::swz<HD>(h, i >> 3) + (i & 7)] = from_float<T>(x1[m]);
                    qs[tc::swz<HD>(h, (i + HALF) >> 3) + (i & 7)] = from_float<T>(x2[m]);
                }
            }
        } else if (slot >= 0) {
            size_t off = (((size_t)(slot / bs) * nkv + kvh) * bs + slot % bs) * HD;
            rope::store_head<T>((is_k ? rope.k_cache : rope.v_cache) + off, x1, x2, HD, lane);
        }
    }
    // The new K/V row must be in global memory before this block's cp.async reads of its page. The stores are plain
    // (weak, generic-proxy) st.global; cp.async (not the bulk/TMA form) reads its source as a weak generic-proxy load
    // of the issuing thread, so no proxy fence is needed, only the CTA-scope ordering __syncthreads gives: every
    // thread's stores before the barrier are visible to every thread of the block after it (and the barrier is a
    // compiler fence, so neither side moves across it). cp.async.cg reads through L2, where the stores went. The
    // branch is the same for the whole block.
    // Other blocks never read the row: the other splits of this (sequence, KV head) end at or before this split's
    // start, so below the new token's position (the context's last key); other KV heads read other rows; other
    // sequences other pages (a step never writes into a block shared through the prefix cache). So no ordering
    // between blocks is needed.
    if (stores_kv) __syncthreads();
}

// ROPE: the Q tile comes from the raw qkv row and the last split stores the new token's K and V (DecodeRope); else
// from q. kc and vc are not __restrict__: the fused path writes the caches through rope.k_cache and rope.v_cache.
template <typename T, int HD, bool ROPE>
__device__ void attn_decode_tc(T* __restrict__ out, float* __restrict__ part_acc, float* __restrict__ part_ml,
                               const T* __restrict__ q, const T* kc, const T* vc,
                               const int* __restrict__ context_lens, const int* __restrict__ block_tables,
                               int bt_stride, int nh, int nkv, int bs, float scale, int partition, int num_splits,
                               const DecodeRope<T> rope) {
    using namespace paged;
    constexpr int CH = HD / 8, TILE = BN * HD, WN = BN / WARPS;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* qs = reinterpret_cast<T*>(smem_raw);
    T* ks = qs + 16 * HD;
    T* vs = ks + DECODE_STAGES * TILE;
    const int kvh = blockIdx.x, seq = blockIdx.y, split = blockIdx.z, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int G = nh / nkv;
    const int ctx = context_lens[seq];
    const int start = split * partition, end = min(ctx, start + partition);
    if (start >= end) {
        decode_empty_split(out, part_ml, seq, split, num_splits, nh, kvh, G, HD);
        return;
    }
    const int* bt = block_tables + (size_t)seq * bt_stride;
    if constexpr (ROPE) {
        decode_rope_token<T, HD>(qs, rope, seq, kvh, G, nh, nkv, bs, end == ctx, tid, warp, lane);
    } else {
        for (int i = tid; i < 16 * CH; i += THREADS) {
            int r = i / CH, c = i % CH;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (r < G) v = *reinterpret_cast<const uint4*>(q + (size_t)seq * nh * HD + (kvh * G + r) * HD + c * 8);
            *reinterpret_cast<uint4*>(qs + tc::swz<HD>(r, c)) = v;
        }
    }
    const int ntiles = (end - start + BN - 1) / BN;
#pragma unroll
    for (int s = 0; s < DECODE_STAGES - 1; s++) {
        if (s < ntiles) tc::load_kv_tile<T, HD, BN, THREADS>(ks + s * TILE, vs + s * TILE, kc, vc, bt, start + s * BN, end, kvh, nkv, bs, tid);
        tc::cp_async_commit();
    }
    __syncthreads();
    tc::WarpState<T, HD> st;
    st.init(qs, lane);
    const int g = lane >> 2, t = lane & 3;
    const int lim[2] = {g < G ? end - 1 : -1, -1};  // rows g + 8 >= G (G <= 8) are padding
    const float scale2 = scale * 1.4426950408889634f;
    for (int i = 0; i < ntiles; i++) {
        tc::cp_async_wait<DECODE_STAGES - 2>();
        __syncthreads();
        int next = i + DECODE_STAGES - 1;
        if (next < ntiles) {
            int s = next % DECODE_STAGES;
            tc::load_kv_tile<T, HD, BN, THREADS>(ks + s * TILE, vs + s * TILE, kc, vc, bt, start + next * BN, end, kvh, nkv, bs, tid);
        }
        tc::cp_async_commit();
        int key0 = start + i * BN + warp * WN;
        if (key0 < end) {
            int s = i % DECODE_STAGES;
            st.template step<WN>(ks + s * TILE, vs + s * TILE, warp * WN, key0, lim, scale2, lane);
        }
    }
    st.finish_sums();
    tc::cp_async_wait<0>();
    __syncthreads();
    // merge the warps' states for the G real rows through shared memory (the K/V tiles are free now)
    float* macc = reinterpret_cast<float*>(ks);       // (WARPS, 8, HD)
    float* mml = macc + WARPS * 8 * HD;               // (WARPS, 8, 2)
    if (g < G) {
#pragma unroll
        for (int n = 0; n < HD / 8; n++) {
            macc[(warp * 8 + g) * HD + n * 8 + 2 * t] = st.acc[n][0];
            macc[(warp * 8 + g) * HD + n * 8 + 2 * t + 1] = st.acc[n][1];
        }
        if (t == 0) {
            mml[(warp * 8 + g) * 2] = st.m[0];
            mml[(warp * 8 + g) * 2 + 1] = st.l[0];
        }
    }
    __syncthreads();
    for (int i = tid; i < G * HD; i += THREADS) {
        int r = i / HD, d = i % HD, h = kvh * G + r;
        float mx = -INFINITY;
#pragma unroll
        for (int w = 0; w < WARPS; w++) mx = fmaxf(mx, mml[(w * 8 + r) * 2]);
        float sum = 0.f, acc = 0.f;
#pragma unroll
        for (int w = 0; w < WARPS; w++) {
            float mw = mml[(w * 8 + r) * 2];
            float f = mw == -INFINITY ? 0.f : exp2f(mw - mx);
            sum += mml[(w * 8 + r) * 2 + 1] * f;
            acc += macc[(w * 8 + r) * HD + d] * f;
        }
        if (num_splits == 1) {
            out[(size_t)seq * nh * HD + h * HD + d] = from_float<T>(sum > 0.f ? acc / sum : 0.f);
        } else {
            size_t row = (size_t)(seq * num_splits + split) * nh + h;
            part_acc[row * HD + d] = acc;
            if (d == 0) {
                part_ml[row * 2] = mx * 0.6931471805599453f;  // back to natural-log units for the reduce kernel
                part_ml[row * 2 + 1] = sum;
            }
        }
    }
}

#define EMBER_PAGED_HD(S, T, D)                                                                             \
    extern "C" __global__ void __launch_bounds__(paged::PREFILL_THREADS, EMBER_PREFILL_MIN_BLOCKS) attn_prefill_tc_hd##D##_##S(T* out, \
            const T* q, const T* kc, const T* vc, const int* tiles, const int* query_start,                  \
            const int* context_lens, const int* block_tables, int bt_stride, int nh, int nkv, int bs,        \
            float scale) {                                                                                   \
        attn_prefill_tc<T, D>(out, q, kc, vc, tiles, query_start, context_lens, block_tables, bt_stride, nh, \
                              nkv, bs, scale);                                                               \
    }                                                                                                        \
    extern "C" __global__ void __launch_bounds__(paged::THREADS) attn_decode_tc_hd##D##_##S(T* out,        \
            float* part_acc, float* part_ml, const T* q, const T* kc, const T* vc, const int* context_lens,   \
            const int* block_tables, int bt_stride, int nh, int nkv, int bs, float scale, int partition,      \
            int num_splits) {                                                                                \
        attn_decode_tc<T, D, false>(out, part_acc, part_ml, q, kc, vc, context_lens, block_tables, bt_stride, \
                                    nh, nkv, bs, scale, partition, num_splits, DecodeRope<T>{});             \
    }                                                                                                        \
    extern "C" __global__ void __launch_bounds__(paged::THREADS) attn_decode_tc_rope_hd##D##_##S(T* out,   \
            float* part_acc, float* part_ml, T* kc, T* vc, const T* qkv, const T* bias, const T* q_norm,      \
            const T* k_norm, const int* positions, const int* slots, const float* inv_freq,                  \
            const int* context_lens, const int* block_tables, int bt_stride, int nh, int nkv, int bs,        \
            float scale, int partition, int num_splits, float eps) {                                         \
        attn_decode_tc<T, D, true>(out, part_acc, part_ml, nullptr, kc, vc, context_lens, block_tables,      \
                                   bt_stride, nh, nkv, bs, scale, partition, num_splits,                     \
                                   DecodeRope<T>{kc, vc, qkv, bias, q_norm, k_norm, positions, slots,         \
                                                 inv_freq, eps});                                            \
    }
#define EMBER_PAGED(S, T) EMBER_PAGED_HD(S, T, 64) EMBER_PAGED_HD(S, T, 128)
EMBER_PAGED(bf16, __nv_bfloat16)
EMBER_PAGED(f16, __half)
