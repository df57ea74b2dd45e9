#!/usr/bin/env bash
# make run: builds what is missing, then runs the whole native stack in the
# foreground under supervisord (scripts/supervise.sh writes its configuration):
# a service that dies is restarted (with backoff if it keeps dying); Ctrl-C or
# SIGTERM stops every service in reverse order and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
command -v supervisord >/dev/null || { echo "run.sh: supervisord missing: run make deps" >&2; exit 1; }
make -s programs
if [ -f client/package.json ]; then
  if [ ! -f client/dist/index.html ] || [ -n "$(find client/src client/index.html client/package.json -newer client/dist/index.html 2>/dev/null | head -1)" ]; then
    (cd client && npm run -s build)
  fi
fi
bash scripts/tls.sh
mkdir -p "$WB_RUN_DIR/supervisor" "$WB_RUN_DIR/logs"
rm -f "$WB_RUN_DIR"/gw-*.down
conf=$WB_RUN_DIR/supervisor/supervisord.conf
bash scripts/supervise.sh conf > "$conf.new"
mv "$conf.new" "$conf"

gws= nats=
for ((i = 1; i <= WB_GATEWAYS; i++)); do gws+=" http://127.0.0.1:$(wb_gw_port $i) (gw-$i)"; done
for ((i = 1; i <= WB_NATS_NODES; i++)); do nats+=" http://$(wb_nats_host $i):$(wb_nats_monitor_port $i)"; done
cat <<MSG
Whiteboard native stack
  open        https://localhost:$WB_HTTPS_PORT/   (HTTP/3 on UDP $WB_HTTPS_PORT too)
  gateways   $gws
  nats        $WB_NATS_URL (stream WB_OPS, $WB_STREAM_REPLICAS replica(s); monitor$nats)
  postgres    $WB_PG_URL
  workers     $WB_WORKERS, http://127.0.0.1:$WB_WORKER_PORT/metrics$([ "$WB_WORKERS" -gt 1 ] && echo " (worker-N: port + N-1)")
  traefik API http://127.0.0.1:$WB_DASHBOARD_PORT/api/http/services/gateways@file
  logs        $WB_RUN_DIR/logs/<service>.log
  control     bash scripts/supervise.sh ctl status|stop|start|restart <service>
  stop        Ctrl-C
MSG
# Under `make run`, GNU make forwards SIGTERM to this process but only waits on
# SIGINT (a terminal's Ctrl-C reaches the whole process group anyway). So a
# SIGINT sent to make's pid alone, or make's death, is noticed here: make
# resets its SIGINT handler to the default before it waits (SigCgt in
# /proc/PID/status), and supervisord ($$ after the exec) is stopped as on Ctrl-C.
make_pid=$PPID
if [ "$(cat "/proc/$make_pid/comm" 2>/dev/null)" = make ]; then
  sigint_caught() { local m; m=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) && [ -n "$m" ] && (( 0x$m & 2 )); }
  caught=0; sigint_caught "$make_pid" && caught=1
  (
    trap '' INT TERM
    while sleep 0.5; do
      kill -0 $$ 2>/dev/null || exit 0 # supervisord is gone: nothing to stop
      if ! kill -0 "$make_pid" 2>/dev/null || { [ $caught = 1 ] && ! sigint_caught "$make_pid"; }; then
        echo "run.sh: make was interrupted; stopping the stack" >&2
        kill -INT $$ 2>/dev/null
        exit 0
      fi
    done
  ) </dev/null &
fi
exec supervisord -n -c "$conf"
