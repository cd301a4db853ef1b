#!/usr/bin/env bash
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd)
tar xJf $D/djl.tar.xz -C /tmp; export DJL_CACHE_DIR=/tmp/djl ENGINE_CACHE_DIR=/tmp/djl RUST_FLAVOR=cpu
M=/tmp/bench-qwen2-1.5b/m
[ -f $M/config.json ] || { mkdir -p $M && python3 $D/make_model.py qwen2-1.5b $M > /dev/null 2>&1 && tar xJf $D/tok.tar.xz -C $M; }
timeout -s KILL 90 $D/run.sh dev.ember.cli.Benchmark --model $M --workload $D/throughput-256.json --device cuda --warmup 32 --runs 2 2>&1 | grep -E "^run [0-9]|engine ready|load seconds" | cut -c1-600
