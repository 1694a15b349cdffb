#!/usr/bin/env bash
# Knowledge-graph embedding speed: flowlab's train.kge (seconds per epoch: 1-N scoring of every
# training query, binary cross-entropy, Adam, filtered validation) and eval.link_prediction
# (filtered ranking of every test triple both ways) against the same model and loop in Debian's
# python3-torch (the same LibTorch 1.13.1), 2 threads, run alternately; the Python peer in the
# NFE reference code's formulation and in flowlab's (one matrix product per batch).
#   bench/run_kge_bench.sh [repeats] [epochs]   (needs: apt-get install python3-torch wordnet-base)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/peer.sh"
peer_setup kge_bench "torch"
REPEATS="${1:-3}"
EPOCHS="${2:-3}"
DIM=64
GRAPH="$(mktemp -d)"
BIG="$(mktemp -d)"
trap 'rm -rf "$GRAPH" "$BIG"' EXIT
echo "train graph: $("$BIN" export "$GRAPH" 15)  (WordNet, min_degree 15)"
echo "eval graph:  $("$BIN" export "$BIG" 5)  (min_degree 5, WN18RR's size)"

printf '%-28s %9s %11s %11s %7s %7s\n' "" "flowlab" "py (ref.)" "py (fact.)" "ratio" "ratio"
for model in nfe1 nfe2; do
  for mode in train eval; do
    cpp=(); ref=(); fac=()
    for _ in $(seq "$REPEATS"); do
      if [ "$mode" = train ]; then
        cpp+=("$("$BIN" train "$GRAPH" "$model" "$DIM" "$EPOCHS" 2)")
        ref+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/kge_bench.py" train "$GRAPH" "$model" "$DIM" "$EPOCHS" 2 reference)")
        fac+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/kge_bench.py" train "$GRAPH" "$model" "$DIM" "$EPOCHS" 2 factored)")
      else
        cpp+=("$("$BIN" eval "$BIG" "$model" "$DIM" 2)")
        ref+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/kge_bench.py" eval "$BIG" "$model" "$DIM" 2 reference)")
        fac+=("$(GLIBC_TUNABLES="$TUNED" "$PY" "$ROOT/bench/kge_bench.py" eval "$BIG" "$model" "$DIM" 2 factored)")
      fi
    done
    c=$(printf '%s\n' "${cpp[@]}" | median); r=$(printf '%s\n' "${ref[@]}" | median)
    f=$(printf '%s\n' "${fac[@]}" | median)
    label="$model $mode (s)"
    [ "$mode" = eval ] || label="$model $mode (s/epoch)"
    printf '%-28s %9.3f %11.3f %11.3f %6.2fx %6.2fx\n' "$label" "$c" "$r" "$f" \
      "$(ratio "$r" "$c")" "$(ratio "$f" "$c")"
  done
done
echo "(dim $DIM, batch 128 (train) / 512 (eval), medians of $REPEATS alternating runs; ratios are"
echo " python seconds / flowlab seconds against the reference and the factored formulation,"
echo " > 1 means flowlab is faster; the Python peers run with flowlab's malloc setting)"
