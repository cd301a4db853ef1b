#!/usr/bin/env bash
# One launch of one kernel under Nsight Compute (the sections that say what limits it: speed of light, occupancy,
# launch, warp states, scheduler, memory, instruction mix), with the GPU's own clocks as the device tool requires.
#
#   engine/src/bench/cuda/profile_kernel.sh OUTFILE KERNEL_REGEX SKIP COMMAND...
# e.g. profile_kernel.sh $OUT/decode.txt attn_decode_tc_hd128 1 /tmp/ab decode 256 1024   (skip the check launch)
set -uo pipefail
out=$1 kernel=$2 skip=$3; shift 3
ncu --clock-control none -k "regex:$kernel" --launch-skip "$skip" --launch-count 1 \
  --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
  --section SchedulerStats --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis \
  --section InstructionStats --section SourceCounters \
  --metrics l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum,smsp__inst_executed_op_ldsm.sum,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active \
  "$@" > "$out" 2>&1
echo "ncu $kernel: rc=$? -> $out"
