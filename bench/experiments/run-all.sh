#!/usr/bin/env bash
# Runs the three paper experiments one after another (one core each, ~20-40 min on a shared
# 2-core machine), logging to bench/results/experiments/<name>.log. Build first:
#   npx tsc -p tsconfig.build.json && nohup bash bench/experiments/run-all.sh > /dev/null 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/results/experiments
for name in ${EXPERIMENTS:-paper1 paper3 paper2}; do
  start=$(date +%s)
  node "bench/experiments/$name.mjs" > "bench/results/experiments/$name.log" 2>&1
  echo "$name: $(( $(date +%s) - start )) s" >> bench/results/experiments/timing.log
done
