#!/usr/bin/env bash
# A sweep through Slurm against a PostgreSQL store, checked against the same sweep run locally:
#   1. the same 2x2 quickstart sweep (1 epoch on 1,000 images) locally into SQLite and with
#      --launcher slurm into PostgreSQL: the same children with the same final metrics, bit for
#      bit (timings aside), the shared dataset node computed once, every run FINISHED;
#   2. a second sweep, one child at a time (array_parallelism 1): the task of one child is
#      cancelled with scancel while it runs; the child ends KILLED with Slurm's state, the sweep
#      KILLED; `flowlab resume SWEEP --launcher slurm` then completes it.
# Runs under tests/tracking/with_postgres.sh and tests/cluster/with_slurm.sh (see CMakeLists).
#   slurm_sweep_test.sh FLOWLAB_BINARY REPO_ROOT
set -euo pipefail
F=$1
ROOT=$2
SPEC="$ROOT/experiments/quickstart.yaml"
PG="$FLOWLAB_TEST_POSTGRES"
W=$(mktemp -d /tmp/flowlab-slurm-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
AXES=(train.epochs=1 data.limit_train=1000 train.lr=0.003,0.001 seed=0,1)
fail() { echo "FAIL: $*" >&2; exit 1; }
pg_sql() { "$F" --store "$PG" sql "$1" --format csv | tail -n +2; }

# Waits until sweep $1's parent has ended (the aggregate job records that); prints its status.
wait_sweep() {
  local st
  for _ in $(seq 600); do
    st=$(pg_sql "SELECT status FROM runs WHERE id = $1")
    case "$st" in FINISHED | FAILED | KILLED) echo "$st"; return ;; esac
    sleep 0.5
  done
  squeue >&2
  fail "sweep $1 did not end within 5 minutes (status $st)"
}

# The children's final metrics as "child name,node,key,value" lines; timings left out.
FINALS="SELECT r.name, f.node, f.key, f.value FROM final_metrics f JOIN runs r ON r.id = f.run_id
        WHERE r.parent_id = PARENT AND f.key NOT IN ('samples_per_s', 'train_time_s')
        ORDER BY r.name, f.node, f.key"

echo "== 1. the same sweep locally and through Slurm"
t0=$(date +%s.%N)
"$F" --workspace "$W/local" sweep "$SPEC" "${AXES[@]}" -q >/dev/null
t1=$(date +%s.%N)
out=$("$F" --workspace "$W/cluster" --store "$PG" sweep "$SPEC" "${AXES[@]}" --launcher slurm -q)
echo "$out"
parent=$(sed -n 's/^submitted sweep \([0-9]*\):.*/\1/p' <<<"$out")
[ -n "$parent" ] || fail "no sweep id in: $out"
[ "$(pg_sql "SELECT COUNT(*) FROM runs WHERE status = 'SCHEDULED'")" = 5 ] ||
  fail "the parent and its 4 children should be SCHEDULED right after submission"
status=$(wait_sweep "$parent")
t2=$(date +%s.%N)
[ "$status" = FINISHED ] || fail "the Slurm sweep ended $status"
local_finals=$("$F" --workspace "$W/local" sql "${FINALS/PARENT/1}" --format csv)
slurm_finals=$("$F" --store "$PG" sql "${FINALS/PARENT/$parent}" --format csv)
[ "$(wc -l <<<"$local_finals")" -ge 60 ] || fail "too few final metrics: $local_finals"
diff <(echo "$local_finals") <(echo "$slurm_finals") ||
  fail "the children's final metrics differ between the local and the Slurm sweep"
[ "$(pg_sql "SELECT COUNT(*) FROM runs WHERE parent_id = $parent AND status = 'FINISHED'")" = 4 ] ||
  fail "not every child FINISHED"
computed=$(pg_sql "SELECT COUNT(*) FROM node_executions n JOIN runs r ON r.id = n.run_id
                   WHERE (r.id = $parent OR r.parent_id = $parent) AND n.node = 'data'
                   AND n.cache_hit = 0")
[ "$computed" = 1 ] || fail "the shared dataset node was computed $computed times, not once"
"$F" --store "$PG" runs --all --limit 5 | grep -q "slurm_job" || fail "flowlab runs shows no Slurm job ids"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "local sweep %.1f s, Slurm sweep %.1f s (submission to the end of its aggregate job)\n", b - a, c - b }'

echo "== 2. scancel of one array task, then resume --launcher slurm"
# One child at a time, each long enough (3 epochs on 3,000 images) to be caught running.
AXES2=(train.epochs=3 data.limit_train=3000 train.lr=0.003,0.001 seed=2,3)
out=$("$F" --workspace "$W/cluster" --store "$PG" sweep "$SPEC" "${AXES2[@]}" \
  +launcher=slurm launcher.array_parallelism=1 -q)
parent2=$(sed -n 's/^submitted sweep \([0-9]*\):.*/\1/p' <<<"$out")
[ -n "$parent2" ] || fail "no sweep id in: $out"
# Cancel the second child while its task runs: Slurm sends SIGTERM, flowlab stops the training at
# the next step and records the run KILLED.
victim=""
for _ in $(seq 600); do
  victim=$(pg_sql "SELECT t.value FROM runs r JOIN run_tags t ON t.run_id = r.id AND
                   t.key = 'slurm.job_id' WHERE r.parent_id = $parent2 AND r.status = 'RUNNING'
                   AND r.name LIKE '%[2]'")
  [ -n "$victim" ] && break
  sleep 0.2
done
[ -n "$victim" ] || fail "the second child never showed RUNNING"
scancel "$victim"
status=$(wait_sweep "$parent2")
[ "$status" = KILLED ] || fail "a sweep with a cancelled child should end KILLED, not $status"
killed=$(pg_sql "SELECT error FROM runs WHERE parent_id = $parent2 AND status = 'KILLED'")
grep -q "slurm: CANCELLED" <<<"$killed" || fail "the cancelled child's error is not Slurm's: $killed"
[ "$(pg_sql "SELECT COUNT(*) FROM runs WHERE parent_id = $parent2 AND status = 'FINISHED'")" = 3 ] ||
  fail "the other three children should have finished"
echo "cancelled $victim: $killed"
"$F" --workspace "$W/cluster" --store "$PG" resume "$parent2" --launcher slurm -q
status=$(wait_sweep "$parent2")
[ "$status" = FINISHED ] || fail "the resumed sweep ended $status"
[ "$(pg_sql "SELECT COUNT(*) FROM runs WHERE parent_id = $parent2 AND status = 'FINISHED'")" = 4 ] ||
  fail "after resume every child should be FINISHED"
echo "PASS"
