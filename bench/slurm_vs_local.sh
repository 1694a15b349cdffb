#!/usr/bin/env bash
# The 3x3 quickstart sweep (learning rate x seed, 1 epoch) run two ways on this machine:
#   1. locally: `flowlab sweep` (one graph, one process) into a SQLite store;
#   2. through Slurm: `flowlab sweep --launcher slurm` (a shared-node job, a 9-task array, an
#      aggregate job) into a PostgreSQL store, on a one-node Slurm started for the purpose
#      (tests/cluster/with_slurm.sh) with a throwaway PostgreSQL (tests/tracking/with_postgres.sh).
# Prints both wall times, the Slurm overhead per child, and whether the children's final metrics
# (timings aside) are equal bit for bit.
#   bench/slurm_vs_local.sh [extra overrides...]     default extra: train.epochs=1
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FLOWLAB_BUILD_DIR:-$ROOT/build}/experiments/flowlab"
export BENCH_F="$F" BENCH_SPEC="$ROOT/experiments/quickstart.yaml"
export BENCH_EXTRA="${*:-train.epochs=1}"
FLOWLAB_TEST_POSTGRES_FSYNC=on "$ROOT/tests/tracking/with_postgres.sh" \
  "$ROOT/tests/cluster/with_slurm.sh" bash -c '
set -euo pipefail
W=$(mktemp -d); trap "rm -rf $W" EXIT
AXES=($BENCH_EXTRA train.lr=0.003,0.001,0.0003 seed=0,1,2)
F=$BENCH_F
t0=$(date +%s.%N)
"$F" --workspace "$W/local" sweep "$BENCH_SPEC" "${AXES[@]}" -q > /dev/null
t1=$(date +%s.%N)
out=$("$F" --workspace "$W/cluster" --store "$FLOWLAB_TEST_POSTGRES" sweep "$BENCH_SPEC" "${AXES[@]}" --launcher slurm -q)
parent=$(sed -n "s/^submitted sweep \([0-9]*\):.*/\1/p" <<<"$out")
while :; do
  st=$("$F" --store "$FLOWLAB_TEST_POSTGRES" sql "SELECT status FROM runs WHERE id = $parent" --format csv | tail -1)
  case $st in FINISHED|FAILED|KILLED) break;; esac; sleep 0.2
done
t2=$(date +%s.%N)
Q="SELECT r.name, f.node, f.key, f.value FROM final_metrics f JOIN runs r ON r.id = f.run_id WHERE r.parent_id = P AND f.key NOT IN ('"'"'samples_per_s'"'"', '"'"'train_time_s'"'"') ORDER BY 1, 2, 3"
a=$("$F" --workspace "$W/local" sql "${Q/P/1}" --format csv); b=$("$F" --store "$FLOWLAB_TEST_POSTGRES" sql "${Q/P/$parent}" --format csv)
same=$([ "$a" = "$b" ] && echo "equal bit for bit" || echo "DIFFERENT")
echo "local children:"; "$F" --workspace "$W/local" runs --limit 10 | cut -c1-80
echo "Slurm children:"; "$F" --store "$FLOWLAB_TEST_POSTGRES" runs --limit 10 | cut -c1-80
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$(wc -l <<<"$a")" -v same="$same" "BEGIN {
  printf \"\\n3x3 quickstart sweep: %.1f s locally (one process, SQLite), %.1f s through Slurm (PostgreSQL), %.2f s of overhead per child; %d final metrics %s\\n\", b - a, c - b, ((c - b) - (b - a)) / 9, n - 1, same }"
'
