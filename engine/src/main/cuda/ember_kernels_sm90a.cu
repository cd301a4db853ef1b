// The sm_90a image (build.sh -> ember_kernels_sm90a.fatbin): the kernels that use Hopper-only instructions (wgmma,
// TMA, setmaxnreg), which the portable fatbin and NVRTC's build cannot hold. The engine loads it only on a compute
// capability 9 GPU (Sm90aImage.openOn).
#include "attention_prefill_wgmma.cu"
#include "gemm_swiglu_wgmma.cu"
#include "gemm_cluster_wgmma.cu"
