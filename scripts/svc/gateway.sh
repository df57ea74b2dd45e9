#!/usr/bin/env bash
# Runs one gateway: scripts/svc/gateway.sh gw-N (port WB_GW<N>_PORT, default
# WB_GW_PORT_BASE + N; scripts/env.sh). Writes $WB_RUN_DIR/gw-N.pid, then execs
# the gateway, so the pid is the gateway's and signals reach it directly.
# Restarts are the supervisor's job (make run: scripts/supervise.sh). While
# $WB_RUN_DIR/gw-N.down exists (scripts/takedown.sh) it starts no gateway.
set -euo pipefail
. "$(dirname "$0")/../env.sh"
# NATS role "gateway" (scripts/svc/nats.sh lists what it may do)
: "${WB_NATS_USER:=gateway}"
: "${WB_NATS_PASSWORD_FILE:=$(wb_secret_file nats-gateway)}"
export WB_NATS_USER WB_NATS_PASSWORD_FILE
id=${1:?usage: gateway.sh gw-N}
[[ $id =~ ^gw-([1-9][0-9]*)$ ]] || { echo "gateway.sh: unknown gateway '$id' (want gw-N)" >&2; exit 2; }
port=$(wb_gw_port "${BASH_REMATCH[1]}")
export WB_GATEWAY_ID=$id WB_PORT=$port
ulimit -n 65536 2>/dev/null || true
mkdir -p "$WB_RUN_DIR"
# The view-only link secret: one per run dir, shared by every gateway of it,
# kept across restarts. Created atomically (ln fails if another gateway won).
if [ -n "$WB_VIEW_SECRET_FILE" ] && [ ! -s "$WB_VIEW_SECRET_FILE" ]; then
  tmp=$(mktemp "$WB_VIEW_SECRET_FILE.XXXXXX")
  head -c 32 /dev/urandom | base64 > "$tmp"
  ln "$tmp" "$WB_VIEW_SECRET_FILE" 2>/dev/null || true
  rm -f "$tmp"
fi
if [ -e "$WB_RUN_DIR/$id.down" ]; then
  # taken down by scripts/takedown.sh MODE=kill: hold the supervisor's slot empty
  echo "gateway.sh: $id stays down while $WB_RUN_DIR/$id.down exists (make bringback GW=$id)" >&2
  exec sleep infinity
fi
echo $$ > "$WB_RUN_DIR/$id.pid"
exec "$WB_BUILD_DIR/wb-gateway"
