#!/usr/bin/env bash
# GPU-host run: kernel/sampler/backend tests, HF parity on make_model checkpoints, throughput benchmark.
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
P=/tmp/parity
mkdir -p $P
STAGES=${STAGES:-unit,parity,bench}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/summary.txt 2>&1
tar xJf $D/djl.tar.xz -C /tmp; export DJL_CACHE_DIR=/tmp/djl ENGINE_CACHE_DIR=/tmp/djl RUST_FLAVOR=cpu
if [[ $STAGES == *parity* ]]; then
  ( for a in qwen2-1.5b qwen3-0.6b llama3.2-1b; do
      mkdir -p $P/$a && python3 $D/make_model.py $a $P/$a/model && cp $D/prompts.json $P/$a/ || continue
      for d in float32 bfloat16; do
        if [ -f $D/refs/$a/ref-$d.json ]; then cp $D/refs/$a/ref-$d.json $P/$a/;
        else python3 $D/hf_reference.py $P/$a/model $P/$a/prompts.json $P/$a/ref-$d.json --dtype $d; fi
      done
    done ) > $OUT/hf.log 2>&1 &
  HF=$!
fi
if [[ $STAGES == *unit* ]]; then
  # every test tagged gpu (gpu-tests.sh, from bundle.sh), or the classes named in UNIT_CLASSES
  if [ -n "${UNIT_CLASSES:-}" ]; then
    timeout -s KILL ${UNIT_TIMEOUT:-150} $D/junit.sh $UNIT_CLASSES > $OUT/unit.log 2>&1
  elif [[ $STAGES == *parity* ]]; then
    # TwoEnginesOneGpuTest plans from the GPU's free memory, which the transformers references (torch, on the same
    # GPU, in the background) take and give back meanwhile: it runs alone once they are written
    timeout -s KILL ${UNIT_TIMEOUT:-300} $D/gpu-tests.sh --exclude-classname '.*TwoEnginesOneGpuTest' > $OUT/unit.log 2>&1
    echo "unit rc=$?" >> $OUT/summary.txt
    wait $HF
    timeout -s KILL 60 $D/junit.sh TwoEnginesOneGpuTest > $OUT/unit-alone.log 2>&1
  else
    timeout -s KILL ${UNIT_TIMEOUT:-300} $D/gpu-tests.sh > $OUT/unit.log 2>&1
  fi
  echo "unit rc=$?" >> $OUT/summary.txt
fi
if [[ $STAGES == *parity* ]]; then
  wait $HF
  EMBER_HF_PARITY=$P timeout -s KILL ${PARITY_TIMEOUT:-150} $D/junit.sh HfParityTest > $OUT/parity.log 2>&1
  echo "parity rc=$?" >> $OUT/summary.txt
  rm -rf $P
fi
if [[ $STAGES == *bench* ]]; then
  B=/tmp/bench; mkdir -p $B
  python3 $D/make_model.py qwen2-1.5b $B/m > $OUT/bench.log 2>&1 && tar xJf $D/tok.tar.xz -C $B/m
  timeout -s KILL ${BENCH_TIMEOUT:-150} "$D/run.sh" dev.ember.cli.Benchmark --model $B/m --workload $D/../bench/throughput-256.json --device cuda ${BENCH_ARGS:-} >> $OUT/bench.log 2>&1 &
  BP=$!
  while kill -0 $BP 2>/dev/null; do nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader >> $OUT/gpumem.txt 2>&1; sleep 2; done
  wait $BP; echo "bench rc=$?" >> $OUT/summary.txt
  if [[ $STAGES == *profile* ]]; then
    timeout -s KILL 100 "$D/run.sh" dev.ember.backend.cuda.StepProfile $B/m 256 600 8 1024 ${PEAKS:-} > $OUT/profile.log 2>&1
    echo "profile rc=$?" >> $OUT/summary.txt
  fi
fi
