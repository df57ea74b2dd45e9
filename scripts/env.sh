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
: "${WB_GW1_PORT:=9001}"                    # gateway gw-1 (HTTP/1.1 + WebSocket)
: "${WB_GW2_PORT:=9002}"                    # gateway gw-2
: "${WB_NATS_PORT:=4222}"                   # NATS client port
: "${WB_NATS_MONITOR_PORT:=8222}"           # NATS monitoring (/healthz, /jsz)
: "${WB_PG_PORT:=5433}"                     # PostgreSQL
: "${WB_WORKER_PORT:=9101}"                 # worker /healthz and /metrics
: "${WB_PG_DB:=whiteboard}"
: "${WB_PG_USER:=postgres}"
: "${WB_NATS_URL:=nats://127.0.0.1:$WB_NATS_PORT}"
: "${WB_PG_URL:=postgresql://$WB_PG_USER@127.0.0.1:$WB_PG_PORT/$WB_PG_DB}"
: "${WB_STATIC_DIR:=$WB_ROOT/client/dist}"
: "${WB_BUILD_DIR:=$WB_ROOT/build}"
export WB_ROOT WB_RUN_DIR WB_TOOLS_DIR WB_HOST WB_HTTPS_PORT WB_HTTP_PORT WB_DASHBOARD_PORT \
    WB_GW1_PORT WB_GW2_PORT WB_NATS_PORT WB_NATS_MONITOR_PORT WB_PG_PORT WB_WORKER_PORT \
    WB_PG_DB WB_PG_USER WB_NATS_URL WB_PG_URL WB_STATIC_DIR WB_BUILD_DIR
export PATH="$WB_TOOLS_DIR/bin:$PATH"
