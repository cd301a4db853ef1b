#!/usr/bin/env bash
# Builds and runs gemm_splitk_bench.cu on the GPU host (Hopper only: wgmma needs sm_90a): the split-K wgmma GEMM
# checked against a float32 reference and timed on qwen2-1.5b's decode projections at 144, 192 and 256 rows.
# Usage, from the project root: engine/src/bench/cuda/run_gemm_splitk_bench.sh [OUTDIR]
# Writes OUTDIR/gemm_splitk_ptxas.txt (registers, spills, wgmma serialization notes) and OUTDIR/gemm_splitk.txt; exits
# non-zero when the build or a check fails, 124 when the run outlasts its timeout (a block waiting forever at the
# split-K counter would: the launch is cooperative, so that should not happen).
set -uo pipefail
out=${1:-/tmp}
mkdir -p "$out"
nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -Xptxas -v -I engine/src/main/cuda \
  engine/src/bench/cuda/gemm_splitk_bench.cu -o /tmp/gemm_splitk > "$out/gemm_splitk_ptxas.txt" 2>&1
rc=$?
grep -A3 "gemm_splitk_wgmma\|C75" "$out/gemm_splitk_ptxas.txt" | grep -E "C75|registers|spill" || true
if [ $rc -ne 0 ]; then tail -20 "$out/gemm_splitk_ptxas.txt"; echo "build failed (rc=$rc)"; exit $rc; fi
timeout -k 10 ${GEMM_TIMEOUT:-120} /tmp/gemm_splitk 2>&1 | tee "$out/gemm_splitk.txt"
exit ${PIPESTATUS[0]}
