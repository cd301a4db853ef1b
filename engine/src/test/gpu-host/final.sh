#!/usr/bin/env bash
# Final main on the GPU host: every gpu-tagged test, HfParityTest, throughput on three checkpoints, guided JSON,
# the step timeline. Outputs in $OUT/final.tgz.
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd); R=/tmp/final; rm -rf $R; mkdir -p $R
REAL_OUT=${OUT:-/tmp/out}; export OUT=$R
STAGES=unit,parity UNIT_TIMEOUT=260 PARITY_TIMEOUT=120 $D/suite.sh
grep -E "tests (successful|failed|aborted)" $R/unit.log $R/parity.log >> $R/summary.txt
grep -B2 -A12 "✘" $R/unit.log $R/parity.log | head -60 >> $R/summary.txt
BENCH_TIMEOUT=120 VARIANTS="final|--warmup 32 --runs 3;guided|--warmup 32 --runs 2 --guided-json $D/labeling-schema.json;timeline|--warmup 32 --runs 1|-Dember.cuda.timeline=true" $D/variants.sh qwen2-1.5b
BENCH_TIMEOUT=90 VARIANTS="final|--warmup 32 --runs 2" $D/variants.sh qwen3-0.6b
BENCH_TIMEOUT=90 VARIANTS="final|--warmup 32 --runs 2" $D/variants.sh llama3.2-1b
cat $R/variants.txt >> $R/summary.txt
# the kernel benchmarks (engine/src/bench/cuda; run from the repository root, which the device call starts in)
STAGES=2 timeout -s KILL 120 engine/src/bench/cuda/run_attention_bench.sh $R > $R/attention_bench.log 2>&1
timeout -s KILL 120 engine/src/bench/cuda/run_small_kernels_bench.sh $R > $R/small_kernels_bench.log 2>&1
tail -40 $R/small_kernels_bench.log >> $R/summary.txt
grep -h "step timeline\|engine ready" $R/bench-qwen2-1.5b-timeline.log $R/bench-qwen2-1.5b-final.log | cut -c1-700 >> $R/summary.txt
tar czf "$REAL_OUT/final.tgz" -C /tmp final
