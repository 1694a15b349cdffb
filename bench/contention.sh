#!/usr/bin/env bash
# Two flowlab processes on one machine: the quickstart run alone, then two at once, each in a
# fresh workspace (nothing cached), with flowlab's default (OpenMP threads sleep when idle:
# OMP_WAIT_POLICY=PASSIVE, set before LibTorch loads) and with libgomp's spinning default
# (OMP_WAIT_POLICY=ACTIVE, what flowlab did before). Median wall seconds per run of N repeats.
#   bench/contention.sh [N] [overrides...]     default N = 3; overrides default to a small run:
#                                              1 epoch on 10,000 training images
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FLOWLAB_BUILD_DIR:-$ROOT/build}/experiments/flowlab"
N="${1:-3}"
shift || true
(($#)) || set -- nodes.train.params.epochs=1 nodes.data.params.limit_train=10000
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

one() {  # one quickstart run in a fresh workspace; prints its wall seconds
  local ws="$WORK/ws.$RANDOM$RANDOM" t0 t1
  t0=$(date +%s.%N)
  "$F" run "$ROOT/experiments/quickstart.yaml" --workspace "$ws" -q "$@" > /dev/null 2> "$ws.err" ||
    { cat "$ws.err" >&2; return 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}

printf '%-34s %10s %16s\n' "quickstart (median of $N)" "alone s" "two at once s"
for policy in PASSIVE ACTIVE; do
  alone=(); pair=()
  for _ in $(seq "$N"); do
    alone+=("$(OMP_WAIT_POLICY=$policy one "$@")")
    OMP_WAIT_POLICY=$policy one "$@" > "$WORK/a" &
    OMP_WAIT_POLICY=$policy one "$@" > "$WORK/b"
    wait
    pair+=("$(cat "$WORK/a")" "$(cat "$WORK/b")")
  done
  label="OMP_WAIT_POLICY=$policy"
  [[ $policy == PASSIVE ]] && label="$label (default)"
  printf '%-34s %10s %16s\n' "$label" "$(printf '%s\n' "${alone[@]}" | median)" \
    "$(printf '%s\n' "${pair[@]}" | median)"
done
