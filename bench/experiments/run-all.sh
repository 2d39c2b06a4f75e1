#!/usr/bin/env bash
# Runs one paper's experiment (or all three, one after another) at low priority, logging to
# bench/results/experiments/<name>.log and the wall time to timing.log, then rewrites the
# summary (bench/results/experiments-summary.json) and the tables (experiments/tables.md).
#   bash bench/experiments/run-all.sh paper1        (npm run experiments:paper1; likewise 2, 3)
#   bash bench/experiments/run-all.sh               (all three)
# Build first (npm run build): the scripts import ../../dist.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/results/experiments
suffix=""
[ "${QUICK:-}" = 1 ] && suffix=".quick"   # a smoke test leaves the results and logs alone
for name in ${@:-paper1 paper3 paper2}; do
  start=$(date +%s)
  nice -n 10 node "bench/experiments/$name.mjs" > "bench/results/experiments/$name$suffix.log" 2>&1
  [ -z "$suffix" ] && echo "$name: $(( $(date +%s) - start )) s wall, finished $(date -u +%FT%TZ), seeds ${SEEDS:-0,1,2,3,4}" >> bench/results/experiments/timing.log
done
[ -z "$suffix" ] && node bench/experiments/report.mjs > bench/results/experiments/tables.md
exit 0
