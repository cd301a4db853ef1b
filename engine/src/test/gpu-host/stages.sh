#!/usr/bin/env bash
# GPU host: named stages, run in the order given, each appending its result lines and its end time to
# $OUT/stages.txt, so a call cut short (or killed at its limit) still brings back every stage that finished; the logs
# go to $OUT/stages-logs.tgz after each stage. A short call picks what it needs, e.g.
#   .device/stages.sh kbench,q2,q2wg,unit        (a kernel branch: its bench, throughput A/B, the gpu tests)
# Stages:
#   kbench         the wgmma prefill bench pack.sh built (main's .device/prefill_wgmma.xz; the overlay's too when
#                  .device/wg/ has one): self-tests, checks and timings
#   kernels        the small-kernels and attention benches pack.sh built for sm_90 (item 2's byte and copy floors),
#                  then the overlay's attention bench
#   gemm           gemm_splitk_bench (pack.sh builds it): the split-K wgmma GEMM's checks and timings on the decode shapes
#   swiglu         gemm_swiglu_bench (pack.sh builds it): the gate/up GEMM with SwiGLU in its epilogue against cuBLAS +
#                  silu_mul, 1 to 4,096 rows, three checkpoints' shapes
#   q2, q3, llama  throughput-256 `--warmup 32 --runs 3` on qwen2-1.5b, qwen3-0.6b, llama3.2-1b (variants.sh)
#   q2wg, q3wg     the same on the overlay's engine (OVERLAY=BRANCH pack.sh), for an A/B on one machine
#   q2ab, q3ab, llamaab  the same, with the JVM options $AB_ON ("new") and $AB_OFF ("off"; -D switches, one may be
#                  empty: as built), in one variants.sh run
#   clusterbench   gemm_cluster_bench (pack.sh builds it): every split-K cluster GEMM variant against cuBLAS on the
#                  QKV, o and down shapes of three checkpoints, 1 to 256 rows, eager and in a CUDA graph
#   clusterncu     Nsight Compute (SpeedOfLight, WarpStateStats, MemoryWorkloadAnalysis) on every cluster variant and
#                  cuBLAS's kernel for Qwen2's down and o projections at 256 rows (NCU_ROWS, NCU_SHAPES change them)
#   swigluncu      Nsight Compute (the same sections) on the fused gate/up kernel's tiles and on cuBLAS's GEMM + silu_mul
#                  at Qwen2-1.5B's 256 rows (NCU_ROWS changes them), where the kernel is at 63 % of its floor
#   l2prefetch     l2_prefetch_bench (pack.sh builds it): a decode layer (norm, qkv, attention's stand-in: a stream and a
#                  split merge, o, norm, gate/up, silu_mul, down; cuBLAS) in a CUDA graph, the small kernels asking L2
#                  for the next GEMM's weight or not; us a layer at 1-256 rows, three checkpoints' shapes, every
#                  variant's output bit-identical to the plain run's
#   cluster        the split-K cluster GEMMs (in the race by default): ClusterGemmGpuTest, then StepProfile with them entered in
#                  the race (-Dember.cuda.clusterGemm=true) and without; pair with AB_ON=-Dember.cuda.clusterGemm=true q2ab
#   unit, unitwg   every gpu-tagged test on main's engine / on the overlay's
#   parity         HfParityTest (the transformers references are written by torch on the GPU first, ~2.5 min)
#   paritywg       the same on the overlay's engine
#   guided         qwen2-1.5b with --guided-json, then a run with the step timeline (the GPU's idle time between steps)
#   profile        StepProfile: decode 256 x 600, prefill 8 x 1,024, the decode GEMM table, floors at the ceilings it measures (PEAKS="TFLOPS GBS" replaces them)
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; S=$OUT/stages.txt; R=/tmp/stages; mkdir -p $R
WG="EMBER_PRE_CP=$D/wg/engine.jar:$D/wg/test-classes"
t0=$(date +%s); done_at() { echo "-- $1 done at $(( $(date +%s) - t0 )) s" >> $S; }
counts() { grep -E "tests (successful|failed|aborted)" $1 >> $S; grep -B2 -A12 "✘" $1 | head -60 >> $S; }
throughput() {  # NAME ARCH RUNS [wg]: with a fourth argument, the overlay's engine first on the class path
  env ${4:+$WG} OUT=$R BENCH_TIMEOUT=150 VARIANTS="$1|--warmup 32 --runs $3" $D/variants.sh $2
  tail -1 $R/variants.txt >> $S
  # item 7's parts: the engine's and the CUDA backend's start, from the ready line
  grep -ho "engine ready in [0-9.]* s ([^)]*)\|weights were handed over ([^)]*)" $R/bench-$2-$1.log 2>/dev/null | head -2 >> $S
}
unxz_run() {  # XZ NAME [ARGS...]: a bench binary pack.sh built here (killed after $KILL_S seconds, default 90)
  local x=$1 n=$2; shift 2
  xz -dc $x > /tmp/$n && chmod +x /tmp/$n && timeout -s KILL ${KILL_S:-90} /tmp/$n "$@" > $R/$n.log 2>&1
  echo "== $n rc=$?" >> $S
}
step_profile() {  # NAME [JVM OPTIONS]: StepProfile of qwen2-1.5b (variants.sh's checkpoint, made here when no throughput
  # stage came first) into $R/NAME.log
  local m=/tmp/bench-qwen2-1.5b/m
  [ -f $m/config.json ] || { python3 $D/make_model.py qwen2-1.5b $m > $R/make.log 2>&1 && tar xJf $D/tok.tar.xz -C $m; }
  JAVA_OPTS="${2:-${JAVA_OPTS:-}}" timeout -s KILL 100 $D/run.sh dev.ember.backend.cuda.StepProfile $m 256 600 8 1024 \
    ${PEAKS:-} > $R/$1.log 2>&1; echo "$1 rc=$?" >> $S
}
ncu_bench() {  # BENCH KERNEL_REGEX NAME (ncu's -k regex:): Nsight Compute (speed of light, warp stalls, memory, pipes) on one checked launch of each
  # case of a bench pack.sh built (its PROFILE=1 mode), Qwen2-1.5B's shapes; the headline figures into stages.txt
  xz -dc $D/$1.xz > /tmp/$1 && chmod +x /tmp/$1
  local ncu; ncu=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
  timeout -s KILL 300 $ncu --clock-control none -k regex:"$2" --section SpeedOfLight --section WarpStateStats \
    --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis --section LaunchStats /tmp/$1 qwen2 > $R/$3.log 2>&1
  echo "$3 rc=$?" >> $S
  grep -E "^ +[A-Za-z_0-9]+.*\(|Duration|Compute \(SM\) Throughput|DRAM Throughput|L2 Cache Throughput|Warp Cycles Per Issued|Grid Size|Block Size|PASS|FAIL" \
    $R/$3.log >> $S
}
tar xJf $D/djl.tar.xz -C /tmp; export DJL_CACHE_DIR=/tmp/djl ENGINE_CACHE_DIR=/tmp/djl RUST_FLAVOR=cpu
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >> $S 2>&1
IFS=',' read -ra stages <<< "${1:?usage: stages.sh STAGE[,STAGE...]}"
for s in "${stages[@]}"; do
  case $s in
    kbench)
      unxz_run $D/prefill_wgmma.xz prefill_wgmma; grep -v "^selftest .*PASS" $R/prefill_wgmma.log >> $S
      if [ -f $D/wg/prefill_wgmma.xz ]; then
        unxz_run $D/wg/prefill_wgmma.xz prefill_wgmma_wg; grep -v "^selftest .*PASS" $R/prefill_wgmma_wg.log >> $S
      fi;;
    kernels)
      unxz_run $D/small_kernels_bench.xz small_kernels_bench; grep -E "rows +(256|8192)" $R/small_kernels_bench.log >> $S
      for w in "" wg/; do
        [ -f $D/${w}attention_bench.xz ] || continue
        unxz_run $D/${w}attention_bench.xz attention_bench${w%/}; grep -E "^decode|^prefill" $R/attention_bench${w%/}.log | head -30 >> $S
      done;;
    gemm) unxz_run $D/gemm_splitk_bench.xz gemm_splitk_bench; head -40 $R/gemm_splitk_bench.log >> $S;;
    swiglu) KILL_S=200 unxz_run $D/gemm_swiglu_bench.xz gemm_swiglu_bench; cat $R/gemm_swiglu_bench.log >> $S;;
    l2prefetch) KILL_S=150 unxz_run $D/l2_prefetch_bench.xz l2_prefetch_bench; cat $R/l2_prefetch_bench.log >> $S;;
    clusterbench) KILL_S=200 unxz_run $D/gemm_cluster_bench.xz gemm_cluster_bench; cat $R/gemm_cluster_bench.log >> $S;;
    clusterncu)  # Nsight Compute on each cluster variant and cuBLAS's kernel, one launch each, for the 128-256-row loss
      PROFILE=1 ROWS=${NCU_ROWS:-256} SHAPES=${NCU_SHAPES:-down,o} ncu_bench gemm_cluster_bench '^(gemm_cluster|nvjet|sm90_|cutlass|gemv|splitK)' clusterncu;;
    swigluncu)  # the same on the fused gate/up kernel and cuBLAS + silu_mul
      PROFILE=1 ROWS=${NCU_ROWS:-256} ncu_bench gemm_swiglu_bench '^(gemm_swiglu|nvjet|sm90_|cutlass)|silu_mul_ref' swigluncu;;  # silu_mul_ref: in an anonymous namespace
    q2) throughput main qwen2-1.5b 3;;
    q3) throughput main qwen3-0.6b 3;;
    llama) throughput main llama3.2-1b 3;;
    q2wg) throughput wg qwen2-1.5b 3 wg;;
    q2ab|q3ab|llamaab)
      a=${s%ab}; a=${a/q2/qwen2-1.5b}; a=${a/q3/qwen3-0.6b}; a=${a/llama/llama3.2-1b}
      [ -n "${AB_ON:-}${AB_OFF:-}" ] || { echo "$s: set AB_ON or AB_OFF (the -D switch)" >> $S; continue; }
      OUT=$R BENCH_TIMEOUT=200 VARIANTS="new|--warmup 32 --runs 3|${AB_ON:-};off|--warmup 32 --runs 3|${AB_OFF:-}" \
        $D/variants.sh $a
      tail -2 $R/variants.txt >> $S
      grep -ho "gate/up + SwiGLU fused[^,]*\|split-K cluster GEMMs[^,]*\|captured in [0-9]* ms (GEMM tuning [0-9]* ms\|a [0-9]*-row decode step's GEMMs [^;]*" \
        $R/bench-$a-*.log >> $S;;
    cluster)
      timeout -s KILL 150 $D/junit.sh ClusterGemmGpuTest > $R/cluster-tests.log 2>&1; echo "ClusterGemmGpuTest rc=$?" >> $S
      counts $R/cluster-tests.log
      for on in true false; do
        step_profile profile-cluster-$on -Dember.cuda.clusterGemm=$on
        awk '/^decode GEMMs/ {on = 1; print; next} on && /^ / {print; next} {on = 0}' $R/profile-cluster-$on.log >> $S
      done;;
    q3wg) throughput wg qwen3-0.6b 3 wg;;
    unit) OUT=$R STAGES=unit UNIT_TIMEOUT=240 $D/suite.sh; mv $R/unit.log $R/unit-main.log; counts $R/unit-main.log;;
    unitwg)  # scans the overlay's test classes (gpu-tests.sh scans the bundle's, which lack a branch's new test classes)
      env $WG timeout -s KILL 240 $D/run.sh org.junit.platform.console.ConsoleLauncher execute --disable-banner \
        --scan-classpath $D/wg/test-classes --include-tag gpu --details=tree > $R/unit-wg.log 2>&1
      counts $R/unit-wg.log;;
    parity) OUT=$R STAGES=parity PARITY_TIMEOUT=150 $D/suite.sh; counts $R/parity.log;;
    paritywg) env $WG OUT=$R STAGES=parity PARITY_TIMEOUT=150 $D/suite.sh; mv $R/parity.log $R/parity-wg.log
      counts $R/parity-wg.log;;
    guided)
      OUT=$R BENCH_TIMEOUT=120 VARIANTS="guided|--warmup 32 --runs 2 --guided-json $D/labeling-schema.json;timeline|--warmup 32 --runs 1|-Dember.cuda.timeline=true" $D/variants.sh qwen2-1.5b
      tail -2 $R/variants.txt >> $S; grep -h "step timeline" $R/bench-qwen2-1.5b-timeline.log | cut -c1-700 >> $S;;
    profile) step_profile profile;;
    *) echo "unknown stage $s" >> $S; continue;;
  esac
  done_at $s
  tar czf $OUT/stages-logs.tgz -C /tmp stages 2>/dev/null
done
