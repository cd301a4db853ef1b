#!/usr/bin/env bash
# Builds the wgmma prefill bench with attn_prefill_wgmma64_hd128_bf16 (-DEMBER_WGMMA_TWO_BLOCKS=1: two resident
# blocks a SM, 64-row tiles) into a stripped, xz'd binary for a GPU host, as pack.sh's `binary` does, and refuses to
# produce one when ptxas reports a C75xx note (a serialized wgmma) or any spill / stack frame in either attention
# kernel. From the project root:
#   engine/src/bench/cuda/build_prefill_two_blocks.sh [OUTPUT.xz]   (default .device/prefill_two_blocks.xz)
# On the GPU host (H100 / H200):
#   xz -dc .device/prefill_two_blocks.xz > /tmp/pw2 && chmod +x /tmp/pw2 && /tmp/pw2
# Extra nvcc flags through WGMMA_FLAGS (e.g. -DEMBER_WGMMA_EARLY_KV=0).
set -euo pipefail
[ -f engine/src/bench/cuda/prefill_wgmma.cu ] || { echo "run from the project root" >&2; exit 2; }
out=${1:-.device/prefill_two_blocks.xz}
mkdir -p "$(dirname "$out")"
b=$(mktemp)
log=$b.log
trap 'rm -f "$b" "$log"' EXIT
if ! nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -Xptxas -v -DEMBER_WGMMA_TWO_BLOCKS=1 ${WGMMA_FLAGS:-} \
    -I engine/src/main/cuda engine/src/bench/cuda/prefill_wgmma.cu -o "$b" > "$log" 2>&1; then
  cat "$log" >&2; exit 1
fi
# ptxas prints each entry's figures after its "Compiling entry function" line; C7513 / C7519 / C7520 are the
# wgmma serialization notes
if grep -E 'C75[0-9][0-9]' "$log" >&2; then
  echo "build_prefill_two_blocks: ptxas serialized wgmma (C75xx above): no binary" >&2; exit 1
fi
for k in attn_prefill_wgmma_hd128_bf16 attn_prefill_wgmma64_hd128_bf16; do
  props=$(grep -A3 "Compiling entry function '$k'" "$log" || true)
  [ -n "$props" ] || { echo "build_prefill_two_blocks: no ptxas figures for $k" >&2; cat "$log" >&2; exit 1; }
  echo "$props" | grep -E 'stack frame|registers' | sed "s/^/$k: /"
  if ! echo "$props" | grep -q '0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads'; then
    echo "build_prefill_two_blocks: $k spills or has a stack frame: no binary" >&2; exit 1
  fi
done
strip "$b" && xz -9 -c "$b" > "$out"
echo "build_prefill_two_blocks: $out ($(stat -c %s "$out") bytes)"
