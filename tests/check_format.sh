#!/usr/bin/env bash
# House style check (ctest `format`): every tracked *.cpp and *.h must be as clang-format leaves it
# under the repository's .clang-format. Prints the files that are not and exits 1; fix them with
# `clang-format -i FILE...`. Exits 77 (ctest reports SKIPPED) only when clang-format is missing.
#   tests/check_format.sh [REPOSITORY]      default: the repository holding this script
#   tests/check_format.sh --self-test       shows the check fails on a badly formatted file
# CLANG_FORMAT names another binary (clang-format-15); versions format a few constructs
# differently, so CI checks with Debian 12's clang-format 14, as listed in dev.sh.
set -euo pipefail

CLANG_FORMAT="${CLANG_FORMAT:-clang-format}"

if ! command -v "$CLANG_FORMAT" > /dev/null 2>&1; then
  echo "format check SKIPPED: '$CLANG_FORMAT' is not installed (apt-get install clang-format)" >&2
  exit 77
fi

# --self-test (ctest `format_self_test`): the check must fail on a repository with one badly
# formatted tracked file, name that file, and pass once it is formatted.
if [[ "${1:-}" == "--self-test" ]]; then
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cp "$here/../.clang-format" "$tmp/"
  printf 'int  f( int x ){return x+1;}\n' > "$tmp/bad.cpp"
  printf 'int g(int x) { return x; }\n' > "$tmp/good.h"
  (cd "$tmp" && git init -q && git add bad.cpp good.h)
  set +e
  out="$(bash "${BASH_SOURCE[0]}" "$tmp" 2>&1)"
  rc=$?
  set -e
  if [ "$rc" -ne 1 ] || [[ "$out" != *"bad.cpp"* ]] || [[ "$out" == *"good.h"* ]]; then
    echo "self-test: expected a failure naming bad.cpp only (exit 1), got exit $rc:"
    echo "$out"
    exit 1
  fi
  "$CLANG_FORMAT" -i "$tmp/bad.cpp"
  bash "${BASH_SOURCE[0]}" "$tmp" > /dev/null || { echo "self-test: a formatted tree failed"; exit 1; }
  echo "self-test: passed (the check failed on bad.cpp, then passed once it was formatted)"
  exit 0
fi

ROOT="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$ROOT"
git rev-parse --git-dir > /dev/null 2>&1 || { echo "format check: $ROOT is not a git work tree" >&2; exit 2; }
files=()
while IFS= read -r -d '' f; do
  [ -f "$f" ] && files+=("$f")  # tracked but deleted in the work tree: nothing to check
done < <(git ls-files -z -- '*.cpp' '*.h')
[ "${#files[@]}" -gt 0 ] || { echo "format check: no tracked *.cpp or *.h under $ROOT" >&2; exit 2; }

bad=()
for f in "${files[@]}"; do
  if ! out="$("$CLANG_FORMAT" --dry-run --Werror "$f" 2>&1)"; then
    # A style violation; anything else (a broken .clang-format, an unreadable file) is reported
    # as itself rather than as every file being badly formatted.
    if [[ "$out" != *"-Wclang-format-violations"* ]]; then
      echo "format check: $CLANG_FORMAT failed on $f:" >&2
      echo "$out" >&2
      exit 2
    fi
    bad+=("$f")
  fi
done

version="$("$CLANG_FORMAT" --version)"
if [ "${#bad[@]}" -gt 0 ]; then
  echo "format check FAILED: ${#bad[@]} of ${#files[@]} files differ from $version:"
  printf '  %s\n' "${bad[@]}"
  echo "fix with: clang-format -i <files>"
  exit 1
fi
echo "format check passed: ${#files[@]} files ($version)"
