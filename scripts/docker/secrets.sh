#!/usr/bin/env bash
# The compose stack's NATS secrets (scripts/docker/up.sh runs this before `compose up`):
# in $WB_DOCKER_SECRETS_DIR (default $WB_RUN_DIR/docker/<project>.secrets; directory
# 0700) the same files as the native stack's scripts/secrets.sh makes (nats-gateway,
# nats-worker, nats-observer, nats-admin: random, never printed) plus
#   nats-route       the password of the cluster routes (profile cluster)
#   nats-auth.conf   the authorization block of scripts/svc/nats.sh (`nats.sh authorization`:
#                    the same users and permissions as natively, not a second copy)
# docker-compose.yml mounts them as Docker secrets (files under /run/secrets, never in an
# image layer, never in the environment). A file-based secret keeps its host owner and
# mode, so each is readable by the group of the one container user that needs it:
# 10002 (nats) for nats-auth.conf and nats-route, 10001 (gateway, worker) for their
# password. Idempotent: existing passwords are kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
export WB_SECRETS_DIR=${WB_DOCKER_SECRETS_DIR:-$WB_RUN_DIR/docker/${WB_DOCKER_PROJECT:-whiteboard}.secrets}
umask 077
for s in nats-gateway nats-worker nats-observer nats-admin nats-route; do wb_secret_file "$s" >/dev/null; done
bash scripts/svc/nats.sh authorization > "$WB_SECRETS_DIR/nats-auth.conf.$$"
mv "$WB_SECRETS_DIR/nats-auth.conf.$$" "$WB_SECRETS_DIR/nats-auth.conf"
grp() { chgrp "$1" "$WB_SECRETS_DIR/$2" && chmod 0640 "$WB_SECRETS_DIR/$2"; }
grp 10002 nats-auth.conf
grp 10002 nats-route
grp 10001 nats-gateway
grp 10001 nats-worker
