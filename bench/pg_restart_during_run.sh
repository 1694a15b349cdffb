#!/usr/bin/env bash
# Kills the PostgreSQL server (immediate shutdown, as a crash) 12 s into a quickstart run that
# records into it, starts it again 5 s later, and shows how the run ended and that every metric
# step it logged is there exactly once. The server is a throwaway one (with_postgres.sh).
#   bench/pg_restart_during_run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BENCH_F="${FLOWLAB_BUILD_DIR:-$ROOT/build}/experiments/flowlab" BENCH_ROOT="$ROOT"
FLOWLAB_TEST_POSTGRES_FSYNC=on "$ROOT/tests/tracking/with_postgres.sh" bash -c '
set -u
W=$(mktemp -d); trap "rm -rf $W" EXIT
as=(); [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
sock=$(dirname "$FLOWLAB_TEST_POSTGRES_DATA")
ctl() { "${as[@]}" "$FLOWLAB_TEST_POSTGRES_BIN/pg_ctl" -D "$FLOWLAB_TEST_POSTGRES_DATA" "$@" >/dev/null; }
"$BENCH_F" --workspace "$W" --store "$FLOWLAB_TEST_POSTGRES" run "$BENCH_ROOT/experiments/quickstart.yaml" -q >/dev/null 2>"$W/err" &
pid=$!
sleep 12; ctl -m immediate -w stop; echo "server killed at $(date +%T)"
sleep 5; ctl -l "$sock/server.log" -w -o "-c listen_addresses= -k $sock" start; echo "server back at $(date +%T)"
wait $pid && echo "flowlab run exited 0" || echo "flowlab run exited $?: $(tail -2 "$W/err")"
"$BENCH_F" --store "$FLOWLAB_TEST_POSTGRES" runs
"$BENCH_F" --store "$FLOWLAB_TEST_POSTGRES" sql "SELECT node, key, COUNT(*) AS rows_, COUNT(DISTINCT step) AS steps FROM metrics GROUP BY node, key HAVING COUNT(*) > 1 ORDER BY 1, 2"
'
