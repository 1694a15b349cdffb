#!/usr/bin/env bash
# with_postgres.sh COMMAND [ARGS...]: starts a throwaway PostgreSQL server (Debian's postgresql
# package) in a temporary data directory, listening only on a Unix socket there, runs COMMAND with
# FLOWLAB_TEST_POSTGRES set to its URI, then stops the server and removes the directory.
# Exits 77 (ctest's SKIP_RETURN_CODE), saying why, when no server can be started here.
set -uo pipefail

skip() { echo "SKIPPED: cannot start PostgreSQL: $*" >&2; exit 77; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || skip "no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)"

dir=$(mktemp -d /tmp/flowlab-pg.XXXXXX) || skip "mktemp failed"
# initdb refuses to run as root: the server then runs as the postgres user (the package makes it).
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || skip "running as root and there is no postgres user"
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; skip "initdb failed"; }
# No TCP, socket in the data's directory; fsync off (the data is thrown away afterwards) unless
# FLOWLAB_TEST_POSTGRES_FSYNC=on (benchmarks: a server as durable as a real one).
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses= -k $dir -c fsync=${FLOWLAB_TEST_POSTGRES_FSYNC:-off} -c max_connections=200" start >/dev/null ||
  { cat "$dir/server.log" >&2; skip "the server did not start"; }
"${as_owner[@]}" "$bindir/createdb" -h "$dir" -U postgres flowlab_test ||
  skip "createdb failed"

export FLOWLAB_TEST_POSTGRES="postgresql:///flowlab_test?host=$dir&user=postgres"
export FLOWLAB_TEST_POSTGRES_DATA="$dir/data" FLOWLAB_TEST_POSTGRES_BIN="$bindir"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $FLOWLAB_TEST_POSTGRES" >&2
"$@"
