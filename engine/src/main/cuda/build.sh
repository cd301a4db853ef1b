#!/usr/bin/env bash
# Compiles Ember's CUDA kernels into one fatbin (cubins for sm_80, sm_86, sm_89, sm_90 and PTX for
# compute_80, which newer GPUs JIT-compile), written where the jar picks it up as a resource.
# Run by the engine's Maven build (process-resources). Without nvcc it prints why and skips: the engine then
# compiles the sources the jar carries with NVRTC at first use (backend.cuda.KernelImage). NVCC overrides the
# compiler (default: nvcc on the PATH, then /usr/local/cuda/bin/nvcc); NVCC=none builds without a fatbin, as a
# machine without nvcc does.
#
#   build.sh SOURCE_DIR OUTPUT_FATBIN
set -euo pipefail
src=$1 out=$2
nvcc=${NVCC:-$(command -v nvcc || true)}
[ -n "$nvcc" ] || { [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc; }
if [ -z "$nvcc" ] || [ "$nvcc" = none ]; then
  rm -f "$out"
  echo "[ember] nvcc not found or NVCC=none: no fatbin built; device=cuda compiles the kernels with NVRTC at first use"
  exit 0
fi
if [ -f "$out" ] && [ -z "$(find "$src" -newer "$out" \( -name '*.cu' -o -name '*.cuh' -o -name build.sh \) | head -1)" ]; then
  echo "[ember] CUDA kernels up to date: $out"
  exit 0
fi
mkdir -p "$(dirname "$out")"
echo "[ember] compiling CUDA kernels with $nvcc -> $out"
"$nvcc" -std=c++17 -O3 -fatbin -o "$out.tmp" \
  -gencode arch=compute_80,code=sm_80 -gencode arch=compute_86,code=sm_86 \
  -gencode arch=compute_89,code=sm_89 -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_80,code=compute_80 \
  "$src/ember_kernels.cu"
mv "$out.tmp" "$out"
