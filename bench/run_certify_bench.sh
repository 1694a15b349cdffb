#!/usr/bin/env bash
# Certification throughput, flowlab (C++) against Cohen et al.'s CERTIFY loop in Debian's
# python3-torch (the same LibTorch 1.13.1), same model, batch 1000, 2 threads, run alternately.
#   bench/run_certify_bench.sh [repeats]   (builds its benchmark itself; needs: apt-get install python3-torch python3-scipy)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup certify_bench "torch scipy"
bench_build peak_flops >&2
REPEATS="${1:-3}"

# Multiply-adds per noisy sample (one forward), counted from the architectures:
#   mlp 256: 784*256 + 256*256 + 256*10                                  =   268,800
#   cnn 16:  28*28*16*9 + 14*14*32*16*9 + 32*7*7*128 + 128*10            = 1,218,048
#   rrcm 16: 28*28*16*9 + 14*14*32*16*9 + 7*7*32*32*9 + 32*7*7*128 + 128*10 = 1,669,632
#            (its FiLM embedding runs once per batch, not per sample)
declare -A MACS=([mlp]=268800 [cnn]=1218048 [rrcm]=1669632)
PEAK=$("$BUILD/bench/peak_flops" 2)
echo "measured fp32 peak (sgemm 2048^3, 2 threads): $PEAK GFLOP/s"

printf '%-34s %12s %12s %8s %14s %8s %9s %7s\n' "model (n=10,000, batch 1000, 2 thr)" "flowlab/s" "python/s" \
  "ratio" "python+tuned/s" "ratio" "GFLOP/s" "peak"
for config in "mlp 10" "cnn 3" "rrcm 3"; do
  set -- $config
  cpp=(); py=(); pyt=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" "$1" "$2" 10000 1000 2)")
    py+=("$("$PY" "$ROOT/bench/certify_bench.py" "$1" "$2" 10000 1000 2)")
    pyt+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/certify_bench.py" "$1" "$2" 10000 1000 2)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median); t=$(printf '%s\n' "${pyt[@]}" | median)
  gflops=$(awk -v s="$c" -v m="${MACS[$1]}" 'BEGIN { print 2 * s * m / 1e9 }')
  printf '%-34s %12.0f %12.0f %7.2fx %14.0f %7.2fx %9.1f %6.0f%%\n' "$1 ($2 images)" "$c" "$p" \
    "$(ratio "$c" "$p")" "$t" "$(ratio "$c" "$t")" "$gflops" "$(awk -v g="$gflops" -v p="$PEAK" 'BEGIN { print 100 * g / p }')"
done
echo "(noisy samples/s, median of $REPEATS alternating runs; ratio > 1 means flowlab is faster;"
echo " GFLOP/s and peak: flowlab's 2 x multiply-adds per sample x samples/s, against the sgemm)"
