#!/usr/bin/env bash
# `flowlab export` end to end, as a user outside flowlab meets it: train the tiny spec's model,
# export it, then run the loaders it wrote, which use only PyTorch (Debian's python3-torch) and
# LibTorch (built with the CMakeLists.txt the export ships): each feeds example.pt through model.pt
# and must reproduce flowlab's output. Also the command's refusals (exit 2, nothing replaced).
# Usage: export_loaders_test.sh FLOWLAB SOURCE_DIR [TORCH_DIR]   (TORCH_DIR: the LibTorch flowlab
# was built with, as CMake's Torch_DIR; the C++ loader is built against it)
set -u
FLOWLAB=$1
ROOT=$2
TORCH_DIR=${3:-}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A project of its own (its configs/ a copy of flowlab's), the run started in a subfolder: the
# workspace is the project's .flowlab, which export (a database command) finds from the root.
mkdir -p project/experiments
cp -r "$ROOT/configs" project/configs
cp "$ROOT/tests/data/specs/tiny.yaml" project/experiments/
(cd project/experiments && "$FLOWLAB" run tiny.yaml model=cnn nodes.train.params.width=8 \
  nodes.train.params.epochs=1 -q) > run.log 2>&1 || { cat run.log; echo "FAIL: the run"; exit 1; }
[ -f project/.flowlab/runs.db ] || fail "the run recorded into the project's workspace"
[ ! -e project/experiments/.flowlab ] || fail "no workspace in the subfolder the run started in"
cd project || exit 1

# The same run again: every node now comes from the cache (recorded CACHED), and its model
# exports all the same.
(cd experiments && "$FLOWLAB" run tiny.yaml model=cnn nodes.train.params.width=8 \
  nodes.train.params.epochs=1 -q) > rerun.log 2>&1 || { cat rerun.log; fail "the second run"; }
grep -q "CACHED" rerun.log || "$FLOWLAB" show last | grep -q CACHED || fail "the second run was cached"

"$FLOWLAB" export last --to exported > export.log 2>&1 || { cat export.log; fail "export"; }
grep -q "^model    classifier/cnn" export.log || fail "the summary names the model: $(cat export.log)"
for f in model.pt example.pt model.json load_model.py load_model.cpp CMakeLists.txt README.md; do
  [ -s "exported/$f" ] || fail "exported/$f written"
done

# Python: Debian's interpreter, where python3-torch lives (a virtualenv's python may lack torch).
if /usr/bin/python3 -c "import torch" 2> /dev/null; then
  /usr/bin/python3 exported/load_model.py > py.log 2>&1 || fail "load_model.py: $(cat py.log)"
  grep -q "^ok: (4, 1, 28, 28) -> (4, 10)" py.log || fail "load_model.py says ok: $(cat py.log)"
  # The forward is code in the file, and the weights are named parameters.
  /usr/bin/python3 - "$WORK/project/exported" > code.log 2>&1 << 'PY' || fail "TorchScript code: $(cat code.log)"
import sys, torch
m = torch.jit.load(sys.argv[1] + "/model.pt")
assert "_convolution" in m.code and "max_pool2d" in m.code, m.code
names = [n for n, _ in m.named_parameters()]
assert "layers.layers.0.weight" in names, names
PY
else
  echo "SKIP: the Python loader (/usr/bin/python3 has no torch; apt install python3-torch)"
fi

# C++: the shipped CMakeLists.txt against the LibTorch flowlab itself was built with.
torch_dir=()
[ -n "$TORCH_DIR" ] && torch_dir=(-DTorch_DIR="$TORCH_DIR")
if cmake -S exported -B loader-build -G Ninja -DCMAKE_BUILD_TYPE=Release "${torch_dir[@]}" \
  > cmake.log 2>&1 &&
  cmake --build loader-build >> cmake.log 2>&1; then
  ./loader-build/load_model > cpp.log 2>&1 || fail "load_model (C++): $(cat cpp.log)"
  grep -q "^ok: 4 examples -> 10 outputs each" cpp.log || fail "load_model says ok: $(cat cpp.log)"
  # It reads the folder it is given, and a damaged model is not "ok".
  cp -r exported damaged
  /usr/bin/python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
open(p, 'wb').write(b[: len(b) // 2])
" damaged/model.pt
  ./loader-build/load_model "$PWD/damaged" > damaged.log 2>&1
  [ $? -eq 2 ] || fail "a truncated model.pt: exit 2: $(cat damaged.log)"
  grep -q "^cannot load $PWD/damaged/model.pt" damaged.log || fail "says so: $(cat damaged.log)"
else
  tail -20 cmake.log
  fail "the C++ loader builds"
fi

# Refusals: a folder with files in it, a run without a model; exit 2 and the folder untouched.
before=$(sha256sum exported/model.pt)
"$FLOWLAB" export last --to exported > refuse.log 2>&1
[ $? -eq 2 ] || fail "export into a non-empty folder exits 2"
grep -q "pass --force" refuse.log || fail "the refusal says --force: $(cat refuse.log)"
[ "$(sha256sum exported/model.pt)" = "$before" ] || fail "the refused export changed model.pt"
"$FLOWLAB" export last --node data --to other > refuse.log 2>&1
[ $? -eq 2 ] || fail "a node without a model exits 2"
grep -q 'node "data" of run 2 is not a finished node with a trained model' refuse.log ||
  fail "the refusal names the node: $(cat refuse.log)"

# The model's cache entry gone (`flowlab cache gc`, a deleted workspace cache): said so.
rm -rf .flowlab/cache
"$FLOWLAB" export last --to gone > refuse.log 2>&1 && fail "export without the cache entry"
grep -q "the output of run 2.s nodes data, train, eval is no longer in the cache" refuse.log || fail "says the model left the cache: $(cat refuse.log)"

[ $failures -eq 0 ] && echo "export loaders: all checks passed"
exit $((failures > 0))
