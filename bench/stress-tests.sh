#!/usr/bin/env bash
# The suite under load (DESIGN.md §6: "passes 5 runs in a row with both cores busy").
# Runs `npm test` RUNS times in a row (default 5) while one busy loop per core keeps every core at
# 100%, stops at the first failing run, and prints one line per run and a summary. Not a test: it
# takes a long time (each run is several minutes on 2 cores) and is run by hand before a release.
#   bash bench/stress-tests.sh [RUNS]        logs in ${STRESS_LOG_DIR:-/tmp/obsctl-stress}/run-N.log
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
logs=${STRESS_LOG_DIR:-/tmp/obsctl-stress}
mkdir -p "$logs"
cores=$(nproc)
busy=()
for _ in $(seq "$cores"); do
  (while :; do :; done) &
  busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
echo "stress: $runs run(s) of npm test with $cores busy loop(s) on $cores core(s); logs in $logs"
npm run build >"$logs/build.log" 2>&1 || { echo "build failed: $logs/build.log"; exit 1; }
passed=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  npx vitest run >"$logs/run-$i.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  summary=$(grep -E '^\s+Tests\s' "$logs/run-$i.log" | tail -1 | sed 's/^ *//')
  echo "run $i: exit $rc in ${secs}s — ${summary:-no summary}"
  if [ "$rc" -ne 0 ]; then
    grep -E '(FAIL|×) ' "$logs/run-$i.log" | head -20
    echo "stress: $passed/$runs passed (stopped at run $i)"
    exit 1
  fi
  passed=$((passed + 1))
done
echo "stress: $passed/$runs passed"
