#!/usr/bin/env bash
# JUnit tests tagged gpu of the given classes, printed as they finish
here=$(cd "$(dirname "$0")" && pwd)
args=()
for c in "$@"; do args+=(--select-class "dev.ember.backend.cuda.$c"); done
exec "$here/run.sh" org.junit.platform.console.ConsoleLauncher execute --disable-banner --include-tag gpu \
     --details=testfeed "${args[@]}"
