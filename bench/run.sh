#!/usr/bin/env bash
# bench/run.sh (make bench): the standard benchmark ladder, ~10 minutes on a
# 2-core machine. Results (one JSON per run, summary.json, PNG plots) go to
# bench/results/<UTC time>/ (git-ignored; bench/results/latest points at the
# newest); the summary table is rewritten between the bench markers of
# docs/performance.md.
#
# By default it starts its own native stack (scripts/svc/*.sh: nats,
# postgres, worker, gw-1, gw-2, traefik) with the WB_* environment of
# scripts/env.sh on a private port block (BENCH_PORT_BASE, default 31400) and
# a temporary WB_RUN_DIR, so it never clashes with `make run` or the tests,
# and stops exactly the processes it started.
#
# To measure a stack that is already running (ours or a peer implementation),
# give its URLs instead; then the idle ladder restarts nothing:
#   BENCH_DIRECT_URL=ws://127.0.0.1:9001  BENCH_TRAEFIK_URL=wss://127.0.0.1:8443
#   BENCH_PIDS="gw=1234 traefik=5678"     BENCH_WORKER_METRICS=http://127.0.0.1:9101/metrics
# Other knobs: BENCH_QUICK=1 (a one-minute smoke ladder), BENCH_DURATION
# (seconds of load per step, default 10), BENCH_IDLE_S (seconds connected
# before the idle RSS sample, default 10), BENCH_P99_LIMIT_MS (50: a ladder
# stops after two steps in a row above it),
# BENCH_IDLE_LEVELS ("1000 5000 10000"), BENCH_RATES ("1 2 5 10 20 50 100"
# strokes/s per drawer), BENCH_CURSOR_RATES ("5 10 20 50" cursors/s per
# drawer), BENCH_STEPS ("idle direct traefik scale cursor": which parts to
# run), BENCH_BIN (another wb-bench build), BENCH_NO_TRAEFIK=1, BENCH_NO_DOCS=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH=${BENCH_BIN:-$ROOT/build/wb-bench}   # e.g. build/san/wb-bench (make SAN=1)
[ -x "$BENCH" ] || { echo "run.sh: $BENCH missing (run make)" >&2; exit 1; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-$ROOT/bench/results/$stamp}
mkdir -p "$OUT"
if [ -z "${BENCH_OUT:-}" ]; then ln -sfn "$stamp" "$ROOT/bench/results/latest"; fi
LOG=$OUT/run.log
say() { echo "[run.sh $(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

QUICK=${BENCH_QUICK:-0}
DUR=${BENCH_DURATION:-10}
IDLE_S=${BENCH_IDLE_S:-10}   # idle seconds before the RSS sample (presence traffic settles)
P99_LIMIT=${BENCH_P99_LIMIT_MS:-50}
IDLE_LEVELS=${BENCH_IDLE_LEVELS:-"1000 5000 10000"}
RATES=${BENCH_RATES:-"1 2 5 10 20 50 100"}
SCALE_LEVELS=${BENCH_SCALE_LEVELS:-"250 500 1000 2000"}
CURSOR_RATES=${BENCH_CURSOR_RATES:-"5 10 20 50"}
STEPS=" ${BENCH_STEPS:-idle direct traefik scale cursor} "
step() { [[ $STEPS == *" $1 "* ]]; }
if [ "$QUICK" = 1 ]; then
  DUR=${BENCH_DURATION:-3}; IDLE_LEVELS=${BENCH_IDLE_LEVELS:-"1000"}
  RATES=${BENCH_RATES:-"1 10"}; SCALE_LEVELS=${BENCH_SCALE_LEVELS:-"500"}
  CURSOR_RATES=${BENCH_CURSOR_RATES:-"10"}
fi

# Every connection is a file descriptor, in the bench and in the gateway.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
maxconn=0; for n in $IDLE_LEVELS; do [ "$n" -gt "$maxconn" ] && maxconn=$n; done
if [ "$(ulimit -n)" -lt $((maxconn + 200)) ]; then
  say "ulimit -n is $(ulimit -n): the $maxconn-connection level may fail (raise the hard limit)"
fi

# ---------- the stack ----------
PIDS=()          # what we started, to stop on exit
declare -A SVC   # name -> pid
EXTERNAL=0
[ -n "${BENCH_DIRECT_URL:-}" ] && EXTERNAL=1

stop_pid() { # stop one process we started, by pid
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
  if [ -n "${RUN_DIR_TMP:-}" ] && [ "${BENCH_KEEP_RUN_DIR:-0}" != 1 ]; then rm -rf "$RUN_DIR_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # url seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  say "timeout waiting for $1"; return 1
}
wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  say "timeout waiting for port $1"; return 1
}

start_svc() { # name script args...: the svc scripts exec, so $! is the service itself
  local name=$1; shift
  bash "$ROOT/scripts/svc/$1" "${@:2}" >>"$WB_RUN_DIR/$name.log" 2>&1 &
  SVC[$name]=$!
  PIDS+=($!)
}
restart_gw1() {
  stop_pid "${SVC[gw1]}"
  start_svc gw1 gateway.sh gw-1
  wait_http "http://127.0.0.1:$WB_GW1_PORT/healthz" 20
}

if [ "$EXTERNAL" = 0 ]; then
  base=${BENCH_PORT_BASE:-31400}
  RUN_DIR_TMP=$(mktemp -d /tmp/wb-bench-run.XXXXXX)
  chmod 755 "$RUN_DIR_TMP"
  export WB_RUN_DIR=$RUN_DIR_TMP
  export WB_NATS_PORT=$((base + 22)) WB_NATS_MONITOR_PORT=$((base + 23)) WB_PG_PORT=$((base + 33))
  export WB_GW1_PORT=$((base + 1)) WB_GW2_PORT=$((base + 2)) WB_WORKER_PORT=$((base + 11))
  export WB_HTTPS_PORT=$((base + 43)) WB_HTTP_PORT=$((base + 80)) WB_DASHBOARD_PORT=$((base + 81))
  # every bench client comes from 127.0.0.1: lift the per-address connection cap (default 200)
  export WB_MAX_CONNS_PER_IP=${WB_MAX_CONNS_PER_IP:-1000000}
  export WB_LOG_LEVEL=${WB_LOG_LEVEL:-warn} WB_TRAEFIK_ACCESS_LOG=/dev/null WB_TRAEFIK_LOG_LEVEL=ERROR
  # shellcheck source=../scripts/env.sh
  . "$ROOT/scripts/env.sh"
  for p in $WB_NATS_PORT $WB_PG_PORT $WB_GW1_PORT $WB_GW2_PORT $WB_WORKER_PORT $WB_HTTPS_PORT; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "run.sh: port $p is in use; set BENCH_PORT_BASE to a free block" >&2; exit 1
    fi
  done
  say "starting the native stack in $WB_RUN_DIR (ports from $base)"
  start_svc nats nats.sh; wait_port "$WB_NATS_PORT" 20
  WORKER=0
  if [ -x "$WB_BUILD_DIR/wb-worker" ]; then
    start_svc postgres postgres.sh
    if wait_port "$WB_PG_PORT" 60; then
      start_svc worker worker.sh
      wait_http "http://127.0.0.1:$WB_WORKER_PORT/healthz" 30 && WORKER=1
    fi
  fi
  start_svc gw1 gateway.sh gw-1; wait_http "http://127.0.0.1:$WB_GW1_PORT/healthz" 20
  start_svc gw2 gateway.sh gw-2; wait_http "http://127.0.0.1:$WB_GW2_PORT/healthz" 20
  TRAEFIK=0
  if [ "${BENCH_NO_TRAEFIK:-0}" != 1 ] && [ -x "$WB_TOOLS_DIR/bin/traefik" ]; then
    start_svc traefik traefik.sh
    wait_port "$WB_HTTPS_PORT" 30 && TRAEFIK=1
    # Traefik's health check must have seen both gateways before we connect.
    sleep 2
  fi
  DIRECT_URL=ws://127.0.0.1:$WB_GW1_PORT
  TRAEFIK_URL=wss://127.0.0.1:$WB_HTTPS_PORT
  WORKER_METRICS=""
  [ "$WORKER" = 1 ] && WORKER_METRICS=http://127.0.0.1:$WB_WORKER_PORT/metrics
else
  DIRECT_URL=$BENCH_DIRECT_URL
  TRAEFIK_URL=${BENCH_TRAEFIK_URL:-}
  TRAEFIK=0; [ -n "$TRAEFIK_URL" ] && TRAEFIK=1
  WORKER_METRICS=${BENCH_WORKER_METRICS:-}
fi

pid_args() { # --pid flags for the processes on a path: direct | traefik
  local a=()
  if [ "$EXTERNAL" = 1 ]; then
    for p in ${BENCH_PIDS:-}; do a+=(--pid "$p"); done
  else
    a+=(--pid "gw1=${SVC[gw1]}")
    [ "$1" = traefik ] && a+=(--pid "gw2=${SVC[gw2]}" --pid "traefik=${SVC[traefik]}")
    a+=(--pid "nats=${SVC[nats]}")
    [ -n "${SVC[worker]:-}" ] && a+=(--pid "worker=${SVC[worker]}")
  fi
  echo "${a[@]}"
}

bench() { # name args...: one wb-bench run -> $OUT/name.json (+ its command line)
  local name=$1; shift
  local cmd=("$BENCH" --json "$OUT/$name.json" --label "$name" --quiet "$@")
  [ -n "$WORKER_METRICS" ] && cmd+=(--worker-metrics "$WORKER_METRICS")
  echo "${cmd[*]}" >"$OUT/$name.cmd"
  say "$name: ${cmd[*]#$ROOT/}"
  "${cmd[@]}" >"$OUT/$name.txt" 2>>"$LOG" || say "$name: wb-bench exited $?"
  grep -E "^(connections|load|latency e2e|latency ack|strokes|errors)" "$OUT/$name.txt" | sed 's/^/    /' >&2 || true
}

p99_of() { # file.json [fanout|cursor] -> p99 in ms (integer), 999999 if broken
  python3 -c 'import json,sys
try:
  d=json.load(open(sys.argv[1]))
  cur = len(sys.argv) > 2 and sys.argv[2] == "cursor"
  h=d["latency_cursor" if cur else "latency_e2e"]; s=d["cursors" if cur else "strokes"]
  bad = s["missing"] > 0.01*max(1,s["expected_deliveries"]) or h["count"]==0
  print(999999 if bad else int(h["p99_ms"]))
except Exception: print(999999)' "$@"
}

t_start=$(date +%s)
# What was measured: commit, uncommitted changes, binaries' build times, machine.
{
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "(+$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -c .) uncommitted paths)"
  for b in "${WB_BUILD_DIR:-$ROOT/build}/wb-gateway" "${WB_BUILD_DIR:-$ROOT/build}/wb-worker" "$BENCH"; do
    if [ -e "$b" ]; then echo "${b##*/} built: $(date -u -r "$b" +%Y-%m-%dT%H:%M:%SZ)"; fi
  done
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/env.txt"

# ---------- 1. idle connections on one gateway: RSS per connection ----------
if step idle; then
  for n in $IDLE_LEVELS; do
    [ "$EXTERNAL" = 0 ] && restart_gw1   # fresh heap: the RSS delta is this level's alone
    bench "idle-$n" --url "$DIRECT_URL" --conns "$n" --boards $(((n + 99) / 100)) --drawers 0 \
      --duration 0 --idle "$IDLE_S" --drain 0 --connect-rate 2000 $(pid_args direct)
  done
  [ "$EXTERNAL" = 0 ] && restart_gw1
fi

# ---------- 2. fan-out: 10 boards x 100 clients, 10 drawers per board, rising rates ----------
ladder() { # path url kind(fanout|cursor)
  local path=$1 url=$2 kind=${3:-fanout} r p99 rates=$RATES over=0
  [ "$kind" = cursor ] && rates=$CURSOR_RATES
  for r in $rates; do
    local rate=(--rate "$r")
    [ "$kind" = cursor ] && rate=(--rate 0 --cursor-rate "$r")
    bench "$kind-$path-r$r" --url "$url" --conns 1000 --boards 10 --drawers 100 "${rate[@]}" \
      --duration "$DUR" --idle 2 --drain 5 $(pid_args "$path")
    p99=$(p99_of "$OUT/$kind-$path-r$r.json" "$kind")
    # Stop after two steps in a row over the limit: on a shared 2-core
    # machine one noisy step should not end the ladder.
    if [ "$p99" -gt "$P99_LIMIT" ]; then over=$((over + 1)); else over=0; fi
    if [ "$over" -ge 2 ]; then
      say "$kind-$path: p99 ${p99} ms > ${P99_LIMIT} ms twice in a row (at $r/s per drawer): stop"
      break
    fi
  done
}
step direct && ladder direct "$DIRECT_URL"

# ---------- 3. the same fan-out through Traefik (TLS, two gateways) ----------
if step traefik; then
  if [ "$TRAEFIK" = 1 ]; then ladder traefik "$TRAEFIK_URL"; else say "no Traefik: skipping its ladder"; fi
fi

# ---------- 4. scale: connections at a fixed per-client rate (100 per board, 10% draw at 2/s) ----------
if step scale; then
  for n in $SCALE_LEVELS; do
    bench "scale-direct-c$n" --url "$DIRECT_URL" --conns "$n" --boards $((n / 100)) --drawers $((n / 10)) \
      --rate 2 --duration "$DUR" --idle 2 --drain 5 --connect-rate 2000 $(pid_args direct)
  done
fi

# ---------- 5. ephemeral cursors (core NATS, no JetStream), rising rates ----------
step cursor && ladder direct "$DIRECT_URL" cursor

say "ladder done in $(($(date +%s) - t_start)) s"

# ---------- summary, plots, docs ----------
PY=$ROOT/.venv/bin/python3
[ -x "$PY" ] || PY=python3
docs_arg=(--markdown "$ROOT/docs/performance.md")
[ "${BENCH_NO_DOCS:-0}" = 1 ] && docs_arg=()
"$PY" "$ROOT/bench/plot.py" "$OUT" "${docs_arg[@]}" 2>&1 | tee -a "$LOG" >&2 || say "plot.py failed"
say "results in ${OUT#$ROOT/}"
