#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: initdb in a temp dir, listen on loopback on a
# free port, create a database, run the given command with COMPUTE_WORKER_TEST_POSTGRES_URL set,
# then stop the cluster and delete it, however the command ends.
#
#   scripts/postgres-for-tests.sh npm test
#   scripts/postgres-for-tests.sh node --import tsx --test test/postgres/*.test.ts
#   scripts/postgres-for-tests.sh            # no command: print the URL and keep running until Ctrl-C
#
# As root (CI), the cluster runs as the `postgres` OS user: PostgreSQL refuses to run as root.
# Settings are for speed, not durability (fsync off): the data is thrown away anyway.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
DATABASE="${COMPUTE_WORKER_TEST_POSTGRES_DB:-compute_worker_test}"

log () { printf 'postgres-for-tests: %s\n' "$*" >&2; }

if [ ! -x "$PG_BIN/initdb" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "no PostgreSQL 15 in $PG_BIN: installing postgresql-15 from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  fi
  [ -x "$PG_BIN/initdb" ] || { log "PostgreSQL 15 binaries not found in $PG_BIN (set PG_BIN)"; exit 1; }
fi

# Run PostgreSQL's programs as `postgres` when we are root; as ourselves otherwise.
as_owner () {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  log "running as root but there is no 'postgres' OS user to run the cluster as"
  exit 1
fi

BASE="$(mktemp -d "${TMPDIR:-/tmp}/cw-postgres.XXXXXX")"
DATA="$BASE/data"
STARTED=''

cleanup () {
  local status=$?
  if [ -n "$STARTED" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || log "pg_ctl stop failed; see $BASE/server.log"
  fi
  rm -rf "$BASE"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] && chown postgres: "$BASE"
as_owner "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >"$BASE/initdb.log" 2>&1 ||
  { cat "$BASE/initdb.log" >&2; log "initdb failed"; exit 1; }

free_port () {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# A free port can be taken between the probe and the server's bind: try a few.
for attempt in 1 2 3 4 5; do
  PORT="$(free_port)"
  if as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 60 start -o \
      "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$BASE -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
    STARTED=1
    break
  fi
  log "start on port $PORT failed (attempt $attempt)"
  tail -n 5 "$BASE/server.log" >&2 || true
done
[ -n "$STARTED" ] || { log "could not start PostgreSQL"; exit 1; }

"$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$DATABASE\"" >/dev/null

export COMPUTE_WORKER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/$DATABASE"
# Tests that need PostgreSQL fail rather than skip while this is set.
export COMPUTE_WORKER_TEST_POSTGRES_REQUIRED=1
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') ready at $COMPUTE_WORKER_TEST_POSTGRES_URL (data in $BASE)"

if [ "$#" -eq 0 ]; then
  echo "export COMPUTE_WORKER_TEST_POSTGRES_URL=$COMPUTE_WORKER_TEST_POSTGRES_URL"
  log "press Ctrl-C to stop and delete the cluster"
  while true; do sleep 3600 & wait $!; done
fi

"$@"
