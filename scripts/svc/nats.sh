#!/usr/bin/env bash
# Runs nats-server with JetStream (file store under $WB_RUN_DIR/nats,
# sync_interval always: an acked op survives a crash). Execs: signals reach it.
set -euo pipefail
. "$(dirname "$0")/../env.sh"
mkdir -p "$WB_RUN_DIR/nats"
conf=$WB_RUN_DIR/nats/nats.conf
cat > "$conf" <<CONF
listen: 127.0.0.1:$WB_NATS_PORT
http: 127.0.0.1:$WB_NATS_MONITOR_PORT
server_name: wb-nats
max_payload: 4MB
jetstream {
  store_dir: "$WB_RUN_DIR/nats/js"
  sync_interval: always
}
CONF
exec nats-server -c "$conf"
