#!/usr/bin/env bash
# make docker-up: builds the images and starts the compose stack in the background, waits
# until Traefik answers /healthz through HTTPS, prints the URL. Idempotent: a second run
# with nothing changed only checks (~10-20 s: BuildKit cache, containers kept).
# Settings (environment): WB_PUBLISH_ADDR (default: all interfaces), WB_DOCKER_HTTPS_PORT
# (443), WB_DOCKER_HTTP_PORT (80), WB_DASHBOARD_PORT (8081, on 127.0.0.1), WB_DOCKER_PROJECT
# (compose project name, default whiteboard), NATS_CLUSTER=1 (3-node JetStream cluster,
# profile cluster), WB_DOCKER_STANDINS (auto|1|0, scripts/docker/images.sh), WB_DOMAIN +
# WB_ACME_EMAIL (Let's Encrypt, README), WB_DOCKER_UP_TIMEOUT (seconds, default 300),
# WB_DOCKER_SECRETS_DIR (NATS passwords, default $WB_RUN_DIR/docker/<project>.secrets).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
t0=$(date +%s.%N)
bash scripts/docker/tools.sh

export WB_DOCKER_PROJECT=${WB_DOCKER_PROJECT:-whiteboard}
export WB_DOCKER_HTTPS_PORT=${WB_DOCKER_HTTPS_PORT:-443} WB_DOCKER_HTTP_PORT=${WB_DOCKER_HTTP_PORT:-80}
export WB_PUBLISH_ADDR=${WB_PUBLISH_ADDR:-}
export WB_DOCKER_STATE_DIR=${WB_DOCKER_STATE_DIR:-$WB_RUN_DIR/docker}
export WB_DOCKER_ENV_FILE=$WB_DOCKER_STATE_DIR/$WB_DOCKER_PROJECT.env
export WB_DOCKER_TLS_DIR=${WB_DOCKER_TLS_DIR:-$WB_RUN_DIR/tls}
export WB_DOCKER_SECRETS_DIR=${WB_DOCKER_SECRETS_DIR:-$WB_DOCKER_STATE_DIR/$WB_DOCKER_PROJECT.secrets}
mkdir -p "$WB_DOCKER_STATE_DIR"

# NATS passwords and the authorization block (Docker secrets; never printed).
bash scripts/docker/secrets.sh

# The certificate Traefik serves (mounted read-only; a Let's Encrypt one with WB_DOMAIN).
WB_RUN_DIR=$(dirname "$WB_DOCKER_TLS_DIR") bash scripts/tls.sh >/dev/null
# Traefik runs as uid/gid 10003 in its container: the key is readable by that group only.
chgrp 10003 "$WB_DOCKER_TLS_DIR/key.pem" && chmod 0640 "$WB_DOCKER_TLS_DIR/key.pem"
chmod 0644 "$WB_DOCKER_TLS_DIR/cert.pem" && chmod 0755 "$WB_DOCKER_TLS_DIR"

. scripts/docker/images.sh
wb_choose_images

if [ "${NATS_CLUSTER:-0}" = 1 ]; then
  export COMPOSE_PROFILES=cluster
  export WB_DOCKER_NATS_ROUTES="nats://nats:6222,nats://nats-2:6222,nats://nats-3:6222"
  export WB_DOCKER_NATS_URL="nats://nats:4222,nats://nats-2:4222,nats://nats-3:4222"
  export WB_DOCKER_STREAM_REPLICAS=3
fi
{
  for v in WB_DOCKER_PROJECT WB_DOCKER_HTTPS_PORT WB_DOCKER_HTTP_PORT WB_PUBLISH_ADDR WB_DASHBOARD_PORT \
    WB_DOCKER_TLS_DIR WB_DOCKER_SECRETS_DIR WB_DOCKER_NATS_ROUTES WB_DOCKER_NATS_URL WB_DOCKER_STREAM_REPLICAS \
    COMPOSE_PROFILES WB_DOMAIN WB_ACME_EMAIL WB_ACME_CA_SERVER WB_PG_PASSWORD WB_LOG_LEVEL; do
    [ -n "${!v:-}" ] && printf '%s=%q\n' "$v" "${!v}"
  done
  true
} >>"$WB_DOCKER_ENV_FILE"

echo "docker-up: docker compose up -d --build (project $WB_DOCKER_PROJECT)" >&2
bash scripts/docker/compose.sh up -d --build --remove-orphans --quiet-pull ||
  { echo "docker-up: docker compose up failed" >&2; exit 1; }
# A rebuild leaves the image it replaced untagged (<none>): ~100-250 MB per build that
# nothing uses. Remove those of ours (label wb.image, Dockerfiles; and the stand-in bases'
# label, which older builds carry); prune skips any image a container still runs, and
# leaves every other image alone.
for label in wb.image wb.standin.input; do
  docker image prune -f --filter "label=$label" >/dev/null ||
    echo "docker-up: could not remove superseded images (docker image prune --filter label=$label)" >&2
done

host=${WB_DOMAIN:-localhost}
url="https://$host:$WB_DOCKER_HTTPS_PORT/"
[ "$WB_DOCKER_HTTPS_PORT" = 443 ] && url="https://$host/"
deadline=$(($(date +%s) + ${WB_DOCKER_UP_TIMEOUT:-300}))
probe_ip=${WB_PUBLISH_ADDR:-127.0.0.1}
[ "$probe_ip" = 0.0.0.0 ] && probe_ip=127.0.0.1
probe() { # through Traefik, verifying the certificate against our CA
  curl -fsS -o /dev/null --max-time 3 --cacert "$WB_DOCKER_TLS_DIR/ca.pem" \
    --resolve "localhost:$WB_DOCKER_HTTPS_PORT:$probe_ip" "https://localhost:$WB_DOCKER_HTTPS_PORT/healthz"
}
until probe 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "docker-up: Traefik did not answer /healthz on https://localhost:$WB_DOCKER_HTTPS_PORT/ in time" >&2
    bash scripts/docker/compose.sh ps -a >&2 || true
    bash scripts/docker/compose.sh logs --tail 30 >&2 || true
    exit 1
  fi
  sleep 0.5
done
printf 'docker-up: ready in %.1f s: %s (HTTP/3 on udp %s)\n' \
  "$(echo "$(date +%s.%N) - $t0" | bc)" "$url" "$WB_DOCKER_HTTPS_PORT"
