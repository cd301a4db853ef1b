// CPU check of the sampling scan's gates (sampling.cu, through the header sampling_sim.py cuts from it): for rows of
// several logit distributions, temperatures and sizes, the token a scan finds, walking the row as the kernel's lanes
// do (lane j takes groups of four j, j + lanes, ...; each step's cut is the best key of the whole warp), must be the
// brute-force Gumbel-max's (every key exact, ties to the lower id). Prints the exact keys the gates let through per
// row, so a gate that skips nothing shows up too. Built and run by run_sampling_sim.sh, which the engine test
// SamplingGatesSimTest runs (no GPU; where python3 and g++ are on the PATH).
#include "sampling_sim.h"
#include <cstdio>
#include <random>
#include <vector>

static int brute(const std::vector<float>& l, float t, uint32_t slo, uint32_t shi, int oi) {
    float bv = -INFINITY;
    int bi = INT_MAX;
    const PhiloxKeys keys = philox_keys(slo, shi);
    for (int i = 0; i < (int)l.size(); i++) {
        if (!(l[i] > -INFINITY)) continue;
        const uint4 w = philox4x32_10((uint32_t)i >> 2, (uint32_t)oi, keys);
        const float z = __fdiv_rn(l[i], t);
        if (!candidate(z)) continue;
        const float key = __fsub_rn(z, ember_log(-ember_log(uniform_of(word_of(w, i & 3)))));
        if (better(key, i, bv, bi)) { bv = key; bi = i; }
    }
    return bi;
}

static int scan(const std::vector<float>& l, float t, uint32_t slo, uint32_t shi, int oi, int lanes) {
    const int n = (int)l.size(), groups = (n + 3) / 4;
    const PhiloxKeys keys = philox_keys(slo, shi);
    std::vector<float> bv(lanes, -INFINITY);
    std::vector<int> bi(lanes, INT_MAX);
    const float inv_t = __frcp_rn(t);
    for (int step = 0; step * lanes < groups; step++) {
        uint32_t cut = order_key(-INFINITY);
        for (int j = 0; j < lanes && step * lanes + j < groups; j++) cut = std::max(cut, order_key(bv[j]));
        for (int j = 0; j < lanes && step * lanes + j < groups; j++) {
            const int i = 4 * (step * lanes + j);
            float w[4];
            for (int k = 0; k < 4; k++) w[k] = i + k < n ? l[i + k] : -INFINITY;
            gumbel_enter4(w, i, t, inv_t, key_value(cut), keys, oi, bv[j], bi[j]);
        }
    }
    float v = -INFINITY;
    int id = INT_MAX;
    for (int j = 0; j < lanes; j++) if (better(bv[j], bi[j], v, id)) { v = bv[j]; id = bi[j]; }
    return id;
}

int main() {
    std::mt19937 rng(7);
    int cases = 0, wrong = 0;
    long long through = 0, entries = 0;
    const char* names[] = {"uniform [-4, 4] (the benchmark's)", "normal, sd 3", "normal, sd 3, peaks of +25",
                           "a third masked (-inf)", "integers 0..3 (ties)"};
    for (int dist = 0; dist < 5; dist++) {
        for (int size : {151936, 32000, 1001, 7}) {
            for (float t : {0.6f, 1.f, 0.05f, 3.f, 1e-30f}) {
                for (int rep = 0; rep < (size > 100000 ? 2 : 6); rep++) {
                    std::vector<float> l(size);
                    std::uniform_real_distribution<float> uniform(-4.f, 4.f);
                    std::normal_distribution<float> normal(0.f, 3.f);
                    for (float& x : l) {
                        switch (dist) {
                            case 0: x = uniform(rng); break;
                            case 1: x = normal(rng); break;
                            case 2: x = normal(rng) + (rng() % 5000 == 0 ? 25.f : 0.f); break;
                            case 3: x = rng() % 3 == 0 ? -INFINITY : uniform(rng); break;
                            default: x = (float)(rng() % 4); break;
                        }
                    }
                    const uint32_t slo = rng(), shi = rng();
                    const int oi = (int)(rng() % 1000);
                    const int expected = brute(l, t, slo, shi, oi);
                    const long long before = sim_exact_logs;
                    const int warp = scan(l, t, slo, shi, oi, 32);
                    through += (sim_exact_logs - before) / 2;
                    entries += size;
                    const int lane = scan(l, t, slo, shi, oi, 1);
                    cases++;
                    if (warp != expected || lane != expected) {
                        wrong++;
                        printf("WRONG %s, %d entries, T = %g: brute force %d, warp %d, one lane %d\n", names[dist], size,
                               t, expected, warp, lane);
                    }
                }
            }
        }
    }
    printf("%d rows, %d wrong; exact keys the gates let through: %lld of %lld entries\n", cases, wrong, through,
           entries);
    return wrong == 0 ? 0 : 1;
}
