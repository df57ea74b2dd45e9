#!/usr/bin/env bash
# make run: builds what is missing, then runs the whole native stack in the
# foreground under honcho (Procfile). Ctrl-C or SIGTERM stops every process.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
make -s programs
if [ -f client/package.json ]; then
  if [ ! -f client/dist/index.html ] || [ -n "$(find client/src client/index.html client/package.json -newer client/dist/index.html 2>/dev/null | head -1)" ]; then
    (cd client && npm run -s build)
  fi
fi
bash scripts/tls.sh
mkdir -p "$WB_RUN_DIR"
rm -f "$WB_RUN_DIR"/gw-*.down
cat <<MSG
Whiteboard native stack
  open        https://localhost:$WB_HTTPS_PORT/   (HTTP/3 on UDP $WB_HTTPS_PORT too)
  gateways    http://127.0.0.1:$WB_GW1_PORT (gw-1)  http://127.0.0.1:$WB_GW2_PORT (gw-2)
  nats        $WB_NATS_URL (monitor http://127.0.0.1:$WB_NATS_MONITOR_PORT)
  postgres    $WB_PG_URL
  worker      http://127.0.0.1:$WB_WORKER_PORT/metrics
  traefik API http://127.0.0.1:$WB_DASHBOARD_PORT/api/http/services/gateways@file
  stop        Ctrl-C
MSG
export WB_SUPERVISE=1 PYTHONUNBUFFERED=1
exec .venv/bin/honcho --no-colour -f Procfile start
