#!/usr/bin/env bash
# Training throughput, flowlab (LibTorch C++) against the same model in Debian's python3-torch
# (the same LibTorch 1.13.1), run alternately so both see the same machine state.
#   bench/run_train_bench.sh [repeats]        (builds its benchmark itself; needs: apt-get install python3-torch)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup train_step_bench "torch"
REPEATS="${1:-3}"

printf '%-28s %12s %12s %8s %14s %8s\n' "model (batch 128, 2 threads)" "flowlab/s" "python/s" "ratio" "python+tuned/s" "ratio"
for config in "cnn 16" "cnn 32" "mlp 256"; do
  cpp=(); py=(); pyt=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" $config 128 200 2)")
    py+=("$("$PY" "$ROOT/bench/train_step_bench.py" $config 128 200 2)")
    pyt+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/train_step_bench.py" $config 128 200 2)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median); t=$(printf '%s\n' "${pyt[@]}" | median)
  printf '%-28s %12.0f %12.0f %7.2fx %14.0f %7.2fx\n' "$config" "$c" "$p" "$(ratio "$c" "$p")" \
    "$t" "$(ratio "$c" "$t")"
done
echo "(samples/s, median of $REPEATS alternating runs; ratio > 1 means flowlab is faster)"
