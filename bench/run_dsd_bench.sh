#!/usr/bin/env bash
# DSD trainings per second, flowlab (train_dsd_weights, C++) against the same loop in Debian's
# python3-torch (the same LibTorch 1.13.1), 1 thread as in the separation sweep, run alternately.
#   bench/run_dsd_bench.sh [repeats]        (builds its benchmark itself; needs: apt-get install python3-torch)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup dsd_train_bench "torch"
REPEATS="${1:-3}"

printf '%-30s %12s %12s %8s\n' "model k d n (200 steps, 1 thr)" "flowlab/s" "python/s" "ratio"
# Small, middle and the largest shapes of experiments/dsd_separation.yaml.
for config in "cnn 8 8 64 40" "lcn 8 8 1024 20" "cnn 16 8 8192 5" "lcn 16 8 8192 5" "fcn 16 8 8192 3"; do
  set -- $config
  cpp=(); py=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" "$1" "$2" "$3" "$4" "$5" 1)")
    py+=("$("$PY" "$ROOT/bench/dsd_train_bench.py" "$1" "$2" "$3" "$4" "$5" 1)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median)
  printf '%-30s %12.2f %12.2f %7.2fx\n' "$1 $2 $3 $4" "$c" "$p" "$(ratio "$c" "$p")"
done
echo "(trainings/s, median of $REPEATS alternating runs; ratio > 1 means flowlab is faster)"
