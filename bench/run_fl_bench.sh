#!/usr/bin/env bash
# Federated rounds per second, flowlab's fl.federated op (C++) against the same rounds in Debian's
# python3-torch + numpy (the same LibTorch 1.13.1), 1 thread as the op runs, run alternately.
#   bench/run_fl_bench.sh [repeats]      (builds its benchmark itself; needs: apt-get install python3-torch)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup fl_round_bench "torch numpy"
REPEATS="${1:-3}"
ROUNDS=10

printf '%-40s %11s %11s %7s\n' "mechanism (100 clients, 10/round, 1 thr)" "flowlab/s" "python/s" "ratio"
for mechanism in none rqm pbm gaussian; do
  cpp=(); py=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" "$mechanism" "$ROUNDS" 1)")
    py+=("$("$PY" "$ROOT/bench/fl_round_bench.py" "$mechanism" "$ROUNDS" 1)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median)
  printf '%-40s %11.2f %11.2f %6.2fx\n' "$mechanism" "$c" "$p" "$(ratio "$c" "$p")"
done
echo "(rounds/s over $ROUNDS rounds incl. one final test evaluation, median of $REPEATS alternating"
echo " runs; ratio > 1 means flowlab is faster)"
