#!/usr/bin/env bash
# Builds and runs prefill_wgmma.cu on the GPU host (Hopper only: wgmma needs sm_90a): layout self-tests, then the
# wgmma prefill kernel beside attn_prefill_tc on attention_bench's prefill shapes. Usage, from the project root:
#   engine/src/bench/cuda/run_prefill_wgmma.sh [OUTDIR]
# Writes OUTDIR/prefill_wgmma_ptxas.txt (the compiler's register / spill report, C75xx wgmma serialization notes
# included) and OUTDIR/prefill_wgmma.txt (the run). Exits non-zero when the build, a self-test or a check fails; the
# run is bounded by a timeout, so a hung kernel ends it too (exit 124). WGMMA_FLAGS adds compiler flags, e.g.
# WGMMA_FLAGS=-DEMBER_WGMMA_EARLY_KV=0 for the kernel without tile 1's early load (an A/B: run it twice).
set -uo pipefail
out=${1:-/tmp}
mkdir -p "$out"
# -gencode, not -arch=sm_90a: nvcc 13.0's shorthand also runs a plain sm_90 pass, which rejects wgmma
nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -Xptxas -v ${WGMMA_FLAGS:-} -I engine/src/main/cuda \
  engine/src/bench/cuda/prefill_wgmma.cu -o /tmp/prefill_wgmma > "$out/prefill_wgmma_ptxas.txt" 2>&1
rc=$?
grep -A3 "attn_prefill_wgmma\|C75" "$out/prefill_wgmma_ptxas.txt" | grep -E "C75|registers|spill" || true
if [ $rc -ne 0 ]; then tail -20 "$out/prefill_wgmma_ptxas.txt"; echo "build failed (rc=$rc)"; exit $rc; fi
timeout -k 10 ${WGMMA_TIMEOUT:-300} /tmp/prefill_wgmma 2>&1 | tee "$out/prefill_wgmma.txt"
rc=${PIPESTATUS[0]}
[ $rc -eq 124 ] && echo "prefill_wgmma: timed out after ${WGMMA_TIMEOUT:-300} s" | tee -a "$out/prefill_wgmma.txt"
exit $rc
