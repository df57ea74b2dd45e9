#!/usr/bin/env bash
# Runs one nats-server with JetStream (sync_interval always: an acked op is on
# disk before the ack). Execs: signals reach it.
#
#   nats.sh        WB_NATS_NODES=1 (default): the single server, data in $WB_RUN_DIR/nats
#   nats.sh N      node N (1..WB_NATS_NODES) of a cluster: server_name wb-nats-N,
#                  data in $WB_RUN_DIR/nats-N, routes to every node
#
# Ports/addresses per node come from scripts/env.sh (wb_nats_port N, ...).
# Writes $WB_RUN_DIR/nats-N.pid (the pid stays the server's: exec).
set -euo pipefail
. "$(dirname "$0")/../env.sh"
node=${1:-1}
[[ $node =~ ^[0-9]+$ ]] && [ "$node" -ge 1 ] && [ "$node" -le "$WB_NATS_NODES" ] ||
  { echo "nats.sh: node must be 1..$WB_NATS_NODES (WB_NATS_NODES), got '$node'" >&2; exit 2; }

# nats_conf NODE: the whole server configuration on stdout.
nats_conf() {
  local n=$1 dir i routes=
  if [ "$WB_NATS_NODES" = 1 ]; then dir=$WB_RUN_DIR/nats; else dir=$WB_RUN_DIR/nats-$n; fi
  cat <<CONF
listen: $(wb_nats_host "$n"):$(wb_nats_port "$n")
http: $(wb_nats_host "$n"):$(wb_nats_monitor_port "$n")
server_name: $([ "$WB_NATS_NODES" = 1 ] && echo wb-nats || echo "wb-nats-$n")
max_payload: 4MB
jetstream {
  store_dir: "$dir/js"
  sync_interval: always
}
CONF
  [ "$WB_NATS_NODES" = 1 ] && return
  for ((i = 1; i <= WB_NATS_NODES; i++)); do
    routes+="    nats-route://$(wb_nats_route_host "$i"):$(wb_nats_cluster_port "$i")"$'\n'
  done
  cat <<CONF
cluster {
  name: wb
  listen: $(wb_nats_route_host "$n"):$(wb_nats_cluster_port "$n")
  routes: [
$routes  ]
}
CONF
}

if [ "$WB_NATS_NODES" = 1 ]; then dir=$WB_RUN_DIR/nats; else dir=$WB_RUN_DIR/nats-$node; fi
mkdir -p "$dir"
nats_conf "$node" > "$dir/nats.conf"
echo $$ > "$WB_RUN_DIR/nats-$node.pid"
exec nats-server -c "$dir/nats.conf"
