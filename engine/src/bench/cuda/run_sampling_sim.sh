#!/usr/bin/env bash
# CPU check of the sampling scan's gates (sampling_sim.cpp) against a brute-force Gumbel-max; no GPU needed.
# Usage, from the project root: engine/src/bench/cuda/run_sampling_sim.sh
set -euo pipefail
here=engine/src/bench/cuda
tmp=$(mktemp -d)
python3 $here/sampling_sim.py engine/src/main/cuda/sampling.cu "$tmp/sampling_sim.h"
g++ -O2 -std=c++17 -I "$tmp" $here/sampling_sim.cpp -o "$tmp/sim"
"$tmp/sim"
rm -rf "$tmp"
