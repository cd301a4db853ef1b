#!/usr/bin/env bash
# The whole path on a GPU: a local-mode Spark job sends prompts through EmberFunctions.generate() to the executor's
# CUDA engine, beside the same requests on a bare engine in the same JVM (SparkVsEngine: two engines on one GPU,
# default engine options), and prints Spark's and the engine's output tokens/s and their ratio (target >= 0.9).
#
#   bash scripts/spark-gpu-run.sh /path/to/checkpoint [extra SparkVsEngine / Ember options]
#
# Builds the examples jar, the connector's assembly and Spark's class path (the examples' provided scope), then runs
# as spark-submit would (local[2]). Defaults: 256 prompts, max_tokens 512, 3 timed rounds, device=cuda, greedy,
# EOS ignored. Output and a JSON line go to stdout; target/spark-gpu-run.log keeps everything.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: spark-gpu-run.sh CHECKPOINT_DIR [options]}
shift
mvn -q -B ${MVN_ARGS:-} -pl examples -am package -DskipTests dependency:build-classpath \
    -Dmdep.outputFile=target/provided-cp.txt -Dmdep.includeScope=provided
mkdir -p target
# Spark's jars only: Ember and its bundled dependencies come from the assembly
tr ':' '\n' < examples/target/provided-cp.txt | grep -v "/dev/ember/\|/ai/djl/\|/org/jcuda/\|/org/bytedeco/" \
    > target/spark-cp.txt
ARGLINE=$(sed -n 's:.*<ember.argLine>\(.*\)</ember.argLine>.*:\1:p' pom.xml)
CP=examples/target/ember-examples-0.1.0-SNAPSHOT.jar:spark-connector/target/ember-spark-0.1.0-SNAPSHOT-assembly.jar:$(paste -sd: target/spark-cp.txt)
# shellcheck disable=SC2086
java $ARGLINE -Dlog4j2.configurationFile=conf/log4j2.properties -cp "$CP" dev.ember.examples.SparkVsEngine \
    --model "$model" --device cuda --prompts 256 --max_tokens 512 --rounds 3 "$@" 2>&1 | tee target/spark-gpu-run.log
