#!/usr/bin/env bash
# flowlab's one entry point for a fresh Debian 12 machine:
#   ./dev.sh quickstart   install what is missing, build (Release), run experiments/quickstart.yaml
#   ./dev.sh test         install what is missing, build, run the whole test suite (ctest)
#   ./dev.sh build        install what is missing and build only
#   ./dev.sh install      build, then put flowlab on PATH (PREFIX=/usr/local) with bash/zsh completion
#   ./dev.sh test --sanitize  the whole suite built with AddressSanitizer + UBSan (build-asan/)
#   ./dev.sh fuzz [SECONDS|-runs=N] [TARGET...]  build and run the libFuzzer targets (fuzz/)
# Each step is skipped when already done: packages are installed only if missing, CMake configures
# once, and ninja rebuilds only what changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${FLOWLAB_BUILD_DIR:-$ROOT/build}"

# Debian packages flowlab builds and runs with. libopenblas0-openmp matters for speed: without it
# Debian's LibTorch falls back to reference BLAS (~40x slower GEMM). librsvg2-dev gives
# `flowlab plot --png` and PNG copies of analysis figures (optional to CMake: without it only SVG).
# clang-format runs the test suite's format check (tests/check_format.sh; skipped without it).
# wordnet-base: the WordNet 3.0 database dataset.wordnet_kg builds its knowledge graph from.
# libbz2-dev, liblzma-dev: bzip2 and xz, the general-purpose coders codec.pc_rans measures beside its own.
# libcpp-httplib-dev: the HTTP server behind `flowlab ui`; chromium: its browser test (headless).
# python3-torch: the Python peers of bench/ and the test of the Python loader `flowlab export` writes.
# libgloo-dev: the Gloo headers that LibTorch's c10d process group needs (fl.federated launcher: gloo).
PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp libgloo-dev
  libtbb-dev libyaml-cpp-dev libsqlite3-dev sqlite3 libpq-dev postgresql slurm-wlm munge
  libboost-test-dev libboost-math-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libxxhash-dev zlib1g-dev libssl-dev
  libcpp-httplib-dev chromium python3-torch
  libbz2-dev liblzma-dev
  librsvg2-dev
  clang-format
  dataset-fashion-mnist wordnet-base
)

log() { printf '==> %s\n' "$*" >&2; }

ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Debian packages: all ${#PACKAGES[@]} present"
    return
  fi
  log "installing ${#missing[@]} Debian package(s): ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  # env inside sudo: sudo drops DEBIAN_FRONTEND; the lock timeout waits out unattended-upgrades
  # on a freshly booted machine instead of failing.
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
}

configure() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    log "configuring (Release) in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "${CMAKE_EXTRA[@]}"
  fi
}
CMAKE_EXTRA=()

# `test --sanitize`: everything built with -fsanitize=address,undefined (FLOWLAB_SANITIZE) in its
# own directory, -O1 with line tables so reports have file:line. A UBSan finding aborts the test.
# Leak reports from LibTorch's, OpenMP's and TBB's own allocations are suppressed by name in
# tests/sanitizers/lsan.supp (third-party code only, one reason per entry).
use_sanitizers() {
  BUILD="${FLOWLAB_ASAN_BUILD_DIR:-$ROOT/build-asan}"
  CMAKE_EXTRA=(-DFLOWLAB_SANITIZE=ON -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1")
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_init_order=1:check_initialization_order=1}"
  export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
}

# Debian's clang 14 with compiler-rt: libclang-rt-14-dev ships libFuzzer (Debian's
# libfuzzer-15-dev would need clang 15 to match).
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)

build() {
  configure
  log "building (ninja skips what is up to date)"
  cmake --build "$BUILD" -j "$(nproc)"
}

case "${1:-help}" in
  quickstart)
    ensure_packages
    build
    log "running experiments/quickstart.yaml (results in ${FLOWLAB_HOME:-./.flowlab})"
    "$BUILD/experiments/flowlab" run "$ROOT/experiments/quickstart.yaml" "${@:2}"
    log "next: $BUILD/experiments/flowlab runs | show last | ops"
    ;;
  test)
    args=("${@:2}")
    if [ "${2:-}" = --sanitize ]; then
      use_sanitizers
      args=("${@:3}")
    fi
    ensure_packages
    build
    log "running the test suite${CMAKE_EXTRA[*]:+ (AddressSanitizer + UBSan)}"
    rc=0
    ctest --test-dir "$BUILD" --output-on-failure "${args[@]}" || rc=$?
    # Tests that start services (PostgreSQL, Slurm) skip where they cannot; say why, plainly.
    { grep -h "^SKIPPED: " "$BUILD/Testing/Temporary/LastTest.log" 2>/dev/null || true; } |
      sort -u | while read -r line; do log "$line"; done
    exit "$rc"
    ;;
  fuzz)
    ensure_packages "${FUZZ_PACKAGES[@]}"
    FLOWLAB_FUZZ_BUILD_DIR="${FLOWLAB_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}" "$ROOT/fuzz/fuzz.sh" "${@:2}"
    ;;
  build)
    ensure_packages
    build
    ;;
  install)
    # flowlab and flowlab-engine into PREFIX/bin (default /usr/local), completion for bash/zsh.
    ensure_packages
    build
    cmake --install "$BUILD" --prefix "${PREFIX:-/usr/local}"
    log "installed: $(command -v flowlab || echo "${PREFIX:-/usr/local}/bin/flowlab") (bash completion in new shells)"
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
