#!/usr/bin/env bash
# Runs the persistence worker (build/wb-worker) in the foreground, configured
# by the WB_* environment (WB_NATS_URL, WB_PG_URL, WB_WORKER_PORT, WB_BATCH,
# WB_BATCH_WAIT_MS, ...; `build/wb-worker --help` lists them). Execs: signals reach it.
# `worker.sh migrate` only applies the migrations.
set -euo pipefail
. "$(dirname "$0")/../env.sh"
# NATS role "worker" (scripts/svc/nats.sh lists what it may do)
: "${WB_NATS_USER:=worker}"
: "${WB_NATS_PASSWORD_FILE:=$(wb_secret_file nats-worker)}"
export WB_NATS_USER WB_NATS_PASSWORD_FILE
# PostgreSQL password (scram-sha-256) through libpq's password file
: "${PGPASSFILE:=$(wb_pgpass_file)}"
export PGPASSFILE
: "${WB_MIGRATIONS_DIR:=$WB_ROOT/migrations}"
export WB_MIGRATIONS_DIR
exec "${WB_WORKER_BIN:-$WB_BUILD_DIR/wb-worker}" "$@"
