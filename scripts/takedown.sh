#!/usr/bin/env bash
# Takes one gateway of the RUNNING native stack down, or brings it back.
#
#   scripts/takedown.sh GW=gw-1 MODE=term    SIGTERM: /healthz turns 503, clients get 1001, clean exit
#   scripts/takedown.sh GW=gw-1 MODE=kill    SIGKILL: a crash, sockets just drop
#   scripts/takedown.sh GW=gw-1 MODE=back    bring it back (same as scripts/bringback.sh GW=gw-1)
#
# (also positional: takedown.sh gw-1 kill). Ports and run dir come from
# scripts/env.sh (WB_GW<N>_PORT, WB_RUN_DIR, WB_DASHBOARD_PORT).
#
# The gateway process is found by its pid file ($WB_RUN_DIR/<gw>.pid, written by
# scripts/svc/gateway.sh), checked against the process actually listening on
# the gateway's port; if there is no usable pid file, by the port.
# Under `make run` (supervisord, scripts/supervise.sh) take-down is the
# supervisor's stop: MODE=term is `supervisorctl stop <gw>` (SIGTERM); MODE=kill
# creates $WB_RUN_DIR/<gw>.down (while it exists scripts/svc/gateway.sh holds
# the slot without starting a gateway), sends SIGKILL, then stops the slot.
# Bring-back removes the .down file and is `supervisorctl start <gw>`. Without
# a supervisor, bring-back starts scripts/svc/gateway.sh itself in the
# background (log in $WB_RUN_DIR/logs/<gw>.log). Bring-back waits until
# /healthz is 200 and, if Traefik's API answers, until Traefik reports the
# server UP again.
set -euo pipefail
. "$(dirname "$0")/env.sh"

GW=${GW:-} MODE=${MODE:-}
for a in "$@"; do
  case $a in
    GW=*) GW=${a#GW=} ;;
    MODE=*) MODE=${a#MODE=} ;;
    gw-*) GW=$a ;;
    term|kill|back) MODE=$a ;;
    *) echo "usage: $0 GW=gw-N MODE=term|kill|back" >&2; exit 2 ;;
  esac
done
[[ $GW =~ ^gw-([1-9][0-9]*)$ ]] || { echo "takedown: GW must be gw-N (got '${GW}')" >&2; exit 2; }
port=$(wb_gw_port "${BASH_REMATCH[1]}")
case $MODE in term|kill|back) ;; *) echo "takedown: MODE must be term, kill or back" >&2; exit 2 ;; esac

now_ms() { date +%s%3N; }

# pid of the wb-gateway listening on $port (empty if none)
pid_on_port() {
  ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}
is_gateway() { [ -n "${1:-}" ] && alive "$1" && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q 'wb-gateway'; }

find_pid() {
  local pf=$WB_RUN_DIR/$GW.pid p
  if [ -s "$pf" ]; then
    p=$(cat "$pf")
    if is_gateway "$p"; then
      local lp; lp=$(pid_on_port)
      if [ -z "$lp" ] || [ "$lp" = "$p" ]; then echo "$p"; return; fi
    fi
  fi
  p=$(pid_on_port)
  if is_gateway "$p"; then echo "$p"; fi
}

# alive and not a zombie (a killed child its parent has not reaped yet is gone for us)
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }

# supervisorctl on this stack's supervisord (make run); fails if there is none
ctl() { bash "$WB_ROOT/scripts/supervise.sh" ctl "$@"; }
supervised() { [ -S "$WB_RUN_DIR/supervisor/supervisor.sock" ] && ctl status "$GW" >/dev/null 2>&1 || [ $? = 3 ]; }

health() { curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$port/healthz" 2>/dev/null || true; }

traefik_status() {   # UP / DOWN / "" (no API)
  curl -s -m 1 "http://127.0.0.1:$WB_DASHBOARD_PORT/api/http/services/gateways@file" 2>/dev/null |
    python3 -c '
import json,sys
try: j=json.load(sys.stdin)
except Exception: sys.exit(0)
for u,s in (j.get("serverStatus") or {}).items():
    if u.endswith(":'"$port"'"): print(s)' 2>/dev/null || true
}

if [ "$MODE" = back ]; then
  t0=$(now_ms)
  rm -f "$WB_RUN_DIR/$GW.down"
  if supervised; then
    ctl start "$GW" >/dev/null || true   # "already started" is fine
    for _ in $(seq 1 50); do [ -n "$(find_pid)" ] && break; sleep 0.1; done
  elif [ -z "$(find_pid)" ]; then
    mkdir -p "$WB_RUN_DIR/logs"
    setsid nohup bash "$WB_ROOT/scripts/svc/gateway.sh" "$GW" >> "$WB_RUN_DIR/logs/$GW.log" 2>&1 < /dev/null &
    echo "takedown: started $GW (pid $!, log $WB_RUN_DIR/logs/$GW.log)"
  fi
  for _ in $(seq 1 150); do [ "$(health)" = 200 ] && break; sleep 0.1; done
  [ "$(health)" = 200 ] || { echo "takedown: $GW not healthy on :$port after 15 s" >&2; exit 1; }
  t1=$(now_ms)
  st=$(traefik_status)
  if [ -n "$st" ]; then
    for _ in $(seq 1 100); do [ "$(traefik_status)" = UP ] && break; sleep 0.1; done
    st=$(traefik_status)
  fi
  t2=$(now_ms)
  echo "takedown: $GW back (pid $(find_pid)): healthy after $((t1 - t0)) ms, Traefik status ${st:-unknown} after $((t2 - t0)) ms"
  [ -z "$st" ] || [ "$st" = UP ]
  exit
fi

pid=$(find_pid)
if [ -z "$pid" ]; then
  echo "takedown: no wb-gateway found for $GW (pid file $WB_RUN_DIR/$GW.pid, port $port)" >&2
  exit 1
fi
mkdir -p "$WB_RUN_DIR"
touch "$WB_RUN_DIR/$GW.down"          # keeps a restarted gateway slot empty
api=$(traefik_status)                  # empty: no Traefik API to ask
sig=TERM; [ "$MODE" = kill ] && sig=KILL
sup=; supervised && sup=1
t0=$(now_ms)
if [ -n "$sup" ] && [ "$sig" = TERM ]; then
  ctl stop "$GW" >/dev/null &          # the supervisor's stop: SIGTERM, waits for the exit
else
  kill -s "$sig" "$pid"
  [ -n "$sup" ] && ctl stop "$GW" >/dev/null &   # no restart: the slot stays stopped
fi
echo "takedown: sent SIG$sig to $GW (pid $pid, port $port)${sup:+ (supervisord: stopped until bringback)}"
# Wait for the process to go away (SIGTERM: health 503, grace, close 1001,
# drain), watching when Traefik takes the server out of the rotation.
t_exit= t_down=
for _ in $(seq 1 600); do
  if [ -n "$api" ] && [ -z "$t_down" ] && [ "$(traefik_status)" = DOWN ]; then t_down=$(now_ms); fi
  if [ -z "$t_exit" ] && ! alive "$pid"; then t_exit=$(now_ms); fi
  [ -n "$t_exit" ] && { [ -z "$api" ] || [ -n "$t_down" ]; } && break
  sleep 0.05
done
if [ -z "$t_exit" ]; then
  echo "takedown: $GW (pid $pid) still alive 30 s after SIG$sig" >&2
  exit 1
fi
if [ -n "$t_down" ]; then tr_msg="Traefik marked it DOWN $((t_down - t0)) ms after the signal"
elif [ -n "$api" ]; then tr_msg="Traefik did NOT mark it DOWN within 30 s"
else tr_msg="no Traefik API answering on :$WB_DASHBOARD_PORT"; fi
wait
echo "takedown: $GW exited $((t_exit - t0)) ms after SIG$sig; $tr_msg"
