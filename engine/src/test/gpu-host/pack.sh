#!/usr/bin/env bash
# Packs .device/ for a GPU-host call, from the project root (the device tool then carries ".device"): the engine's
# bundle (../shared/device/bundle.sh --tests --xz), the gpu-host scripts, the workload and schema, the Qwen tokenizer
# (tok.tar.xz) and DJL's native tokenizer library (djl.tar.xz), which bundle.sh does not add, and the wgmma prefill
# bench built here (.device/prefill_wgmma.xz; nvcc for sm_90a, so the host spends no time compiling; on the host:
# `xz -dc .device/prefill_wgmma.xz > /tmp/pw && chmod +x /tmp/pw && /tmp/pw`). The bundle's run.sh puts $EMBER_PRE_CP
# first on the class path when it is set.
# OVERLAY=BRANCH (or OVERLAY=engine/src/test/gpu-host/candidates/A.patch[,B.patch...]: those changes applied onto
# HEAD in order, see candidates/README.md) also builds that branch in a scratch clone (package only: ~/.m2 keeps
# this tree's jars) and puts its engine jar and test classes in .device/wg/ and its wgmma and attention benches in
# .device/wg/*.xz (not with OVERLAY_BENCHES=0; never its small-kernels bench: the carry would pass 64 MiB), so one
# call can run both:
#   EMBER_PRE_CP=$PWD/.device/wg/engine.jar:$PWD/.device/wg/test-classes .device/junit.sh SomeGpuTest
# WGMMA_FLAGS adds compiler flags to both wgmma bench builds. The small-kernels and attention benches are built too
# (sm_90); stages.sh (copied with the other scripts) runs any of them by name.
set -euo pipefail
[ -f engine/src/test/gpu-host/pack.sh ] || { echo "run from the project root" >&2; exit 2; }
binary() {  # SOURCE_ROOT BENCH OUTPUT.xz NVCC_FLAGS... (stripped and xz'd: 1.5 MB -> 0.25 MB of the call's 64 MiB)
  local b root=$1 name=$2 out=$3
  shift 3
  b=$(mktemp)
  if ! nvcc -std=c++17 -O3 "$@" -I "$root/engine/src/main/cuda" "$root/engine/src/bench/cuda/$name.cu" -o "$b" \
      > "$b.log" 2>&1; then
    cat "$b.log" >&2; exit 1
  fi
  strip "$b" && xz -9 -c "$b" > "$out" && rm -f "$b" "$b.log"
}
bench() {  # SOURCE_ROOT OUTPUT.xz: the wgmma prefill bench
  binary "$1" prefill_wgmma "$2" -gencode=arch=compute_90a,code=sm_90a ${WGMMA_FLAGS:-}
}
mvn -o -B -q install -DskipTests
../shared/device/bundle.sh --tests --xz
# (the workload is not copied: the scripts read bench/throughput-256.json of the tree the device tool carries too)
cp engine/src/test/gpu-host/{suite.sh,variants.sh,junit.sh,final.sh,stages.sh,prompts.json} bench/labeling-schema.json \
   .device/
tar cJf .device/tok.tar.xz -C ../shared/fixtures/qwen-tokenizer tokenizer.json tokenizer_config.json
djl=$(mktemp -d)
cp -r ~/.djl.ai "$djl/djl" && tar cJf .device/djl.tar.xz -C "$djl" djl && rm -rf "$djl"
sed -i 's#-cp "$lib/\*:$here/test-classes"#-cp "${EMBER_PRE_CP:+$EMBER_PRE_CP:}$lib/*:$here/test-classes"#' .device/run.sh
grep -q EMBER_PRE_CP .device/run.sh || { echo "bundle.sh's run.sh changed: EMBER_PRE_CP not applied" >&2; exit 1; }
bench . .device/prefill_wgmma.xz
# the kernel benchmarks for the GPU host's sm_90 (H100, H200), so its nvcc time is not device time (stages.sh kernels)
binary . small_kernels_bench .device/small_kernels_bench.xz -arch=sm_90
binary . attention_bench .device/attention_bench.xz -arch=sm_90 -DEMBER_DECODE_STAGES=2
# the split-K wgmma GEMM bench for the 129-256-row decode GEMMs (sm_90a; stages.sh gemm)
binary . gemm_splitk_bench .device/gemm_splitk_bench.xz -gencode=arch=compute_90a,code=sm_90a
# the gate/up GEMM with SwiGLU in its epilogue (sm_90a; stages.sh swiglu)
binary . gemm_swiglu_bench .device/gemm_swiglu_bench.xz -gencode=arch=compute_90a,code=sm_90a
# the split-K cluster GEMM for the decode projections (sm_90a; stages.sh clusterbench)
binary . gemm_cluster_bench .device/gemm_cluster_bench.xz -gencode=arch=compute_90a,code=sm_90a
# the L2 prefetch of the next GEMM's weight in a decode layer (stages.sh l2prefetch)
binary . l2_prefetch_bench .device/l2_prefetch_bench.xz -gencode=arch=compute_90a,code=sm_90a
rm -rf .device/wg  # a previous overlay's
if [ -n "${OVERLAY:-}" ]; then
  w=$(mktemp -d)
  git clone -q . "$w/tree"
  case "$OVERLAY" in
    *.patch) for p in ${OVERLAY//,/ }; do
               git -C "$w/tree" -c user.name=pack -c user.email=pack@localhost am -q "$PWD/$p"
             done ;;
    *) git -C "$w/tree" checkout -q "$OVERLAY" ;;
  esac
  (cd "$w/tree" && mvn -o -B -q package -DskipTests -pl engine -am)
  mkdir -p .device/wg
  cp "$w"/tree/engine/target/ember-engine-*-SNAPSHOT.jar .device/wg/engine.jar
  cp -r "$w/tree/engine/target/test-classes" .device/wg/test-classes
  if [ "${OVERLAY_BENCHES:-1}" = 1 ]; then  # OVERLAY_BENCHES=0: not these two (0.7 MB of the 64 MiB carry)
    bench "$w/tree" .device/wg/prefill_wgmma.xz
    binary "$w/tree" attention_bench .device/wg/attention_bench.xz -arch=sm_90 -DEMBER_DECODE_STAGES=2
  fi
  rm -rf "$w"
fi
kib=$(( ($(du -sb .device | cut -f1) + $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)) / 1024 ))
echo "pack: .device and the tree are $(( kib / 1024 )) MiB of the call's 64"
[ $kib -lt $(( 64 * 1024 - 256 )) ] || { echo "pack: over the device tool's 64 MiB carry; leave something out" >&2; exit 1; }
