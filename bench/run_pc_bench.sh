#!/usr/bin/env bash
# Hidden Chow-Liu tree circuits: flowlab's torch-free circuit library against the same circuit in
# Debian's python3-torch, evaluated as pyjuice evaluates one (vectorized over the batch: one
# matrix product per tree edge, EM's expected counts as the parameter flows by backpropagation),
# on the same images, 2 threads each, run alternately. Both sides print Σ log p(x) and a weighted
# checksum of the counts, and the script checks they agree: the Python peer is also an
# independent re-implementation of the likelihood and of EM's flows. Then the codec (one thread,
# encode + decode) beside xz on the same images.
#   bench/run_pc_bench.sh [repeats] [images]   (needs: apt-get install python3-torch)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup pc_bench "torch numpy"
REPEATS="${1:-3}"
IMAGES="${2:-2000}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT

agree() {  # two sums equal to 1e-9 relative, else the bench fails
  awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a;
                                    exit !(d <= 1e-9 * s) }' ||
    { echo "flowlab and python disagree: $1 vs $2" >&2; exit 1; }
}

printf '%-22s %12s %12s %8s\n' "images/s" "flowlab" "python" "ratio"
for m in 8 16 32; do
  "$BIN" export "$DIR/m$m" "$m" "$IMAGES" > /dev/null
  for mode in ll em; do
    cpp=(); py=()
    for _ in $(seq "$REPEATS"); do
      read -r c_rate c_sum < <("$BIN" "$mode" "$DIR/m$m" 2)
      read -r p_rate p_sum < <(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/pc_bench.py" "$mode" "$DIR/m$m" 2)
      agree "$c_sum" "$p_sum"
      cpp+=("$c_rate"); py+=("$p_rate")
    done
    c=$(printf '%s\n' "${cpp[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median)
    label="log p(x)"; [ "$mode" = em ] && label="EM counts"
    printf '%-22s %12.1f %12.1f %7.2fx\n' "$label M=$m" "$c" "$p" "$(ratio "$c" "$p")"
  done
done
echo "($IMAGES Fashion-MNIST test images, a circuit on the Chow-Liu tree of 2,000 training images"
echo " with random parameters; medians of $REPEATS alternating runs; ratio > 1: flowlab faster;"
echo " Σ log p(x) and the counts' checksums agreed to 1e-9 in every run)"
echo
printf '%-22s %12s %12s\n' "codec, 1 thread" "images/s" "bits/pixel"
for m in 8 16 32; do
  read -r rate bpd < <("$BIN" codec "$DIR/m$m")
  printf '%-22s %12.1f %12.3f\n' "encode+decode M=$m" "$rate" "$bpd"
done
python3 - "$DIR/m8/pixels.bin" <<'PY'
import lzma, sys, time
data = open(sys.argv[1], "rb").read()
t0 = time.perf_counter()
packed = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)
assert lzma.decompress(packed) == data
rate = len(data) / 784 / (time.perf_counter() - t0)
print(f"{'xz -9e (one stream)':22s} {rate:12.1f} {8 * len(packed) / len(data):12.3f}")
PY
echo "(bits/pixel of a random-parameter circuit are high: this table is about speed; the trained"
echo " circuits' bits are in experiments/pc_fmnist.yaml)"
