#!/usr/bin/env bash
# Runs one gateway: scripts/svc/gateway.sh gw-1|gw-2 (port from WB_GW1_PORT/WB_GW2_PORT).
set -euo pipefail
. "$(dirname "$0")/../env.sh"
id=${1:?usage: gateway.sh gw-1|gw-2}
case $id in
  gw-1) port=$WB_GW1_PORT ;;
  gw-2) port=$WB_GW2_PORT ;;
  *) echo "unknown gateway $id" >&2; exit 2 ;;
esac
WB_GATEWAY_ID=$id WB_PORT=$port exec "$WB_BUILD_DIR/wb-gateway"
