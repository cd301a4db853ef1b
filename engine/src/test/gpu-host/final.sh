#!/usr/bin/env bash
# Final main on the GPU host, most important first: every gpu-tagged test, HfParityTest, throughput on three
# checkpoints, guided JSON, the step timeline, the kernel benchmarks. $OUT/summary.txt grows as each stage ends (a call
# cut short still brings back what finished, with each stage's time); the logs go into $OUT/final.tgz at the end.
# With an ab-base/ directory beside the tree (see kernel_ab.sh), AB_VARIANTS and AB_MODES (default small) add a kernel
# A/B right after the tests; QWEN2_AB adds throughput variants of the same build (JVM switches) beside qwen2-1.5b's;
# PROFILE=1 runs StepProfile after it.
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd); R=/tmp/final; rm -rf $R; mkdir -p $R
REAL_OUT=${OUT:-/tmp/out}; export OUT=$R
S=$REAL_OUT/summary.txt
t0=$(date +%s); stage() { echo "-- $1 done at $(( $(date +%s) - t0 )) s" >> $S; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $S 2>&1
STAGES=unit,parity UNIT_TIMEOUT=260 PARITY_TIMEOUT=120 $D/suite.sh
grep -E "tests (successful|failed|aborted)" $R/unit.log $R/unit-alone.log $R/parity.log >> $S
grep -B2 -A12 "✘" $R/unit.log $R/unit-alone.log $R/parity.log | head -60 >> $S; stage tests
if [ -d ab-base ]; then
  BASE=ab-base VARIANTS="${AB_VARIANTS:-}" MODES="${AB_MODES:-small}" timeout -s KILL 200 engine/src/bench/cuda/kernel_ab.sh $REAL_OUT > $R/ab.log 2>&1
  stage "kernel A/B"
fi
# QWEN2_AB adds variants of the same build beside it, e.g. "nosplit|--warmup 32 --runs 3|-Dember.cuda.skinnySplitK=false"
BENCH_TIMEOUT=120 VARIANTS="final|--warmup 32 --runs 3${QWEN2_AB:+;$QWEN2_AB}" $D/variants.sh qwen2-1.5b
grep "^qwen2-1.5b" $R/variants.txt >> $S; stage qwen2-1.5b
if [ -n "${PROFILE:-}" ]; then  # StepProfile: the decode GEMM table (each shape's winner against its floor), step profiles
  timeout -s KILL 100 $D/run.sh dev.ember.backend.cuda.StepProfile /tmp/bench-qwen2-1.5b/m 256 600 8 1024 ${PEAKS:-} > $REAL_OUT/profile.log 2>&1
  stage "profile rc=$?"
fi
BENCH_TIMEOUT=90 VARIANTS="final|--warmup 32 --runs 2" $D/variants.sh qwen3-0.6b; tail -1 $R/variants.txt >> $S
BENCH_TIMEOUT=90 VARIANTS="final|--warmup 32 --runs 2" $D/variants.sh llama3.2-1b; tail -1 $R/variants.txt >> $S; stage "qwen3, llama"
BENCH_TIMEOUT=120 VARIANTS="guided|--warmup 32 --runs 2 --guided-json $D/labeling-schema.json;timeline|--warmup 32 --runs 1|-Dember.cuda.timeline=true" $D/variants.sh qwen2-1.5b
tail -2 $R/variants.txt >> $S
grep -h "step timeline\|engine ready" $R/bench-qwen2-1.5b-timeline.log $R/bench-qwen2-1.5b-final.log | cut -c1-700 >> $S; stage "guided, timeline"
# the kernel benchmarks (engine/src/bench/cuda; run from the repository root, which the device call starts in)
timeout -s KILL 120 engine/src/bench/cuda/run_small_kernels_bench.sh $R > $R/small_kernels_bench.log 2>&1
grep sampling $R/small_kernels_bench.log >> $S
STAGES=2 timeout -s KILL 120 engine/src/bench/cuda/run_attention_bench.sh $R > $R/attention_bench.log 2>&1; stage "kernel benchmarks"
tar czf "$REAL_OUT/final.tgz" -C /tmp final
