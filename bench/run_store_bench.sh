#!/usr/bin/env bash
# Results-store throughput on both backends, side by side on this machine:
#   1. metric rows/s from 8 concurrent writer processes (store_writers_bench), into a SQLite file
#      and into a PostgreSQL server (a throwaway one, started by tests/tracking/with_postgres.sh);
#   2. the query benchmark: 1,000 runs with 100 metric rows each (100k), six filters/sorts
#      checked against hand-written SQL (unit_core's thousand_runs_agree_with_raw_sql), with
#      each query's time.
#   bench/run_store_bench.sh [procs] [rows per process]       defaults: 8 100000
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FLOWLAB_BUILD_DIR:-$ROOT/build}"
PROCS=${1:-8}
ROWS=${2:-100000}
cmake -S "$ROOT" -B "$BUILD" -DFLOWLAB_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" --target store_writers_bench unit_core >/dev/null
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# A server that syncs its commits to disk, as a real one does.
FLOWLAB_TEST_POSTGRES_FSYNC=on "$ROOT/tests/tracking/with_postgres.sh" bash -c "
  '$BUILD/bench/store_writers_bench' --store '$W/runs.db' --procs $PROCS --rows $ROWS
  '$BUILD/bench/store_writers_bench' --store \"\$FLOWLAB_TEST_POSTGRES\" --procs $PROCS --rows $ROWS
  echo
  echo 'query benchmark (1,000 runs, 100k metric rows): sqlite, then postgresql'
  '$BUILD/tests/unit_core' --run_test='tracking_query/thousand_runs_agree_with_raw_sql' \
    --log_level=message 2>&1 | grep -aE 'built|query ' | sed 's/\x1b\[[0-9;]*m//g'
"
