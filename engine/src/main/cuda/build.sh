#!/usr/bin/env bash
# Compiles Ember's CUDA kernels into one fatbin (cubins for sm_80, sm_86, sm_89, sm_90 and PTX for
# compute_80, which newer GPUs JIT-compile), written where the jar picks it up as a resource, and beside it
# ember_kernels_sm90a.fatbin: the Hopper-only kernels of ember_kernels_sm90a.cu (the wgmma prefill attention and the
# fused gate/up + SwiGLU GEMM: wgmma and TMA exist only on sm_90a, so they cannot share the portable image; the engine
# loads this one only on a compute capability 9 GPU).
# Run by the engine's Maven build (process-resources). Without nvcc it prints why and skips: the engine then
# compiles the sources the jar carries with NVRTC at first use (backend.cuda.KernelImage), without the sm_90a
# kernels. NVCC overrides the compiler (default: nvcc on the PATH, then /usr/local/cuda/bin/nvcc); NVCC=none
# builds without a fatbin, as a machine without nvcc does.
#
#   build.sh SOURCE_DIR OUTPUT_FATBIN
set -euo pipefail
src=$1 out=$2
out90a=$(dirname "$out")/ember_kernels_sm90a.fatbin
nvcc=${NVCC:-$(command -v nvcc || true)}
[ -n "$nvcc" ] || { [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc; }
if [ -z "$nvcc" ] || [ "$nvcc" = none ]; then
  rm -f "$out" "$out90a"
  echo "[ember] nvcc not found or NVCC=none: no fatbin built; device=cuda compiles the kernels with NVRTC at first use"
  exit 0
fi
# whether $1 is missing or older than a kernel source or this script
stale() {
  [ ! -f "$1" ] || [ -n "$(find "$src" -newer "$1" \( -name '*.cu' -o -name '*.cuh' -o -name build.sh \) | head -1)" ]
}
mkdir -p "$(dirname "$out")"
if stale "$out"; then
  echo "[ember] compiling CUDA kernels with $nvcc -> $out"
  "$nvcc" -std=c++17 -O3 -fatbin -o "$out.tmp" \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_86,code=sm_86 \
    -gencode arch=compute_89,code=sm_89 -gencode arch=compute_90,code=sm_90 \
    -gencode arch=compute_80,code=compute_80 \
    "$src/ember_kernels.cu"
  mv "$out.tmp" "$out"
else
  echo "[ember] CUDA kernels up to date: $out"
fi
if stale "$out90a"; then
  echo "[ember] compiling the sm_90a kernels with $nvcc -> $out90a"
  # An nvcc older than CUDA 12 has no sm_90a: the engine then keeps attn_prefill_tc on Hopper too, so that is a
  # message, not a build failure.
  if "$nvcc" -std=c++17 -O3 -fatbin -o "$out90a.tmp" -gencode arch=compute_90a,code=sm_90a \
      "$src/ember_kernels_sm90a.cu"; then
    mv "$out90a.tmp" "$out90a"
  else
    rm -f "$out90a.tmp" "$out90a"
    echo "[ember] $nvcc cannot compile for sm_90a (CUDA 12 or later needed): no wgmma kernels in this build"
  fi
else
  echo "[ember] sm_90a kernels up to date: $out90a"
fi
