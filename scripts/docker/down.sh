#!/usr/bin/env bash
# make docker-down: stops the compose stack and removes its containers; the data volumes
# (NATS, PostgreSQL, ACME) are kept, WIPE=1 removes them and the NATS secrets too. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/docker/tools.sh
args=(down --remove-orphans --timeout 15)
[ "${WIPE:-0}" = 1 ] && args+=(--volumes)
bash scripts/docker/compose.sh --profile cluster "${args[@]}"
[ "${WIPE:-0}" = 1 ] && rm -f "${WB_DOCKER_ENV_FILE:-${WB_RUN_DIR:-$PWD/.run}/docker/${WB_DOCKER_PROJECT:-whiteboard}.env}"
# the NATS passwords go with the volumes (scripts/docker/secrets.sh makes new ones)
[ "${WIPE:-0}" = 1 ] && rm -rf "${WB_DOCKER_SECRETS_DIR:-${WB_RUN_DIR:-$PWD/.run}/docker/${WB_DOCKER_PROJECT:-whiteboard}.secrets}"
exit 0
