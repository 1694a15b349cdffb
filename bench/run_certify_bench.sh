#!/usr/bin/env bash
# Certification throughput, flowlab (C++) against Cohen et al.'s CERTIFY loop in Debian's
# python3-torch (the same LibTorch 1.13.1), same model, batch 1000, 2 threads, run alternately.
#   bench/run_certify_bench.sh [repeats]   (builds its benchmark itself; needs: apt-get install python3-torch python3-scipy)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup certify_bench "torch scipy"
REPEATS="${1:-3}"

printf '%-34s %12s %12s %8s %14s %8s\n' "model (n=10,000, batch 1000, 2 thr)" "flowlab/s" "python/s" "ratio" "python+tuned/s" "ratio"
for config in "mlp 10" "cnn 3" "rrcm 3"; do
  set -- $config
  cpp=(); py=(); pyt=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" "$1" "$2" 10000 1000 2)")
    py+=("$("$PY" "$ROOT/bench/certify_bench.py" "$1" "$2" 10000 1000 2)")
    pyt+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/certify_bench.py" "$1" "$2" 10000 1000 2)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median); t=$(printf '%s\n' "${pyt[@]}" | median)
  printf '%-34s %12.0f %12.0f %7.2fx %14.0f %7.2fx\n' "$1 ($2 images)" "$c" "$p" "$(ratio "$c" "$p")" \
    "$t" "$(ratio "$c" "$t")"
done
echo "(noisy samples/s, median of $REPEATS alternating runs; ratio > 1 means flowlab is faster)"
