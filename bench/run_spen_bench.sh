#!/usr/bin/env bash
# SPEN training speed and memory. Speed: graphs per second of training on CSL's 150 graphs (SPEN
# with k = 1 and 2, widths [32, 32, 32], head [64], batch 10, AdamW) in flowlab's
# train.graph_classifier against the same network, batches and loop in Debian's python3-torch
# (the same LibTorch 1.13.1), 2 threads, run alternately: the Python peer with the equivariant
# layers as the reference code writes them (the 15 basis operations stacked, then one einsum) and
# in flowlab's factored form. Memory: peak CPU tensor memory of one forward + backward pass of
# SPEN and of the global 2-IGN on the same batch (10 graphs), measured, with Σ_v m_v² per graph.
#   bench/run_spen_bench.sh [repeats] [epochs]   (needs: apt-get install python3-torch)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup spen_bench "torch"
REPEATS="${1:-3}"
EPOCHS="${2:-3}"
GRAPHS="$(mktemp)"
trap 'rm -f "$GRAPHS"' EXIT
echo "graphs: $("$BIN" export "$GRAPHS")"

printf '%-24s %9s %11s %11s %7s %7s\n' "graphs/s (train)" "flowlab" "py (ref.)" "py (fact.)" "ratio" "ratio"
for hops in 1 2; do
  cpp=(); ref=(); fac=()
  for _ in $(seq "$REPEATS"); do
    cpp+=("$("$BIN" train "$GRAPHS" "$hops" "$EPOCHS" 2)")
    ref+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/spen_bench.py" train "$GRAPHS" "$hops" "$EPOCHS" 2 reference)")
    fac+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/spen_bench.py" train "$GRAPHS" "$hops" "$EPOCHS" 2 factored)")
  done
  c=$(printf '%s\n' "${cpp[@]}" | median); r=$(printf '%s\n' "${ref[@]}" | median)
  f=$(printf '%s\n' "${fac[@]}" | median)
  printf '%-24s %9.1f %11.1f %11.1f %6.2fx %6.2fx\n' "spen k=$hops" "$c" "$r" "$f" \
    "$(ratio "$c" "$r")" "$(ratio "$c" "$f")"
done
echo "(CSL, $EPOCHS epochs, medians of $REPEATS alternating runs; ratios are flowlab graphs/s over"
echo " python graphs/s against the reference and the factored formulation, > 1 means flowlab is"
echo " faster; the Python peers run with flowlab's malloc setting)"
echo
printf '%-14s %-6s %16s %14s %16s\n' "graphs" "model" "entries/graph" "peak MiB" "MiB per tensor"
for task in csl cubic:100 cubic:200 cubic:300; do
  for arch in spen1 spen2 ign; do
    read -r entries peak tensor < <("$BIN" memory "$task" "$arch")
    printf '%-14s %-6s %16.0f %14.1f %16.2f\n' "$task" "$arch" "$entries" "$peak" "$tensor"
  done
done
echo "(one forward + backward pass over 10 graphs (cubic:N: random 3-regular graphs of N nodes), 1"
echo " thread; entries/graph = Σ_v m_v² for SPEN,"
echo " n² for the global 2-IGN; MiB per tensor = one [entries, 64] float activation of the batch)"
