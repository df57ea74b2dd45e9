#!/usr/bin/env bash
# Runs one gateway: scripts/svc/gateway.sh gw-1|gw-2 (port from WB_GW1_PORT / WB_GW2_PORT).
#
# Plain mode (tests): execs the gateway, so signals reach it directly.
# WB_SUPERVISE=1 (make run): keeps the gateway's slot alive under honcho, so
# that taking one gateway down for the demo (scripts/takedown.sh) does not
# stop the whole stack: while $WB_RUN_DIR/<id>.down exists the gateway stays
# down; when it is removed the gateway starts again. SIGTERM/SIGINT to this
# script stops the gateway gracefully and exits.
set -euo pipefail
. "$(dirname "$0")/../env.sh"
id=${1:?usage: gateway.sh gw-1|gw-2}
case $id in
  gw-1) port=$WB_GW1_PORT ;;
  gw-2) port=$WB_GW2_PORT ;;
  *) echo "unknown gateway $id" >&2; exit 2 ;;
esac
export WB_GATEWAY_ID=$id WB_PORT=$port
ulimit -n 65536 2>/dev/null || true
bin=$WB_BUILD_DIR/wb-gateway
mkdir -p "$WB_RUN_DIR"
if [ "${WB_SUPERVISE:-0}" != 1 ]; then
  exec "$bin"
fi
child=
stop() { [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; [ -n "$child" ] && wait "$child" 2>/dev/null; rm -f "$WB_RUN_DIR/$id.pid"; exit 0; }
trap stop TERM INT
while :; do
  if [ -e "$WB_RUN_DIR/$id.down" ]; then sleep 0.2 & wait $! || true; continue; fi
  "$bin" & child=$!
  echo "$child" > "$WB_RUN_DIR/$id.pid"
  wait "$child" || true
  child=
  echo "gateway $id exited; $( [ -e "$WB_RUN_DIR/$id.down" ] && echo "down until $WB_RUN_DIR/$id.down is removed" || echo restarting)" >&2
  sleep 0.2 & wait $! || true
done
