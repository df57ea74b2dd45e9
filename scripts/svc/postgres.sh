#!/usr/bin/env bash
# Runs PostgreSQL in the foreground for the native stack: data dir
# $WB_RUN_DIR/pg (initdb on first use, owned by the `postgres` user: the
# server refuses root), TCP on 127.0.0.1:$WB_PG_PORT only (no unix socket),
# scram-sha-256 password auth (the password is secret pg-$WB_PG_USER in
# $WB_SECRETS_DIR, scripts/secrets.sh; clients read it through PGPASSFILE),
# fsync and synchronous_commit left on. Creates
# database $WB_PG_DB on first use (the worker also creates it if missing).
# Execs the server as `postgres` (setpriv execs too), so SIGTERM reaches it
# (smart shutdown; SIGINT = fast).
set -euo pipefail
. "$(dirname "$0")/../env.sh"

pg_bin=${WB_PG_BIN:-}
if [ -z "$pg_bin" ]; then
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    [ -x "$d/postgres" ] && { pg_bin=$d; break; }
  done
fi
[ -x "${pg_bin:-}/postgres" ] || { echo "postgres.sh: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }

data=$WB_RUN_DIR/pg
pg_user=postgres
as_pg() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid="$pg_user" --regid="$pg_user" --init-groups -- "$@"
  else "$@"; fi
}

mkdir -p "$data"
if [ "$(id -u)" = 0 ]; then
  # Every ancestor of the data dir must be traversable (x) by postgres.
  d=$data
  while d=$(dirname "$d"); [ "$d" != / ]; do
    if ! setpriv --reuid="$pg_user" --regid="$pg_user" --init-groups -- test -x "$d"; then
      echo "postgres.sh: chmod o+x $d (so the postgres user can reach $data)" >&2
      chmod o+x "$d"
    fi
  done
  chown "$pg_user:$pg_user" "$data"
fi
chmod 700 "$data"

pwsecret=$(wb_secret_file "pg-$WB_PG_USER")
wb_pgpass_file >/dev/null
if [ ! -s "$data/PG_VERSION" ]; then
  echo "postgres.sh: initdb $data" >&2
  # initdb runs as postgres and reads the password from a copy it may open
  pwtmp=$(mktemp "$WB_RUN_DIR/.pgpw.XXXXXX")
  cat "$pwsecret" > "$pwtmp"
  [ "$(id -u)" = 0 ] && chown "$pg_user" "$pwtmp"
  as_pg "$pg_bin/initdb" -D "$data" -U "$WB_PG_USER" --auth=scram-sha-256 --pwfile="$pwtmp" \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwtmp"
elif grep -qE '^[^#].*[[:space:]]trust[[:space:]]*$' "$data/pg_hba.conf"; then
  # A data dir made before passwords: set the password, then require it.
  echo "postgres.sh: switching $data from trust to scram-sha-256" >&2
  { printf "ALTER USER \"%s\" PASSWORD '" "$WB_PG_USER"; tr -d "'\n" < "$pwsecret"; printf "';\n"; } |
    as_pg "$pg_bin/postgres" --single -D "$data" -j postgres >/dev/null
  as_pg sed -i -E 's/[[:space:]]trust[[:space:]]*$/ scram-sha-256/' "$data/pg_hba.conf"
fi

# Database on first use: single-user mode needs no running server (and no
# socket); a marker keeps later starts fast.
marker=$data/.wb-db-$WB_PG_DB
if [ ! -e "$marker" ]; then
  out=$(echo "CREATE DATABASE \"$WB_PG_DB\"" | as_pg "$pg_bin/postgres" --single -D "$data" -j postgres 2>&1) || true
  if echo "$out" | grep -q "ERROR" && ! echo "$out" | grep -q "already exists"; then
    echo "postgres.sh: create database $WB_PG_DB failed: $out" >&2
    exit 1
  fi
  as_pg touch "$marker"
fi

exec setpriv --reuid="$pg_user" --regid="$pg_user" --init-groups -- \
  "$pg_bin/postgres" -D "$data" \
  -c listen_addresses=127.0.0.1 -c port="$WB_PG_PORT" -c unix_socket_directories= \
  -c fsync=on -c synchronous_commit=on -c max_connections=100 \
  -c logging_collector=off -c log_min_messages=warning -c log_line_prefix='%m [%p] '
