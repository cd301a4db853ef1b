#!/usr/bin/env bash
# Kernel A/B in one device call: builds the attention and small-kernel benchmarks twice, from the working tree's
# kernels and from another version's (BASE: a directory holding that version's engine/src/main/cuda files, e.g.
# `git archive main engine/src/main/cuda | tar x --strip-components=4 -C ab-base/` beside the tree, untracked, so the
# device tool copies it), plus any -D variants of the working tree, and runs each benchmark mode on every build in
# turn. Quoted includes search the -I directories in order, so BASE's sources win for the base build.
#
#   BASE=ab-base [VARIANTS="s16:-DEMBER_PREFILL_STEP=16 ..."] [MODES="prefill decode-mixed"] \
#     engine/src/bench/cuda/kernel_ab.sh OUTDIR
# VARIANTS: space-separated NAME:FLAGS, commas between a variant's flags (w32mf:-DA=1,-DB=2). The prefill variants:
#   VARIANTS="mf:-DEMBER_PREFILL_MASKFREE=1 w32:-DEMBER_PREFILL_WARP_ROWS=32
#             w32mf:-DEMBER_PREFILL_WARP_ROWS=32,-DEMBER_PREFILL_MASKFREE=1" MODES=prefill
# Prints one line per case, prefixed by the build's name (base, new, then each variant's), to OUTDIR/kernel_ab.txt.
set -uo pipefail
out=${1:-/tmp}
arch=${ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)}
nv="nvcc -std=c++17 -O3 -arch=sm_$arch"
build() {  # name, bench (attention | small_kernels), extra flags...
  local name=$1 bench=$2; shift 2
  $nv "$@" -I engine/src/main/cuda engine/src/bench/cuda/${bench}_bench.cu -o /tmp/kab_${bench}_$name \
    > /tmp/kab_${bench}_$name.log 2>&1 || echo "build $name ($bench) failed: $(tail -3 /tmp/kab_${bench}_$name.log)"
}
for b in attention small_kernels; do
  [ -n "${BASE:-}" ] && build base $b -I "$BASE" &
  build new $b &
  for v in ${VARIANTS:-}; do f=${v#*:}; build "${v%%:*}" $b ${f//,/ } & done
  wait
done
names=(); [ -n "${BASE:-}" ] && names+=(base); names+=(new); for v in ${VARIANTS:-}; do names+=("${v%%:*}"); done
for mode in ${MODES:-prefill decode-mixed small}; do
  for n in "${names[@]}"; do
    if [ "$mode" = small ]; then cmd=(/tmp/kab_small_kernels_$n); else cmd=(/tmp/kab_attention_$n $mode); fi
    [ -x "${cmd[0]}" ] && timeout 60 "${cmd[@]}" 2>&1 | grep -E "^(prefill|decode|sampling|rope|silu|add_rmsnorm|rmsnorm)" | sed "s/^/$n /"
  done
done | tee "$out/kernel_ab.txt"
