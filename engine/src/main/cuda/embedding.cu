// Row gathers: the token embedding lookup and the gather of last-token hidden states before the LM head.
//
// embed_T(out (T, hidden), table (vocab, hidden), ids (T), prev (previous step's sampled tokens, by sampler row) or
//         null, vocab, hidden): grid = T rows, block = 256. An id -(r + 1) is the token the previous step sampled in
//         row r (a step launched before that one's tokens reached the host); one that is not a token (a row that
//         sampled nothing from non-finite logits, whose sequence has ended) reads row 0, and its output is dropped.
// gather_rows_T(out (R, width), in (N, width), rows (R), width): grid = R, block = 256.
#include "common.cuh"

template <typename T>
__device__ void copy_row(T* __restrict__ out, const T* __restrict__ in, int width) {
    for (int i = threadIdx.x; i < width; i += blockDim.x) out[i] = in[i];
}

#define EMBER_EMBEDDING(S, T)                                                                              \
    extern "C" __global__ void embed_##S(T* out, const T* table, const int* ids, const int* prev, int vocab, \
                                         int hidden) {                                                     \
        int id = ids[blockIdx.x];                                                                          \
        if (id < 0) id = prev ? prev[-id - 1] : 0;                                                         \
        if (id < 0 || id >= vocab) id = 0;                                                                 \
        copy_row(out + (size_t)blockIdx.x * hidden, table + (size_t)id * hidden, hidden);                  \
    }                                                                                                      \
    extern "C" __global__ void gather_rows_##S(T* out, const T* in, const int* rows, int width) {         \
        copy_row(out + (size_t)blockIdx.x * width, in + (size_t)rows[blockIdx.x] * width, width);         \
    }
EMBER_FOR_TYPES(EMBER_EMBEDDING)
