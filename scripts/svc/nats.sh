#!/usr/bin/env bash
# Runs one nats-server with JetStream (sync_interval always: an acked op is on
# disk before the ack). Execs: signals reach it.
#
#   nats.sh        WB_NATS_NODES=1 (default): the single server, data in $WB_RUN_DIR/nats
#   nats.sh N      node N (1..WB_NATS_NODES) of a cluster: server_name wb-nats-N,
#                  data in $WB_RUN_DIR/nats-N, routes to every node
#   nats.sh authorization
#                  prints only the authorization block (users, permissions, passwords
#                  from $WB_SECRETS_DIR) and exits: scripts/docker/secrets.sh writes the
#                  compose stack's copy with it, so both stacks share one table
#
# Ports/addresses per node come from scripts/env.sh (wb_nats_port N, ...).
# Writes $WB_RUN_DIR/nats-N.pid (the pid stays the server's: exec).
set -euo pipefail
. "$(dirname "$0")/../env.sh"
node=${1:-1}
[ "$node" = authorization ] ||
  { [[ $node =~ ^[0-9]+$ ]] && [ "$node" -ge 1 ] && [ "$node" -le "$WB_NATS_NODES" ]; } ||
  { echo "nats.sh: node must be 1..$WB_NATS_NODES (WB_NATS_NODES), got '$node'" >&2; exit 2; }

pw() { cat "$(wb_secret_file "nats-$1")"; }
# One user per role (README "Security"):
#   gateway   publishes ops, live messages, snapshot requests, view ids (KV) and JetStream API
#             calls; subscribes to republished ops, live messages, its inboxes
#   worker    JetStream API and acks, op-id claims, snapshot replies
#   observer  read-only (the nats CLI): subscribe to wb.>, stream/consumer info
#   admin     operators and tests: everything except wb.rp.>
# Nobody may publish wb.rp.>: only JetStream republishes stored ops there.
# Nobody but admin may delete or purge streams. Every node has the same users
# (the passwords are in $WB_SECRETS_DIR). The config holds them: mode 0600.
umask 077

# nats_authorization: the authorization block (users and permissions) on stdout.
nats_authorization() {
  cat <<CONF
authorization {
  users = [
    {user: gateway, password: "$(pw gateway)", permissions: {
      publish: {allow: ["wb.board.*.ev", "wb.board.*.live", "wb.snapshot", "\$JS.API.>", "\$JS.FC.>", "\$KV.WB_VIEWS.>"],
                deny: ["wb.rp.>", "\$JS.API.STREAM.DELETE.>", "\$JS.API.STREAM.PURGE.>", "\$JS.API.STREAM.MSG.DELETE.>"]}
      subscribe: {allow: ["wb.rp.*", "wb.board.*.live", "_INBOX.>"]}}}
    {user: worker, password: "$(pw worker)", permissions: {
      publish: {allow: ["\$JS.API.>", "\$JS.ACK.WB_OPS.>", "wb.opid.*.*", "_INBOX.>"],
                deny: ["wb.rp.>", "\$JS.API.STREAM.DELETE.>", "\$JS.API.STREAM.PURGE.>", "\$JS.API.STREAM.MSG.DELETE.>"]}
      subscribe: {allow: ["wb.snapshot", "_INBOX.>"]}}}
    {user: observer, password: "$(pw observer)", permissions: {
      publish: {allow: ["\$JS.API.INFO", "\$JS.API.STREAM.INFO.*", "\$JS.API.STREAM.NAMES", "\$JS.API.STREAM.LIST",
                        "\$JS.API.CONSUMER.INFO.*.*", "\$JS.API.CONSUMER.NAMES.*", "\$JS.API.CONSUMER.LIST.*",
                        "\$JS.API.DIRECT.GET.>", "\$JS.API.STREAM.MSG.GET.*"]}
      subscribe: {allow: ["wb.>", "_INBOX.>"]}}}
    {user: admin, password: "$(pw admin)", permissions: {publish: {deny: ["wb.rp.>"]}}}
  ]
}
CONF
}

# nats_conf NODE: the whole server configuration on stdout.
nats_conf() {
  local n=$1 dir i routes=
  if [ "$WB_NATS_NODES" = 1 ]; then dir=$WB_RUN_DIR/nats; else dir=$WB_RUN_DIR/nats-$n; fi
  cat <<CONF
listen: $(wb_nats_host "$n"):$(wb_nats_port "$n")
http: $(wb_nats_host "$n"):$(wb_nats_monitor_port "$n")
server_name: $([ "$WB_NATS_NODES" = 1 ] && echo wb-nats || echo "wb-nats-$n")
max_payload: 4MB
CONF
  # bench/engine.sh only: a side-by-side peer that sends no credentials is this user
  [ -n "${WB_NATS_NO_AUTH_USER:-}" ] && echo "no_auth_user: $WB_NATS_NO_AUTH_USER"
  nats_authorization
  cat <<CONF
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

if [ "$node" = authorization ]; then nats_authorization; exit 0; fi
if [ "$WB_NATS_NODES" = 1 ]; then dir=$WB_RUN_DIR/nats; else dir=$WB_RUN_DIR/nats-$node; fi
mkdir -p "$dir"
nats_conf "$node" > "$dir/nats.conf"
echo $$ > "$WB_RUN_DIR/nats-$node.pid"
exec nats-server -c "$dir/nats.conf"
