#!/usr/bin/env bash
# The bash completion (completions/flowlab.bash) asked as bash asks it: COMP_WORDS, COMP_CWORD,
# then COMPREPLY. Usage: completion_test.sh FLOWLAB SOURCE_DIR
set -u
FLOWLAB=$1
ROOT=$2
cd "$ROOT" || exit 1
# shellcheck source=/dev/null
source "$ROOT/completions/flowlab.bash"
failures=0

complete_line() {  # words...: completes the last one
  COMP_WORDS=("$FLOWLAB" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _flowlab
  printf '%s\n' "${COMPREPLY[@]}"
}

expect() {  # description, expected word, words...
  local what=$1 want=$2
  shift 2
  if ! complete_line "$@" | grep -qxF -- "$want"; then
    echo "FAIL: $what: '$*' does not offer '$want' (got: $(complete_line "$@" | tr '\n' ' '))"
    failures=$((failures + 1))
  fi
}

expect "subcommands" query q
expect "subcommands" ui u
expect "global options" --workspace --wo
expect "a subcommand's options (from its --help)" --port ui --p
expect "a subcommand's options" --sort query --so
expect "spec files" experiments/quickstart.yaml run experiments/quick
expect "config groups after the spec" model= run experiments/quickstart.yaml mod
for option in "$ROOT"/configs/model/*.yaml; do
  name=$(basename "$option" .yaml)
  expect "a group's options" "model=$name" run experiments/quickstart.yaml model=
done
expect "runs by name" last show l
if complete_line run experiments/quickstart.yaml model= | grep -qvx 'model=.*'; then
  echo "FAIL: model= offers something that is not a model option"
  failures=$((failures + 1))
fi
[ "$failures" = 0 ] && echo "completion: all checks passed"
exit $((failures > 0))
