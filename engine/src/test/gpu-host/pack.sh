#!/usr/bin/env bash
# Packs .device/ for a GPU-host call, from the project root (the device tool then carries ".device"): the engine's
# bundle (../shared/device/bundle.sh --tests --xz), the gpu-host scripts, the workload and schema, the Qwen tokenizer
# (tok.tar.xz) and DJL's native tokenizer library (djl.tar.xz), which bundle.sh does not add, and the wgmma prefill
# bench built here (.device/prefill_wgmma.xz; nvcc for sm_90a, so the host spends no time compiling; on the host:
# `xz -dc .device/prefill_wgmma.xz > /tmp/pw && chmod +x /tmp/pw && /tmp/pw`). The bundle's run.sh puts $EMBER_PRE_CP
# first on the class path when it is set.
# OVERLAY=BRANCH also builds that branch in a scratch clone (package only: ~/.m2 keeps this tree's jars) and puts its
# engine jar and test classes in .device/wg/ and its bench in .device/wg/prefill_wgmma.xz, so one call can run both:
#   EMBER_PRE_CP=$PWD/.device/wg/engine.jar:$PWD/.device/wg/test-classes .device/junit.sh SomeGpuTest
# WGMMA_FLAGS adds compiler flags to both bench builds.
set -euo pipefail
[ -f engine/src/test/gpu-host/pack.sh ] || { echo "run from the project root" >&2; exit 2; }
bench() {  # SOURCE_ROOT OUTPUT.xz (stripped and xz'd: 1.5 MB -> 0.25 MB of the call's 64 MiB)
  local b
  b=$(mktemp)
  nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a ${WGMMA_FLAGS:-} -I "$1/engine/src/main/cuda" \
    "$1/engine/src/bench/cuda/prefill_wgmma.cu" -o "$b"
  strip "$b" && xz -9 -c "$b" > "$2" && rm -f "$b"
}
mvn -o -B -q install -DskipTests
../shared/device/bundle.sh --tests --xz
cp engine/src/test/gpu-host/{suite.sh,variants.sh,junit.sh,final.sh,prompts.json} bench/throughput-256.json \
   bench/labeling-schema.json .device/
tar cJf .device/tok.tar.xz -C ../shared/fixtures/qwen-tokenizer tokenizer.json tokenizer_config.json
djl=$(mktemp -d)
cp -r ~/.djl.ai "$djl/djl" && tar cJf .device/djl.tar.xz -C "$djl" djl && rm -rf "$djl"
sed -i 's#-cp "$lib/\*:$here/test-classes"#-cp "${EMBER_PRE_CP:+$EMBER_PRE_CP:}$lib/*:$here/test-classes"#' .device/run.sh
grep -q EMBER_PRE_CP .device/run.sh || { echo "bundle.sh's run.sh changed: EMBER_PRE_CP not applied" >&2; exit 1; }
bench . .device/prefill_wgmma.xz
if [ -n "${OVERLAY:-}" ]; then
  w=$(mktemp -d)
  git clone -q . "$w/tree" && git -C "$w/tree" checkout -q "$OVERLAY"
  (cd "$w/tree" && mvn -o -B -q package -DskipTests -pl engine -am)
  rm -rf .device/wg && mkdir -p .device/wg
  cp "$w"/tree/engine/target/ember-engine-*-SNAPSHOT.jar .device/wg/engine.jar
  cp -r "$w/tree/engine/target/test-classes" .device/wg/test-classes
  bench "$w/tree" .device/wg/prefill_wgmma.xz
  rm -rf "$w"
fi
echo "pack: .device and the tree are $(( ($(du -sb .device | cut -f1) + $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)) / 1048576 )) MiB of the call's 64"
