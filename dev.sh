#!/usr/bin/env bash
# flowlab's one entry point for a fresh Debian 12 machine:
#   ./dev.sh quickstart   install what is missing, build (Release), run experiments/quickstart.yaml
#   ./dev.sh test         install what is missing, build, run the whole test suite (ctest)
#   ./dev.sh build        install what is missing and build only
# Each step is skipped when already done: packages are installed only if missing, CMake configures
# once, and ninja rebuilds only what changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${FLOWLAB_BUILD_DIR:-$ROOT/build}"

# Debian packages flowlab builds and runs with. libopenblas0-openmp matters for speed: without it
# Debian's LibTorch falls back to reference BLAS (~40x slower GEMM). librsvg2-dev gives
# `flowlab plot --png` and PNG copies of analysis figures (optional to CMake: without it only SVG).
# clang-format runs the test suite's format check (tests/check_format.sh; skipped without it).
PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp
  libtbb-dev libyaml-cpp-dev libsqlite3-dev sqlite3
  libboost-test-dev libboost-math-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libxxhash-dev zlib1g-dev libssl-dev
  librsvg2-dev
  clang-format
  dataset-fashion-mnist
)

log() { printf '==> %s\n' "$*" >&2; }

ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
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
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
}

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
    ensure_packages
    build
    log "running the test suite"
    ctest --test-dir "$BUILD" --output-on-failure "${@:2}"
    ;;
  build)
    ensure_packages
    build
    ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
