# Shared by the bench/run_*_bench.sh scripts (sourced): a flowlab bench binary against a peer in
# Debian's python3-torch (the same LibTorch 1.13.1), run alternately, medians and ratios.
#   bench_build TARGET...                 builds bench targets (configured with FLOWLAB_BUILD_BENCH=ON)
#   peer_setup BINARY "python modules"   builds BINARY, checks the python modules, sets BIN and PY
#   median                                the median of numbers on stdin
#   ratio A B                             A / B
# TUNED: flowlab raises glibc's mmap/trim thresholds at start (ops::keep_freed_memory_for_reuse),
# so freed activations are reused instead of page-faulted in again every batch; the scripts also
# run the Python peer with the same setting through glibc's tunables, so the tables show how much
# of a ratio is that setting.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
TUNED="glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"

BUILD="${FLOWLAB_BUILD_DIR:-$ROOT/build}"

# Benchmarks are off in a normal build (three of them compile LibTorch). Turn them on just to
# build the targets asked for (ninja: nothing when up to date, so a bench never times stale
# code), then put the option back so later builds of the tree do not compile every bench.
bench_build() {
  local was=OFF generator=()
  if [ -f "$BUILD/CMakeCache.txt" ]; then
    was="$(sed -n 's/^FLOWLAB_BUILD_BENCH:BOOL=//p' "$BUILD/CMakeCache.txt")"
  else
    generator=(-G Ninja -DCMAKE_BUILD_TYPE=Release)  # as ./dev.sh configures it
  fi
  cmake -S "$ROOT" -B "$BUILD" "${generator[@]}" -DFLOWLAB_BUILD_BENCH=ON > /dev/null
  local rc=0
  cmake --build "$BUILD" --target "$@" || rc=$?
  [ "$was" = ON ] || cmake -S "$ROOT" -B "$BUILD" -DFLOWLAB_BUILD_BENCH="${was:-OFF}" > /dev/null
  return "$rc"
}

peer_setup() {
  local imports="${2// /, }"
  "$PY" -c "import $imports" 2>/dev/null || {
    echo "needs Debian's python3 modules: $2 (apt-get install python3-torch python3-scipy)" >&2
    exit 2
  }
  bench_build "$1" >&2
  BIN="$BUILD/bench/$1"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
