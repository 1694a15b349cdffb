#!/usr/bin/env bash
# Certification throughput, flowlab (C++) against Cohen et al.'s CERTIFY loop in Debian's
# python3-torch (the same LibTorch 1.13.1), same model, batch 1000, 2 threads, run alternately.
#   bench/run_certify_bench.sh [repeats]   (needs: ./dev.sh build; apt-get install python3-torch python3-scipy)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${FLOWLAB_BUILD_DIR:-$ROOT/build}/bench/certify_bench"
PY=/usr/bin/python3
REPEATS="${1:-3}"
[ -x "$BIN" ] || { echo "build first: ./dev.sh build" >&2; exit 2; }
"$PY" -c "import torch, scipy" 2>/dev/null || { echo "needs Debian's python3-torch and python3-scipy" >&2; exit 2; }

# flowlab raises glibc's mmap/trim thresholds at start (ops::keep_freed_memory_for_reuse), so
# freed activations are reused instead of page-faulted in again every batch. The Python peer is
# run both as users run it and with the same setting through glibc's tunables, so the table
# shows how much of the ratio is that setting.
TUNED="glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-34s %12s %12s %8s %14s %8s\n' "model (n=10,000, batch 1000, 2 thr)" "flowlab/s" "python/s" "ratio" "python+tuned/s" "ratio"
for config in "mlp 10" "cnn 3"; do
  set -- $config
  cpp=(); py=(); pyt=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" "$1" "$2" 10000 1000 2)")
    py+=("$("$PY" "$ROOT/bench/certify_bench.py" "$1" "$2" 10000 1000 2)")
    pyt+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/certify_bench.py" "$1" "$2" 10000 1000 2)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median); t=$(printf '%s\n' "${pyt[@]}" | median)
  printf '%-34s %12.0f %12.0f %7.2fx %14.0f %7.2fx\n' "$1 ($2 images)" "$c" "$p" "$(awk -v c="$c" -v p="$p" 'BEGIN {print c / p}')" \
    "$t" "$(awk -v c="$c" -v p="$t" 'BEGIN {print c / p}')"
done
echo "(noisy samples/s, median of $REPEATS alternating runs; ratio > 1 means flowlab is faster)"
