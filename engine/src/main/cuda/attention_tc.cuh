// Tensor-core building blocks of the paged attention kernels (16-bit storage types, sm_80 and newer):
// mma.sync m16n8k16 with float accumulate, ldmatrix from XOR-swizzled shared tiles, cp.async copies of
// K/V pages (zero-filled past the end, so padded keys contribute 0 * 0, never NaN), and the per-warp
// online softmax of FlashAttention-2 (scores scaled into log2 units, exp2, row max/sum over the 4 lanes
// of a quad). Fragment layouts are PTX's for m16n8k16: lane = 4 * g + t; A regs (row g | g+8, cols 2t..
// | 2t+8..); B regs (k 2t.. | 2t+8.., col g); C (row g: cols 2t, 2t+1; row g+8: same cols).
#pragma once
#include "common.cuh"

namespace tc {

template <typename T> struct Mma;
template <> struct Mma<__nv_bfloat16> {
    static __device__ __forceinline__ void run(float* c, const uint32_t* a, const uint32_t* b) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
    static __device__ __forceinline__ uint32_t pack(float lo, float hi, float& rlo, float& rhi) {
        __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
        rlo = __low2float(v);
        rhi = __high2float(v);
        return *reinterpret_cast<uint32_t*>(&v);
    }
};
template <> struct Mma<__half> {
    static __device__ __forceinline__ void run(float* c, const uint32_t* a, const uint32_t* b) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
    static __device__ __forceinline__ uint32_t pack(float lo, float hi, float& rlo, float& rhi) {
        __half2 v = __floats2half2_rn(lo, hi);
        rlo = __low2float(v);
        rhi = __high2float(v);
        return *reinterpret_cast<uint32_t*>(&v);
    }
};

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t* r, const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t* r, const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

// 16-byte global -> shared copy; bytes = 0 zero-fills the destination (src must still be a valid address).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Element offset of 16-byte chunk c of row r in a [rows][HD] tile whose chunks are XOR-swizzled by (r & 7):
// the 8 rows an ldmatrix reads at one logical chunk land in 8 different bank groups.
template <int HD> __device__ __forceinline__ int swz(int r, int c) { return r * HD + ((c ^ (r & 7)) << 3); }

// Copies keys [base, base + BN) of one KV head into swizzled K and V tiles with cp.async (zero past `end`).
// Threads split the (row, chunk) pairs; each thread looks its rows' pages up in the block table.
template <typename T, int HD, int BN, int THREADS>
__device__ __forceinline__ void load_kv_tile(T* ks, T* vs, const T* __restrict__ kc, const T* __restrict__ vc,
                                             const int* __restrict__ bt, int base, int end, int kvh, int nkv, int bs,
                                             int tid) {
    constexpr int CH = HD / 8, PER_ROW = THREADS >= CH ? THREADS / CH : 1, ROW_STEP = THREADS / CH;
    static_assert(THREADS % CH == 0, "threads must cover whole rows");
    (void)PER_ROW;
    const int c = tid % CH;
    for (int r = tid / CH; r < BN; r += ROW_STEP) {
        int key = base + r;
        bool ok = key < end;
        size_t off = 0;
        if (ok) off = (((size_t)bt[key / bs] * nkv + kvh) * bs + key % bs) * HD + c * 8;
        cp_async16(ks + swz<HD>(r, c), kc + off, ok ? 16 : 0);
        cp_async16(vs + swz<HD>(r, c), vc + off, ok ? 16 : 0);
    }
}

// A warp's attention state over RG groups of 16 query rows: output accumulators, running max (log2 units) and this
// lane's partial row sums, for its rows g and g + 8 of each group (index 2 * group + half; group j's 8-dim chunk n is
// acc[j * HD / 8 + n]). RG = 2 is FlashAttention-2's split of 32 rows a warp: every K and V B fragment ldmatrix
// reads from shared memory feeds two mma's instead of one. QREG: the Q fragments live in registers (decode: few rows,
// so registers are free); otherwise they are read from the shared Q tile at each step (prefill: 32 registers fewer
// a group, which lets two 8-warp blocks share an SM).
template <typename T, int HD, bool QREG = true, int RG = 1>
struct WarpState {
    static_assert(RG >= 1 && (!QREG || RG == 1), "Q fragments in registers for one row group only");
    uint32_t qf[QREG ? HD / 16 : 1][4];
    const T* qs;  // the warp's 16 * RG rows of the swizzled Q tile (QREG false)
    float acc[RG * HD / 8][4];
    float m[2 * RG];
    float l[2 * RG];

    // ldmatrix x4 of a 16x16 A chunk of row group j: lanes 0-7 rows 0-7 (cols 0-7), 8-15 rows 8-15, 16-23 rows 0-7
    // (cols 8-15), ... A group starts at a multiple of 8 rows, so the swizzle phase (r & 7) is the same.
    __device__ __forceinline__ void load_q(uint32_t* r, int k, int lane, int j = 0) const {
        ldmatrix_x4(r, qs + j * 16 * HD + swz<HD>((lane & 7) + ((lane >> 3) & 1) * 8, 2 * k + (lane >> 4)));
    }

    __device__ __forceinline__ void init(const T* q_tile, int lane) {
        qs = q_tile;
        if (QREG) {
#pragma unroll
            for (int k = 0; k < HD / 16; k++) load_q(qf[QREG ? k : 0], k, lane);
        }
#pragma unroll
        for (int n = 0; n < RG * HD / 8; n++) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;
#pragma unroll
        for (int i = 0; i < 2 * RG; i++) {
            m[i] = -INFINITY;
            l[i] = 0.f;
        }
    }

    // One step over keys [key0, key0 + WN) held at rows [r0, r0 + WN) of the K/V tiles. limit[2 * j + half]: the last
    // key (inclusive) row g + 8 * half of group j may see; scale2 = softmax scale * log2(e). MASK false: the caller
    // knows every key of the step is visible to every row (rows past the tile's tokens have Q = 0: finite scores,
    // and their output is never written), so the per-element compare and select are left out.
    template <int WN, bool MASK = true>
    __device__ __forceinline__ void step(const T* ks, const T* vs, int r0, int key0, const int (&limit)[2 * RG],
                                         float scale2, int lane) {
        float s[RG][WN / 8][4];
#pragma unroll
        for (int j = 0; j < RG; j++)
#pragma unroll
            for (int n = 0; n < WN / 8; n++) s[j][n][0] = s[j][n][1] = s[j][n][2] = s[j][n][3] = 0.f;
        // S = Q K^T: ldmatrix x4 over K rows gives the B fragments of two consecutive 16-dim k chunks. Every s[n]
        // sums its k chunks in order either way; from shared memory, k goes outside so each Q chunk is read once.
        const int krow = lane & 7, kq = lane >> 3;
        if (QREG) {
#pragma unroll
            for (int n = 0; n < WN / 8; n++) {
#pragma unroll
                for (int k = 0; k < HD / 16; k += 2) {
                    uint32_t b[4];
                    ldmatrix_x4(b, ks + swz<HD>(r0 + n * 8 + krow, 2 * k + kq));
                    Mma<T>::run(s[0][n], qf[QREG ? k : 0], b);
                    Mma<T>::run(s[0][n], qf[QREG ? k + 1 : 0], b + 2);
                }
            }
        } else {
#pragma unroll
            for (int k = 0; k < HD / 16; k += 2) {
                uint32_t qa[RG][4], qb[RG][4];
#pragma unroll
                for (int j = 0; j < RG; j++) {
                    load_q(qa[j], k, lane, j);
                    load_q(qb[j], k + 1, lane, j);
                }
#pragma unroll
                for (int n = 0; n < WN / 8; n++) {
                    uint32_t b[4];
                    ldmatrix_x4(b, ks + swz<HD>(r0 + n * 8 + krow, 2 * k + kq));
#pragma unroll
                    for (int j = 0; j < RG; j++) {
                        Mma<T>::run(s[j][n], qa[j], b);
                        Mma<T>::run(s[j][n], qb[j], b + 2);
                    }
                }
            }
        }
        const int t = lane & 3;
        float mx[2 * RG];
#pragma unroll
        for (int j = 0; j < RG; j++) {
            mx[2 * j] = mx[2 * j + 1] = -INFINITY;
#pragma unroll
            for (int n = 0; n < WN / 8; n++) {
                int key = key0 + n * 8 + 2 * t;
                if (MASK) {
                    s[j][n][0] = key <= limit[2 * j] ? s[j][n][0] * scale2 : -INFINITY;
                    s[j][n][1] = key + 1 <= limit[2 * j] ? s[j][n][1] * scale2 : -INFINITY;
                    s[j][n][2] = key <= limit[2 * j + 1] ? s[j][n][2] * scale2 : -INFINITY;
                    s[j][n][3] = key + 1 <= limit[2 * j + 1] ? s[j][n][3] * scale2 : -INFINITY;
                } else {
#pragma unroll
                    for (int e = 0; e < 4; e++) s[j][n][e] *= scale2;
                }
                mx[2 * j] = fmaxf(mx[2 * j], fmaxf(s[j][n][0], s[j][n][1]));
                mx[2 * j + 1] = fmaxf(mx[2 * j + 1], fmaxf(s[j][n][2], s[j][n][3]));
            }
        }
#pragma unroll
        for (int i = 0; i < 2 * RG; i++) {
            mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
            mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
        }
        // a row with no visible key so far keeps m = -inf: subtract 0 instead, so exp2 gives 0, not NaN (a step
        // without the mask has finite scores in every row, so its new max is finite)
        float mn[2 * RG], sub[2 * RG], a[2 * RG];
#pragma unroll
        for (int i = 0; i < 2 * RG; i++) mn[i] = fmaxf(m[i], mx[i]);
#pragma unroll
        for (int i = 0; i < 2 * RG; i++) sub[i] = MASK && mn[i] == -INFINITY ? 0.f : mn[i];
#pragma unroll
        for (int i = 0; i < 2 * RG; i++) a[i] = exp2f(m[i] - sub[i]);
#pragma unroll
        for (int i = 0; i < 2 * RG; i++) {
            m[i] = mn[i];
            l[i] *= a[i];
        }
#pragma unroll
        for (int j = 0; j < RG; j++) {
#pragma unroll
            for (int n = 0; n < HD / 8; n++) {
                acc[j * HD / 8 + n][0] *= a[2 * j];
                acc[j * HD / 8 + n][1] *= a[2 * j];
                acc[j * HD / 8 + n][2] *= a[2 * j + 1];
                acc[j * HD / 8 + n][3] *= a[2 * j + 1];
            }
        }
        // P rounded to T (what the P V product uses); the row sums count the rounded values
        uint32_t p[RG][WN / 16][4];
#pragma unroll
        for (int j = 0; j < RG; j++) {
#pragma unroll
            for (int n = 0; n < WN / 8; n++) {
                float r0v, r1v, r2v, r3v;
                uint32_t lo = Mma<T>::pack(exp2f(s[j][n][0] - sub[2 * j]), exp2f(s[j][n][1] - sub[2 * j]), r0v, r1v);
                uint32_t hi = Mma<T>::pack(exp2f(s[j][n][2] - sub[2 * j + 1]), exp2f(s[j][n][3] - sub[2 * j + 1]), r2v, r3v);
                l[2 * j] += r0v + r1v;
                l[2 * j + 1] += r2v + r3v;
                p[j][n / 2][(n & 1) * 2] = lo;
                p[j][n / 2][(n & 1) * 2 + 1] = hi;
            }
        }
        // O += P V: ldmatrix.trans over V rows gives the B fragments of two consecutive 8-dim n chunks
        const int vrow = (lane & 7) + ((lane >> 3) & 1) * 8, vq = lane >> 4;
#pragma unroll
        for (int k = 0; k < WN / 16; k++) {
#pragma unroll
            for (int n = 0; n < HD / 8; n += 2) {
                uint32_t b[4];
                ldmatrix_x4_trans(b, vs + swz<HD>(r0 + k * 16 + vrow, n + vq));
#pragma unroll
                for (int j = 0; j < RG; j++) {
                    Mma<T>::run(acc[j * HD / 8 + n], p[j][k], b);
                    Mma<T>::run(acc[j * HD / 8 + n + 1], p[j][k], b + 2);
                }
            }
        }
    }

    // Row sums over the quad (call once, after the last step).
    __device__ __forceinline__ void finish_sums() {
#pragma unroll
        for (int i = 0; i < 2 * RG; i++) {
            l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
            l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
        }
    }
};

}  // namespace tc
