# Native stack configuration: one table of every port and setting, with its
# default. Sourced by scripts/run.sh, scripts/svc/*.sh and the tests; every
# value can be overridden from the environment. Keep docker-compose.yml and
# README.md's port table in step (tests/test_docker.py checks the names).
: "${WB_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${WB_RUN_DIR:=$WB_ROOT/.run}"            # data dirs, certs, logs of the native stack
: "${WB_TOOLS_DIR:=$WB_ROOT/.tools}"        # nats-server, nats, traefik binaries
: "${WB_HOST:=127.0.0.1}"
: "${WB_HTTPS_PORT:=8443}"                  # Traefik HTTPS + HTTP/3 (TCP and UDP)
: "${WB_HTTP_PORT:=8080}"                   # Traefik plain HTTP -> redirect to HTTPS
: "${WB_DASHBOARD_PORT:=8081}"              # Traefik dashboard/API (127.0.0.1 only)
: "${WB_GATEWAYS:=2}"                       # number of gateways gw-1..gw-N (make run)
: "${WB_GW_PORT_BASE:=9000}"                # gw-N listens on WB_GW<N>_PORT, default base + N
: "${WB_GW1_PORT:=$((WB_GW_PORT_BASE + 1))}"  # gateway gw-1 (HTTP/1.1 + WebSocket)
: "${WB_GW2_PORT:=$((WB_GW_PORT_BASE + 2))}"  # gateway gw-2
: "${WB_WORKERS:=1}"                        # number of workers sharing the durable consumer
: "${WB_NATS_NODES:=1}"                     # 1, or 3 for a JetStream cluster on loopback
: "${WB_NATS_PORT:=4222}"                   # NATS client port (node N: WB_NATS_PORT_<N>, default + N-1)
: "${WB_NATS_MONITOR_PORT:=8222}"           # NATS monitoring (/healthz, /jsz), node N: + N-1
: "${WB_NATS_CLUSTER_PORT:=6222}"           # NATS cluster routes (WB_NATS_NODES > 1), node N: + N-1
: "${WB_PG_PORT:=5433}"                     # PostgreSQL
: "${WB_WORKER_PORT:=9101}"                 # worker /healthz and /metrics
: "${WB_PG_DB:=whiteboard}"
: "${WB_PG_USER:=postgres}"
: "${WB_STREAM_REPLICAS:=$([ "$WB_NATS_NODES" -ge 3 ] && echo 3 || echo 1)}"  # WB_OPS replicas
: "${WB_PG_URL:=postgresql://$WB_PG_USER@127.0.0.1:$WB_PG_PORT/$WB_PG_DB}"
: "${WB_STATIC_DIR:=$WB_ROOT/client/dist}"
: "${WB_BUILD_DIR:=$WB_ROOT/build}"
: "${WB_VIEW_SECRET_FILE=$WB_RUN_DIR/view-secret}" # view-only link key, created once by svc/gateway.sh ("": shared through NATS KV)

# Per-instance addresses (N counts from 1). Each can be set on its own:
# WB_GW<N>_PORT; WB_NATS_PORT_<N>, WB_NATS_MONITOR_PORT_<N>,
# WB_NATS_CLUSTER_PORT_<N>; WB_NATS_HOST_<N> (client + monitor address, default
# 127.0.0.1) and WB_NATS_ROUTE_HOST_<N> (cluster address, default its host);
# worker N: WB_WORKER_PORT + N-1.
wb_gw_port() { local v="WB_GW${1}_PORT"; echo "${!v:-$((WB_GW_PORT_BASE + $1))}"; }
wb_nats_port() { local v="WB_NATS_PORT_$1"; echo "${!v:-$((WB_NATS_PORT + $1 - 1))}"; }
wb_nats_monitor_port() { local v="WB_NATS_MONITOR_PORT_$1"; echo "${!v:-$((WB_NATS_MONITOR_PORT + $1 - 1))}"; }
wb_nats_cluster_port() { local v="WB_NATS_CLUSTER_PORT_$1"; echo "${!v:-$((WB_NATS_CLUSTER_PORT + $1 - 1))}"; }
wb_nats_host() { local v="WB_NATS_HOST_$1"; echo "${!v:-127.0.0.1}"; }
wb_nats_route_host() { local v="WB_NATS_ROUTE_HOST_$1"; echo "${!v:-$(wb_nats_host "$1")}"; }
wb_worker_port() { echo $((WB_WORKER_PORT + $1 - 1)); }
# Gateways and workers get every node's URL (comma-separated; common/wb_nats.c).
if [ -z "${WB_NATS_URL:-}" ]; then
  WB_NATS_URL=
  for ((_i = 1; _i <= WB_NATS_NODES; _i++)); do
    WB_NATS_URL+="${WB_NATS_URL:+,}nats://$(wb_nats_host $_i):$(wb_nats_port $_i)"
  done
  unset _i
fi
export WB_ROOT WB_RUN_DIR WB_TOOLS_DIR WB_HOST WB_HTTPS_PORT WB_HTTP_PORT WB_DASHBOARD_PORT \
    WB_GATEWAYS WB_GW_PORT_BASE WB_GW1_PORT WB_GW2_PORT WB_WORKERS WB_NATS_NODES WB_NATS_PORT \
    WB_NATS_MONITOR_PORT WB_NATS_CLUSTER_PORT WB_STREAM_REPLICAS WB_PG_PORT WB_WORKER_PORT \
    WB_PG_DB WB_PG_USER WB_NATS_URL WB_PG_URL WB_STATIC_DIR WB_BUILD_DIR WB_VIEW_SECRET_FILE
export PATH="$WB_TOOLS_DIR/bin:$PATH"
. "$WB_ROOT/scripts/secrets.sh"               # wb_secret_file: NATS and PostgreSQL passwords
