#!/usr/bin/env python3
"""Writes a host C++ header holding sampling.cu's scan pieces (Philox keys, order keys, Ember's exp/log, the Gumbel
gates), with the CUDA intrinsics they use defined as IEEE host float operations, for sampling_sim.cpp: a CPU check
that the scan's bounds never skip a winner. The pieces are cut from sampling.cu between the comment lines below, so
a renamed comment there shows up here as a ValueError. The hardware log2 becomes log2f: the simulation checks the
gates' logic, not the margin that covers lg2.approx's error.

    sampling_sim.py SAMPLING_CU OUT_HEADER
"""
import re
import sys

SHIM = r'''#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
using std::max;
struct uint4 { uint32_t x, y, z, w; };
static inline uint4 make_uint4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return {a, b, c, d}; }
static inline uint32_t __umulhi(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a * b) >> 32); }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __frcp_rn(float a) { return 1.f / a; }
static inline float __uint_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t __float_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline int __float_as_int(float f) { int u; memcpy(&u, &f, 4); return u; }
static inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }
static long long sim_exact_logs = 0;  // ember_log calls: how many keys the gates let through
'''

PIECES = [  # (first line's start, the start of the line after the piece)
    ('#define PHILOX_M0', "// Ember's stream (Philox.uniform)"),  # the Philox constants and round keys
    ('// (value, id) pairs ordered by value', '__device__ void block_argmax'),
    ('// Unsigned keys that order like the floats', '// The penalized logit of token i'),
    ('// A token is a candidate when', '// The order key of the k-th largest'),
    ('#define EMBER_LOG2E', '// FloatMath.mass'),
    ('// log2(x) by the hardware', 'extern "C" __global__ void apply_penalties'),
]


def main(src, out):
    s = open(src).read()
    code = []
    for start, end in PIECES:
        a = s.index(start)
        code.append(s[a:s.index(end, a)])
    code = '\n'.join(code).replace('__device__ __forceinline__', 'static inline')
    code = re.sub(r'asm volatile\("mov\.b32 %0, %0;" : "\+r"\((.*?)\)\);', r'(void)\1;', code)
    code = code.replace('asm("lg2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));', 'y = log2f(x);')
    code = code.replace('static inline float ember_log(float x) {', 'static inline float ember_log(float x) {\n    sim_exact_logs++;')
    if re.search(r'\basm\b', code):
        raise ValueError('an inline asm the shim does not translate')
    open(out, 'w').write(SHIM + code)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
