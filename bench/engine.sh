#!/usr/bin/env bash
# bench/engine.sh (make bench-engine; also the last part of make bench): the
# gateway engine targets of issue #10, printed, never asserted:
#   cursor    1,000 clients / 10 boards / 10 drawers x 50 cursors/s: gateway
#             CPU per offered delivery and fan-out latency p50/p99
#   saturate  the gateway pinned to one core (taskset): deliveries/s and p99
#             at rising cursor rates, 1,000 clients / 10 boards / 100 drawers
#             (the gateway's cursor window off, so that every cursor is sent)
#   durable   64 clients on 64 boards each keeping 16 ops in flight (a client
#             sends what its window allows as one array frame, up to
#             ENGINE_DURABLE_BATCH ops, 16; 1: one op per frame): acked
#             ops/s, ops per fsync, CPU per acked op, ack p99, over
#             ENGINE_DURABLE_RUNS (3) runs per server (median, range); the disk's
#             fsync rate (200-byte appends, fsync after each) is measured
#             before each server's run and after the last, and averaged
#   ack1k     64 clients on 64 boards at 1,000 ops/s in total: ack p50/p99,
#             and a timed fsync every 20 ms meanwhile (the disk's stalls)
#   idle      RSS per idle connection at 10,000 connections
# Each step runs against this gateway and, when BENCH_PEER_SRC names a copy
# of a peer implementation of the protocol (e.g. the Node.js peer), against
# that peer too, in the same run, on the same nats-server (sync_interval:
# always). The peer is copied to a temp dir and `npm install`ed there; the
# project does not depend on it.
#
# Results: bench/results/engine-<UTC>/ (one wb-bench JSON per step and
# server, fsync.json, summary.json, engine.png); the table is rewritten
# between the engine markers of docs/performance.md (BENCH_NO_DOCS=1: not).
# Knobs: ENGINE_PORT_BASE (31500), ENGINE_DURATION (8 s per step),
# ENGINE_STEPS ("cursor saturate durable ack1k idle"), ENGINE_SAT_RATES
# ("20 40 60 80 120" cursors/s per drawer), ENGINE_IDLE_CONNS (10000),
# ENGINE_CORE (1: the core the servers are pinned to in `saturate`),
# ENGINE_ACK_RATE (1000: ops/s of the ack1k step, for experiments),
# ENGINE_BENCH_CORES (0: the core(s) wb-bench is pinned to in `saturate`; "":
# not pinned), ENGINE_BENCH_THREADS (1: wb-bench service threads; more only
# helps with more cores than the gateway's one).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH=${BENCH_BIN:-$ROOT/build/wb-bench}
[ -x "$BENCH" ] || { echo "engine.sh: $BENCH missing (run make)" >&2; exit 1; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${ENGINE_OUT:-$ROOT/bench/results/engine-$stamp}
mkdir -p "$OUT"
LOG=$OUT/run.log
say() { echo "[engine.sh $(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }
DUR=${ENGINE_DURATION:-8}
STEPS=" ${ENGINE_STEPS:-cursor saturate durable ack1k idle} "
SAT_RATES=${ENGINE_SAT_RATES:-"20 40 60 80 120"}
IDLE_CONNS=${ENGINE_IDLE_CONNS:-10000}
CORE=${ENGINE_CORE:-1}
BENCH_CORES=${ENGINE_BENCH_CORES-0}
BENCH_THREADS=${ENGINE_BENCH_THREADS:-1}
DURABLE_BATCH=${ENGINE_DURABLE_BATCH:-16}
DURABLE_RUNS=${ENGINE_DURABLE_RUNS:-3}
ACK_RATE=${ENGINE_ACK_RATE:-1000} # ops/s in all of the ack1k step (experiments; the report says 1,000)
BENCH_PRE=() # taskset for wb-bench (saturate only)
step() { [[ $STEPS == *" $1 "* ]]; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

PIDS=()
declare -A SVC
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
  [ -n "${RUN_DIR_TMP:-}" ] && rm -rf "$RUN_DIR_TMP"
  [ -n "${PEER_DIR:-}" ] && rm -rf "$PEER_DIR"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_http() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  say "timeout waiting for $1"; return 1
}
wait_port() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  say "timeout waiting for port $1"; return 1
}

base=${ENGINE_PORT_BASE:-31500}
RUN_DIR_TMP=$(mktemp -d /tmp/wb-engine-run.XXXXXX)
export WB_RUN_DIR=$RUN_DIR_TMP
export WB_NATS_PORT=$((base + 22)) WB_NATS_MONITOR_PORT=$((base + 23)) WB_GW1_PORT=$((base + 1))
export WB_LOG_LEVEL=${WB_LOG_LEVEL:-warn}
# every bench client comes from 127.0.0.1: lift the per-address connection cap (default 200)
export WB_MAX_CONNS_PER_IP=${WB_MAX_CONNS_PER_IP:-1000000}
PEER_PORT=$((base + 5))
# shellcheck source=../scripts/env.sh
. "$ROOT/scripts/env.sh"
for p in $WB_NATS_PORT $WB_GW1_PORT $PEER_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "engine.sh: port $p is in use; set ENGINE_PORT_BASE to a free block" >&2; exit 1
  fi
done

start_nats() {
  # the peer connects without credentials (nats.js takes none from its URL): as admin
  [ -n "${BENCH_PEER_SRC:-}" ] && export WB_NATS_NO_AUTH_USER=admin
  bash "$ROOT/scripts/svc/nats.sh" >>"$WB_RUN_DIR/nats.log" 2>&1 &
  SVC[nats]=$!; PIDS+=($!)
  wait_port "$WB_NATS_PORT" 20
}
start_gw() { # [taskset core]
  local pre=()
  [ -n "${1:-}" ] && pre=(taskset -c "$1")
  "${pre[@]}" bash "$ROOT/scripts/svc/gateway.sh" gw-1 >>"$WB_RUN_DIR/gw.log" 2>&1 &
  SVC[gw]=$!; PIDS+=($!)
  wait_http "http://127.0.0.1:$WB_GW1_PORT/healthz" 20
}
stop_gw() { stop_pid "${SVC[gw]}"; }
PEER_DIR=
if [ -n "${BENCH_PEER_SRC:-}" ]; then
  PEER_DIR=$(mktemp -d /tmp/wb-engine-peer.XXXXXX)
  cp -r "$BENCH_PEER_SRC"/. "$PEER_DIR"
  say "installing the peer in $PEER_DIR"
  (cd "$PEER_DIR" && npm install --no-audit --no-fund --loglevel=error) >>"$LOG" 2>&1 ||
    { say "peer: npm install failed; peer columns skipped"; PEER_DIR=; }
fi
start_peer() { # [taskset core]
  local pre=()
  [ -n "${1:-}" ] && pre=(taskset -c "$1")
  (cd "$PEER_DIR" && NATS_URL=$WB_NATS_URL PORT=$PEER_PORT GW_ID=peer-1 exec "${pre[@]}" node server.mjs) \
    >>"$WB_RUN_DIR/peer.log" 2>&1 &
  SVC[peer]=$!; PIDS+=($!)
  wait_http "http://127.0.0.1:$PEER_PORT/healthz" 30
}
stop_peer() { stop_pid "${SVC[peer]}"; }

run() { # name server(gw|peer) args...
  local name=$1 srv=$2; shift 2
  local url=ws://127.0.0.1:$WB_GW1_PORT
  [ "$srv" = peer ] && url=ws://127.0.0.1:$PEER_PORT
  local cmd=("${BENCH_PRE[@]}" "$BENCH" --url "$url" --json "$OUT/$name-$srv.json" --label "$name-$srv"
    --quiet --threads "$BENCH_THREADS" --pid "$srv=${SVC[$srv]}" --pid "nats=${SVC[nats]}" "$@")
  echo "${cmd[*]}" >"$OUT/$name-$srv.cmd"
  say "$name/$srv: ${cmd[*]#$ROOT/}"
  local cpu0
  cpu0=$(head -1 /proc/stat)
  "${cmd[@]}" >"$OUT/$name-$srv.txt" 2>>"$LOG" || say "$name/$srv: wb-bench exited $?"
  # the whole VM during the step: busy and steal (time the hypervisor gave to others)
  printf '%s\n%s\n' "$cpu0" "$(head -1 /proc/stat)" | awk '{u = $2 + $3 + $4 + $7 + $8; t = u + $5 + $6 + $9}
    NR == 1 {u0 = u; t0 = t; s0 = $9} NR == 2 {d = t - t0; if (d <= 0) d = 1
    printf "{\"busy\": %.4f, \"steal\": %.4f}\n", (u - u0) / d, ($9 - s0) / d}' >"$OUT/$name-$srv.host.json"
  # the gateway's own counters and histograms after the step (commit rounds, batches, ...)
  [ "$srv" = gw ] && { curl -fsS "http://127.0.0.1:$WB_GW1_PORT/metrics" >"$OUT/$name-gw.metrics" 2>/dev/null || true; }
  grep -E "^(load|latency (e2e|ack|cursor)|strokes|cursors|proc ($srv|nats))" "$OUT/$name-$srv.txt" |
    sed 's/^/    /' >&2 || true
}
servers() { echo gw; [ -n "$PEER_DIR" ] && echo peer; return 0; }

{
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "(+$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -c .) uncommitted paths)"
  echo "machine: $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "peer: $([ -n "${BENCH_PEER_SRC:-}" ] && basename "$BENCH_PEER_SRC" || echo none)"
} >"$OUT/env.txt"

start_nats
start_gw
[ -n "$PEER_DIR" ] && start_peer

if step cursor; then
  for s in $(servers); do
    run cursor "$s" --conns 1000 --boards 10 --drawers 10 --rate 0 --cursor-rate 50 \
      --duration "$DUR" --idle 2 --drain 3
  done
fi

# The disk's fsync rate (200-byte appends, fsync after each, 3 s), appended
# to fsync.json, whose fsyncs_per_s is the mean of the samples so far: this
# virtual disk's rate moves by half within minutes, so it is measured before
# and after the durable runs.
fsync_sample() {
  say "disk fsync rate (200-byte appends, fsync after each, 3 s) in $WB_RUN_DIR"
  python3 "$ROOT/bench/fsync_probe.py" rate "$WB_RUN_DIR/fsync.dat" "$OUT/fsync.json" | tee -a "$LOG" >&2
}

if step durable; then
  # ENGINE_DURABLE_RUNS runs per server (the report gives the median and the
  # range: this step moves by a third between runs on one disk)
  for s in $(servers); do
    for i in $(seq "$DURABLE_RUNS"); do
      fsync_sample
      run "durable-$i" "$s" --conns 64 --boards 64 --drawers 64 --rate 1000 --inflight 16 \
        --batch "$DURABLE_BATCH" --duration "$DUR" --idle 1 --drain 5
    done
  done
  fsync_sample
fi

# The disk during a run: one 200-byte append + fsync every 20 ms on the same
# filesystem, each timed (50 fsyncs/s beside the disk's thousands). This
# virtual disk stalls now and then (single fsyncs of 100-700 ms); at 1,000
# ops/s one stall in a run is enough to decide the ack p99, so each run
# says how the disk itself did meanwhile. Stops on SIGTERM, writes JSON.
disk_probe_start() { # out.json
  python3 "$ROOT/bench/fsync_probe.py" probe "$WB_RUN_DIR/probe.dat" "$1" &
  PROBE=$!; PIDS+=("$PROBE") # cleanup stops it if the bench ends early
}
disk_probe_stop() { kill -TERM "$PROBE" 2>/dev/null; wait "$PROBE" 2>/dev/null || true; }

if step ack1k; then
  for s in $(servers); do
    disk_probe_start "$OUT/ack1k-$s-disk.json"
    run ack1k "$s" --conns 64 --boards 64 --drawers 64 --rate "$(awk "BEGIN {print $ACK_RATE / 64}")" \
      --duration "$DUR" --idle 1 --drain 3
    disk_probe_stop
  done
fi

if step saturate; then
  # the raw fan-out: with the cursor window each client would get at most
  # one position per peer per window, not every cursor
  stop_gw; WB_CURSOR_WINDOW_MS=0 start_gw "$CORE"
  if [ -n "$PEER_DIR" ]; then stop_peer; start_peer "$CORE"; fi
  [ -n "$BENCH_CORES" ] && BENCH_PRE=(taskset -c "$BENCH_CORES")
  for s in $(servers); do
    for r in $SAT_RATES; do
      run "saturate-r$r" "$s" --conns 1000 --boards 10 --drawers 100 --rate 0 --cursor-rate "$r" \
        --duration "$DUR" --idle 2 --drain 3
    done
  done
  BENCH_PRE=()
  stop_gw; start_gw
  if [ -n "$PEER_DIR" ]; then stop_peer; start_peer; fi
fi

if step idle; then
  for s in $(servers); do
    if [ "$s" = gw ]; then stop_gw; start_gw; else stop_peer; start_peer; fi
    run idle "$s" --conns "$IDLE_CONNS" --boards $(((IDLE_CONNS + 99) / 100)) --drawers 0 \
      --duration 0 --idle 10 --drain 0 --connect-rate 2000 --connect-timeout 180
  done
fi

PY=$ROOT/.venv/bin/python3
[ -x "$PY" ] || PY=python3
docs=(--markdown "$ROOT/docs/performance.md")
[ "${BENCH_NO_DOCS:-0}" = 1 ] && docs=()
"$PY" "$ROOT/bench/engine_report.py" "$OUT" "${docs[@]}" 2>&1 | tee -a "$LOG"
say "results in ${OUT#$ROOT/}"
