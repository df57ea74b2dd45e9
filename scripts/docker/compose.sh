#!/usr/bin/env bash
# `docker compose` for the stack started by scripts/docker/up.sh: the same project name,
# image choice (official or stand-in) and ports, from its state file
# ($WB_RUN_DIR/docker/<project>.env). usage: compose.sh ARGS...  e.g. compose.sh ps
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
project=${WB_DOCKER_PROJECT:-whiteboard}
state=${WB_DOCKER_ENV_FILE:-${WB_DOCKER_STATE_DIR:-$WB_RUN_DIR/docker}/$project.env}
if [ -f "$state" ]; then
  set -a
  # shellcheck disable=SC1090
  . "$state"
  set +a
fi
# The build secret host_ca is a file outside the build context: let bake read it.
export BUILDX_BAKE_ENTITLEMENTS_FS=${BUILDX_BAKE_ENTITLEMENTS_FS:-0}
exec docker compose -f "$PWD/docker-compose.yml" -p "$project" "$@"
