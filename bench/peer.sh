# Shared by the bench/run_*_bench.sh scripts (sourced): a flowlab bench binary against a peer in
# Debian's python3-torch (the same LibTorch 1.13.1), run alternately, medians and ratios.
#   peer_setup BINARY "python modules"   checks both are there, sets BIN and PY
#   median                                the median of numbers on stdin
#   ratio A B                             A / B
# TUNED: flowlab raises glibc's mmap/trim thresholds at start (ops::keep_freed_memory_for_reuse),
# so freed activations are reused instead of page-faulted in again every batch; the scripts also
# run the Python peer with the same setting through glibc's tunables, so the tables show how much
# of a ratio is that setting.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
TUNED="glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"

peer_setup() {
  BIN="${FLOWLAB_BUILD_DIR:-$ROOT/build}/bench/$1"
  [ -x "$BIN" ] || { echo "build first: ./dev.sh build" >&2; exit 2; }
  local imports="${2// /, }"
  "$PY" -c "import $imports" 2>/dev/null || {
    echo "needs Debian's python3 modules: $2 (apt-get install python3-torch python3-scipy)" >&2
    exit 2
  }
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
