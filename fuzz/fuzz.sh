#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (see fuzz/README.md); ./dev.sh fuzz calls this.
#   fuzz/fuzz.sh [SECONDS | -runs=N[:SECONDS]] [TARGET...]
# SECONDS per target (default 60), or a number of executions per target (stopping after SECONDS
# if given first: -runs=1000000:600 is "a million executions or 10 minutes"); TARGETs default to
# all.
# Configures $FLOWLAB_FUZZ_BUILD_DIR (default build-fuzz/ in the checkout) with clang and
# -DFLOWLAB_BUILD_FUZZ=ON, seeds each target's corpus from the shipped specs, configs and test
# data (regenerated every time, in BUILD/fuzz-seeds/TARGET; what the fuzzer finds accumulates in
# BUILD/fuzz-corpus/TARGET), runs the targets one after another and prints a table of executions,
# execs/s, coverage (cov: edges, ft: features) and time per target. A crash, leak, timeout or
# out-of-memory input is saved as BUILD/fuzz-artifacts/TARGET/crash-* (or leak-, timeout-, oom-)
# and the script exits 1 after the table.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FLOWLAB_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
ALL_TARGETS=(compose override sweep query_filter idx cache_record)

budget="${1:-60}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
if [[ "$budget" == -runs=*:* ]]; then
  limit=("${budget%%:*}" -max_total_time="${budget##*:}")
elif [[ "$budget" == -runs=* ]]; then
  limit=("$budget" -max_total_time=0)
else
  limit=(-max_total_time="$budget")
fi

log() { printf '==> %s\n' "$*" >&2; }

if [ ! -f "$BUILD/build.ninja" ]; then
  log "configuring the fuzz targets (clang, ASan + UBSan + libFuzzer) in $BUILD"
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DFLOWLAB_BUILD_FUZZ=ON -DFLOWLAB_BUILD_TESTS=OFF
fi
log "building the fuzz targets"
cmake --build "$BUILD" --target fuzz_all

# --- seed corpora: files from the checkout, one input each --------------------------------------
seed_dir() { rm -rf "$BUILD/fuzz-seeds/$1" && mkdir -p "$BUILD/fuzz-seeds/$1" && echo "$BUILD/fuzz-seeds/$1"; }
n=0
seed() {  # seed DIR TEXT: one input whose bytes are TEXT with \0 for NULs (printf %b escapes)
  n=$((n + 1))
  printf '%b' "$2" >"$1/seed-$n"
}

d=$(seed_dir compose)
cp "$ROOT"/experiments/*.yaml "$d"/ 2>/dev/null || true
for f in "$ROOT"/tests/data/specs/*.yaml "$ROOT"/tests/data/bad_specs/*.yaml; do
  cp "$f" "$d/$(basename "$(dirname "$f")")_$(basename "$f")"
done
for f in "$ROOT"/configs/*/*.yaml; do cp "$f" "$d/config_$(basename "$(dirname "$f")")_$(basename "$f")"; done
seed "$d" 'defaults:\n  - model: cnn\n  - optimizer@opt: adam\n  - _self_\nseed: 0\na: ${seed}\nb: x${a}\0model=mlp\0++opt.lr=0.5\0+extra=globals'
seed "$d" 'defaults: [extra: nested]\nx: {y: [1, 2, ${x.y.0}]}\0~x.y\0x={z: 1}'

d=$(seed_dir override)
# Every `in:` of Hydra's override cases (tests/data/hydra_overrides/cases.yaml), unescaped.
while IFS= read -r line; do
  seed "$d" "$line"
done < <(grep -o '{in: "\([^"\\]\|\\.\)*"' "$ROOT/tests/data/hydra_overrides/cases.yaml" |
           sed -e 's/^{in: "//' -e 's/"$//')

d=$(seed_dir sweep)
for f in "$ROOT"/experiments/*.yaml "$ROOT"/tests/data/specs/*.yaml; do
  grep -q '^sweep:' "$f" && cp "$f" "$d/$(basename "$f")"
done
seed "$d" 'sweep:\n  params:\n    seed: [0, 1]\n    lr: range(0,1,0.25)\n\0model=glob(*,exclude=s*)\0a=1,2'
seed "$d" 'x: 1\0+a=choice(1,2)\0b=shuffle(range(3),seed=1)\0c=sort(3,1,2)'

d=$(seed_dir query_filter)
# String literals from the query tests, then a few whole queries (filter \0 columns \0 sort).
grep -oh '"[^"]*[=<>][^"]*"\|"[^"]*\(LIKE\|IN\|metrics\.\|params\.\|tags\.\)[^"]*"' \
  "$ROOT"/tests/tracking/query_test.cpp | sed -e 's/^"//' -e 's/"$//' | sort -u |
  while IFS= read -r line; do printf '%s' "$line" >"$d/test-$(printf '%s' "$line" | cksum | cut -d' ' -f1)"; done
seed "$d" "metrics.eval.accuracy > 0.5 and params.lr = '0.01' or tags.note LIKE 'it''s%'\0id,name,metrics.accuracy\0-metrics.eval.accuracy"
seed "$d" "status IN ('FINISHED', 'failed') AND attributes.start_time > '2024-05-01 12:00'\0params.\`a b\`\0start_time DESC"

d=$(seed_dir idx)
idx_images='\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x03\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c'
idx_labels='\x00\x00\x08\x01\x00\x00\x00\x05\x09\x00\x03\x03\x01'
seed "$d" "$idx_images"
seed "$d" "$idx_labels"
printf '%b' "$idx_images" | gzip -c >"$d/images.gz"
printf '%b' "$idx_labels" | gzip -c >"$d/labels.gz"
cp /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz "$d/" 2>/dev/null || true

d=$(seed_dir cache_record)
seed "$d" '{\n "checksums": {"output/value.txt": "0000000000000000"},\n "files": [{"kind": "svg", "path": "plot.svg"}],\n "has_output": true,\n "metrics": [["accuracy", 3, 0.875], ["loss", 1, null]],\n "node": "train",\n "op": "train.classifier"\n}'
seed "$d" '{"op": "x", "node": "y", "has_output": false, "metrics": [], "files": []}'

# --- run ----------------------------------------------------------------------------------------
# -rss_limit_mb: a parser that allocates what a header claims shows up as an OOM; -timeout: one
# input taking over 10 s is a hang. Leak detection is on (libFuzzer's default with ASan).
# compose: a 16 KiB spec may legitimately expand (aliases) to nearly kMaxSpecValues = 1,000,000
# values, which takes seconds to compose under the sanitizers: 60 s before it counts as a hang.
declare -A max_len=([compose]=16384 [sweep]=16384 [cache_record]=8192)
declare -A timeout=([compose]=60 [sweep]=60)
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
rows=()
for t in "${targets[@]}"; do
  corpus="$BUILD/fuzz-corpus/$t" artifacts="$BUILD/fuzz-artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  log "fuzzing $t (${limit[*]})"
  logfile="$BUILD/fuzz-$t.log"
  started=$SECONDS
  set +e
  "$BUILD/fuzz/${t}_fuzz" "${limit[@]}" -max_len="${max_len[$t]:-4096}" -timeout="${timeout[$t]:-10}" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$corpus" "$BUILD/fuzz-seeds/$t" >"$logfile" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logfile")
  secs=$((SECONDS - started))
  cov=$( (grep -ao 'cov: [0-9]* ft: [0-9]*' "$logfile" || true) | tail -1)
  result=ok
  if [ $rc -ne 0 ]; then
    result="FAILED (rc $rc, see $logfile)"
    failed=1
    grep -a -B2 -A30 'ERROR\|terminate\|fuzz property' "$logfile" | head -60 >&2
  fi
  rows+=("$(printf '%-13s %10s %8s %-22s %6s  %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${secs:-?}" "$result")")
done
printf '\n%-13s %10s %8s %-22s %6s  %s\n' target execs execs/s coverage secs result
printf '%s\n' "${rows[@]}"
exit $failed
