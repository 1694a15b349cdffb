#!/usr/bin/env bash
# A 3x3 sweep over the quickstart (learning rate x seed) run two ways on the same machine:
#   1. `flowlab sweep`: one graph, the dataset node computed once, trainings side by side;
#   2. the same 9 children as 9 separate `flowlab run` processes, one after another.
# Both start from an empty workspace (nothing cached). Prints both wall times and the ratio.
#   bench/sweep_vs_sequential.sh [extra overrides...]     default extra: train.epochs=1
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FLOWLAB_BUILD_DIR:-$ROOT/build}/experiments/flowlab"
SPEC="$ROOT/experiments/quickstart.yaml"
EXTRA=("${@:-train.epochs=1}")
LRS=(0.003 0.001 0.0003)
SEEDS=(0 1 2)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

t0=$(date +%s.%N)
"$F" sweep "$SPEC" --workspace "$WORK/sweep" -q "${EXTRA[@]}" \
  "train.lr=$(IFS=,; echo "${LRS[*]}")" "seed=$(IFS=,; echo "${SEEDS[*]}")" > "$WORK/sweep.txt"
t1=$(date +%s.%N)
for lr in "${LRS[@]}"; do
  for seed in "${SEEDS[@]}"; do
    "$F" run "$SPEC" --workspace "$WORK/seq-$lr-$seed" -q "${EXTRA[@]}" "train.lr=$lr" "seed=$seed" > /dev/null
  done
done
t2=$(date +%s.%N)

cat "$WORK/sweep.txt"
awk -v s="$t0" -v m="$t1" -v e="$t2" 'BEGIN {
  sweep = m - s; seq = e - m;
  printf "\n3x3 quickstart sweep: %.1f s as one flowlab sweep, %.1f s as 9 runs one after another (%.2fx)\n", sweep, seq, seq / sweep }'
sqlite3 "$WORK/sweep/runs.db" \
  "select 'dataset node computed ' || sum(cache_hit = 0) || ' time(s) for ' || count(*) || ' children' from node_executions where node = 'data'"
