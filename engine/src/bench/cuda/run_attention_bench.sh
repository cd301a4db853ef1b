#!/usr/bin/env bash
# Builds and runs attention_bench.cu on the GPU host for each decode pipeline depth (2 fits sm_86; 3 is Hopper-only
# by shared memory). Usage, from the project root: [STAGES=2] engine/src/bench/cuda/run_attention_bench.sh [OUTDIR]
set -euo pipefail
out=${1:-/tmp}
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
for stages in ${STAGES:-2 3}; do
  nvcc -std=c++17 -O3 -arch=sm_$arch -DEMBER_DECODE_STAGES=$stages -I engine/src/main/cuda \
    engine/src/bench/cuda/attention_bench.cu -o /tmp/attention_bench_$stages 2>&1 | grep -v "warning #\|Remark" || true
  /tmp/attention_bench_$stages | tee "$out/attention_bench_stages$stages.txt"
done
