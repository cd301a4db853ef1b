#!/usr/bin/env bash
# Builds and runs small_kernels_bench.cu on the GPU host (residual-add + RMSNorm, RoPE + KV store, SiLU x mul and
# sampling against their byte floors). Usage, from the project root:
#   engine/src/bench/cuda/run_small_kernels_bench.sh [OUTDIR]
set -euo pipefail
out=${1:-/tmp}
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
nvcc -std=c++17 -O3 -arch=sm_$arch -I engine/src/main/cuda engine/src/bench/cuda/small_kernels_bench.cu \
  -o /tmp/small_kernels_bench 2>&1 | grep -v "warning #\|Remark" || true
/tmp/small_kernels_bench | tee "$out/small_kernels_bench.txt"
