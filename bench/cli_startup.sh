#!/usr/bin/env bash
# Start-up cost of read-only commands: `flowlab` (torch-free front) against `flowlab-engine`
# (the same command with LibTorch loaded: what `flowlab` cost before the split) and against the
# sqlite3 shell reading the same database. Wall seconds and peak resident memory, median of N.
#   bench/cli_startup.sh [WORKSPACE] [N]   default: a fresh workspace holding one quickstart run
#                                           (1 epoch), N = 9
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FLOWLAB_BUILD_DIR:-$ROOT/build}"
F="$BUILD/experiments/flowlab"
ENGINE="$BUILD/experiments/flowlab-engine"
N="${2:-9}"
for tool in /usr/bin/time sqlite3; do
  command -v "$tool" > /dev/null || { echo "needs $tool (apt-get install time sqlite3)" >&2; exit 2; }
done
[[ -x "$F" && -x "$ENGINE" ]] || { echo "build first: ./dev.sh build" >&2; exit 2; }
WS="${1:-}"
if [[ -z "$WS" ]]; then
  WS="$(mktemp -d)"
  trap 'rm -rf "$WS"' EXIT
  "$F" run "$ROOT/experiments/quickstart.yaml" --workspace "$WS" -q train.epochs=1 > /dev/null
fi

# median wall seconds and median peak KiB of N runs of the command
measure() {
  local i samples
  samples="$(for i in $(seq "$N"); do
    /usr/bin/time -f '%e %M' -o /dev/stderr "$@" 2>&1 > /dev/null | tail -1
  done)"
  median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  printf '%8.3f %10.1f\n' "$(cut -d' ' -f1 <<< "$samples" | median)" \
    "$(cut -d' ' -f2 <<< "$samples" | median | awk '{ print $1 / 1024 }')"
}

printf '%-44s %8s %10s\n' "command (median of $N)" "wall s" "peak MiB"
QUERY="metrics.eval.accuracy > 0"
for row in "flowlab runs|$F runs" "flowlab-engine runs (LibTorch loaded)|$ENGINE runs" \
           "flowlab query|$F query" "flowlab-engine query (LibTorch loaded)|$ENGINE query"; do
  label="${row%%|*}"; read -r -a cmd <<< "${row#*|}"
  if [[ "${cmd[1]}" == query ]]; then cmd+=("$QUERY"); fi
  printf '%-44s %s\n' "$label" "$(measure "${cmd[@]}" --workspace "$WS")"
done
printf '%-44s %s\n' "sqlite3: select * from runs" \
  "$(measure sqlite3 "$WS/runs.db" 'select * from runs')"
