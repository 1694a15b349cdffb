#!/usr/bin/env bash
# Fails when graph/, tracking/, plot/ or common/ include LibTorch (torch/, ATen/, c10/ or caffe2/
# headers), directly or through a project header they include. Debian installs those headers in
# the default include path, so a stray include compiles even in a target that does not link torch.
#
#   tests/check_torch_free.sh [ROOT]     check the tree at ROOT (default: this checkout)
#   tests/check_torch_free.sh --self-test
#                                        show that the check passes a clean tree and catches a
#                                        direct and an indirect include (ctest runs both)
set -euo pipefail

readonly kTorchFreeDirs=(common graph tracking plot)
readonly kTorchInclude='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](torch|ATen|c10|caffe2)/'
readonly kProjectInclude='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)"'

# Prints one line per torch include reachable from the torch-free folders under $1; returns 1 if
# there is any. Project headers are followed as the build finds them: relative to the root (the
# include path every target has) or to the including file.
check() {
  local root=$1 dir found=0
  for dir in "${kTorchFreeDirs[@]}"; do
    if [[ ! -d "$root/$dir" ]]; then
      echo "check_torch_free: no $dir/ under $root" >&2
      return 2
    fi
  done
  local -A seen=()
  local -a queue=() chain_of=()
  local file
  while IFS= read -r -d '' file; do
    queue+=("$file")
    chain_of+=("")
  done < <(cd "$root" && find "${kTorchFreeDirs[@]}" -type f \
             \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' \) -print0)
  local i=0 rel chain line inc target
  while ((i < ${#queue[@]})); do
    rel=${queue[i]}
    chain=${chain_of[i]}
    ((i += 1))
    [[ -n "${seen[$rel]:-}" ]] && continue
    seen[$rel]=1
    while IFS= read -r line; do
      echo "${chain}${rel}:${line%%:*}: ${line#*:}"
      found=1
    done < <(grep -En "$kTorchInclude" "$root/$rel" || true)
    while IFS= read -r line; do
      [[ $line =~ $kProjectInclude ]] || continue
      inc=${BASH_REMATCH[1]}
      target=""
      if [[ -f "$root/$inc" ]]; then
        target=$inc
      elif [[ -f "$root/$(dirname "$rel")/$inc" ]]; then
        target=$(dirname "$rel")/$inc
      fi
      if [[ -n "$target" && -z "${seen[$target]:-}" ]]; then
        queue+=("$target")
        chain_of+=("${chain}${rel} -> ")
      fi
    done < <(grep -E "$kProjectInclude" "$root/$rel" || true)
  done
  return $found
}

self_test() {
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp"/{common,graph,tracking,plot,ops}
  printf '#pragma once\n#include <string>\n' > "$tmp/common/ok.h"
  printf '#include "common/ok.h"\n// #include <torch/torch.h> in a comment is fine\n' \
    > "$tmp/graph/ok.cpp"
  local out
  if ! out=$(check "$tmp"); then
    echo "self-test: a clean tree failed the check:"; echo "$out"; return 1
  fi
  # A direct include, and one through a header of a torch folder.
  printf '#include <ATen/core/Tensor.h>\n' > "$tmp/ops/tensor.h"
  printf '#include "common/ok.h"\n#include <c10/util/Half.h>\n' > "$tmp/tracking/bad.cpp"
  printf '#include "ops/tensor.h"\n' > "$tmp/plot/indirect.h"
  local rc=0
  out=$(check "$tmp") || rc=$?
  echo "$out"
  if ((rc != 1)); then
    echo "self-test: expected exit status 1 for a tree with torch includes, got $rc"; return 1
  fi
  if ! grep -qF 'tracking/bad.cpp:2: #include <c10/util/Half.h>' <<<"$out" ||
     ! grep -qF 'plot/indirect.h -> ops/tensor.h:1: #include <ATen/core/Tensor.h>' <<<"$out"; then
    echo "self-test: a violation was not reported"; return 1
  fi
  echo "self-test: passed (the check fails on both violations above)"
}

if [[ "${1:-}" == "--self-test" ]]; then
  self_test
  exit
fi
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
rc=0
out=$(check "$root") || rc=$?
if ((rc == 0)); then
  echo "check_torch_free: ${kTorchFreeDirs[*]} include no torch, ATen, c10 or caffe2 header"
elif ((rc == 1)); then
  echo "$out"
  echo "check_torch_free: the folders above must stay torch-free (torch code goes in ops/ or" \
       "datasets/)"
fi
exit $rc
