#!/usr/bin/env bash
# Runs the Spark connector's tests against each supported Spark line: 4.0, 4.1 and 4.2 (one source tree, the Maven
# profiles spark-4.0 / spark-4.1 / spark-4.2 of the root pom; the default build is 4.2).
#   bash scripts/spark-versions.sh            all three
#   bash scripts/spark-versions.sh 4.0 4.1    some
# Extra Maven arguments go in MVN_ARGS (e.g. MVN_ARGS=-o for an offline machine whose repository has the three).
# Prints one line per version and exits non-zero if any failed; each version's log is in target/spark-versions/.
set -u
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(4.0 4.1 4.2)
mkdir -p target/spark-versions
status=0
summary=()
for v in "${versions[@]}"; do
  log="target/spark-versions/spark-$v.log"
  start=$(date +%s)
  # engine tests do not depend on Spark: run the connector's (and the examples') only; -am builds the engine
  if mvn -B ${MVN_ARGS:-} -P "spark-$v" -pl spark-connector,examples -am verify \
      -Dtest='dev.ember.spark.**.*Test,dev.ember.examples.*Test' -Dsurefire.failIfNoSpecifiedTests=false \
      > "$log" 2>&1; then
    result="PASS"
  else
    result="FAIL"
    status=1
  fi
  tests=$(grep -E "^\[(INFO|WARNING|ERROR)\] Tests run: [0-9]+, Failures" "$log" | grep -v " -- in " \
    | sed -E 's/^\[[A-Z]+\] //' | paste -sd ';' -)
  summary+=("Spark $v: $result in $(( $(date +%s) - start )) s ($tests) log $log")
done
printf '%s\n' "${summary[@]}"
exit $status
