#!/usr/bin/env bash
# CPU check of the sampling scan's gates (sampling_sim.cpp) with the group bound off and on; no GPU needed.
# Usage, from the project root: engine/src/bench/cuda/run_sampling_sim.sh
set -euo pipefail
here=engine/src/bench/cuda
tmp=$(mktemp -d)
python3 $here/sampling_sim.py engine/src/main/cuda/sampling.cu "$tmp/sampling_sim.h"
for g in 0 1; do
  g++ -O2 -std=c++17 -DEMBER_SAMPLING_GROUP_BOUND=$g -I "$tmp" $here/sampling_sim.cpp -o "$tmp/sim$g"
  "$tmp/sim$g"
done
rm -rf "$tmp"
