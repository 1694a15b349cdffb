#!/usr/bin/env bash
# S4D sequences/s, flowlab's s4d classifier (LibTorch C++) against a minimal S4D of the same shapes
# in Debian's python3-torch (the same LibTorch 1.13.1), run alternately: training (forward,
# backward, AdamW step) and inference (no grad), sequential-Fashion-MNIST shapes (L = 784).
#   bench/run_s4d_bench.sh [repeats]   (builds its benchmark itself; needs: apt-get install python3-torch)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup s4d_bench "torch"
REPEATS="${1:-3}"

printf '%-34s %11s %11s %7s %15s %7s\n' "s4d (H N layers, batch 50, L 784)" "flowlab/s" "python/s" \
  "ratio" "python+tuned/s" "ratio"
for mode in train infer; do
  for config in "32 32 2" "64 64 4"; do
    steps=$([ "$mode" = train ] && echo 10 || echo 20)
    args=("$mode" $config 50 784 "$steps" 2)
    cpp=(); py=(); pyt=()
    for _ in $(seq "$REPEATS"); do
      cpp+=("$("$BIN" "${args[@]}")")
      py+=("$("$PY" "$ROOT/bench/s4d_bench.py" "${args[@]}")")
      pyt+=("$(GLIBC_TUNABLES="$TUNED" S4D_FFT_LENGTH=fast "$PY" "$ROOT/bench/s4d_bench.py" \
        "${args[@]}")")
    done
    c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median)
    t=$(printf '%s\n' "${pyt[@]}" | median)
    printf '%-34s %11.1f %11.1f %6.2fx %15.1f %6.2fx\n' "$mode $config" "$c" "$p" \
      "$(ratio "$c" "$p")" "$t" "$(ratio "$c" "$t")"
  done
done
echo "(sequences/s, median of $REPEATS alternating runs; ratio > 1 means flowlab is faster;"
echo " python+tuned: Python given flowlab's malloc setting and FFT length)"
