#!/usr/bin/env bash
# GPU host: the throughput benchmark in several variants on one checkpoint, one line each in $OUT/variants.txt.
# Usage: VARIANTS="name|args[|jvm options];..." .device/variants.sh [ARCH=qwen2-1.5b]
# e.g. VARIANTS="new|--warmup 32 --runs 3;nosplit|--warmup 32 --runs 3|-Dember.cuda.samplerSplit=false" (A/B in one call)
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
arch=${1:-qwen2-1.5b}
B=/tmp/bench-$arch
tar xJf $D/djl.tar.xz -C /tmp; export DJL_CACHE_DIR=/tmp/djl ENGINE_CACHE_DIR=/tmp/djl RUST_FLAVOR=cpu
# The Qwen tokenizer fixture decodes every checkpoint's ids (the workload is token ids); a Llama checkpoint keeps
# its own EOS ids (config.json), not Qwen's tokenizer_config eos (151645, outside Llama's 128,256 ids).
[ -f $B/m/config.json ] || { mkdir -p $B && python3 $D/make_model.py $arch $B/m > $OUT/make-$arch.log 2>&1 && tar xJf $D/tok.tar.xz -C $B/m \
  && case $arch in llama*) rm -f $B/m/tokenizer_config.json;; esac; }
IFS=';' read -ra list <<< "${VARIANTS:-default|--warmup 32 --runs 3}"
for v in "${list[@]}"; do
  IFS='|' read -r name args jvm <<< "$v"
  JAVA_OPTS="${jvm:-${JAVA_OPTS:-}}" timeout -s KILL ${BENCH_TIMEOUT:-200} "$D/run.sh" dev.ember.cli.Benchmark --model $B/m --workload $D/../bench/throughput-256.json \
      --device cuda $args > $OUT/bench-$arch-$name.log 2>&1
  echo "$arch $name ($args${jvm:+ | $jvm}): rc=$? $(grep -E '^run [0-9]' $OUT/bench-$arch-$name.log | tr '\n' ' ') | $(grep -E '^load seconds' $OUT/bench-$arch-$name.log)" >> $OUT/variants.txt
done
