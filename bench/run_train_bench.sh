#!/usr/bin/env bash
# Training throughput, flowlab (LibTorch C++) against the same model in Debian's python3-torch
# (the same LibTorch 1.13.1), run alternately so both see the same machine state.
#   bench/run_train_bench.sh [repeats]        (needs: ./dev.sh build; apt-get install python3-torch)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${FLOWLAB_BUILD_DIR:-$ROOT/build}/bench/train_step_bench"
PY=/usr/bin/python3
REPEATS="${1:-3}"
[ -x "$BIN" ] || { echo "build first: ./dev.sh build" >&2; exit 2; }
"$PY" -c "import torch" 2>/dev/null || { echo "needs Debian's python3-torch: apt-get install python3-torch" >&2; exit 2; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-28s %14s %14s %8s\n' "model (batch 128, 2 threads)" "flowlab/s" "python/s" "ratio"
for config in "cnn 16" "cnn 32" "mlp 256"; do
  cpp=(); py=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" $config 128 200 2)")
    py+=("$("$PY" "$ROOT/bench/train_step_bench.py" $config 128 200 2)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median)
  printf '%-28s %14.0f %14.0f %7.2fx\n' "$config" "$c" "$p" "$(awk -v c="$c" -v p="$p" 'BEGIN {print c / p}')"
done
echo "(samples/s, median of $REPEATS alternating runs; ratio > 1 means flowlab is faster)"
