// The one translation unit nvcc compiles into ember_kernels.fatbin (see build.sh); each family lives in
// its own file.
#include "embedding.cu"
#include "rmsnorm.cu"
#include "rope.cu"
#include "activation.cu"
#include "attention_prefill.cu"
#include "attention_decode.cu"
#include "attention_paged.cu"
#include "sampling.cu"
#include "finite.cu"
#include "gemm_skinny.cu"
