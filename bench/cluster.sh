#!/usr/bin/env bash
# bench/cluster.sh: durable ops on WB_OPS with 1 replica (one nats-server)
# against 3 replicas (a 3-node JetStream cluster on loopback), side by side in
# one run; every node with sync_interval: always (scripts/svc/nats.sh).
#
# For each replica count it starts its own stack (nats node(s), PostgreSQL,
# one worker, gw-1; scripts/svc/*.sh) in a temporary WB_RUN_DIR on a private
# port block (CLUSTER_BENCH_PORT_BASE, default 42400), runs build/wb-bench at
# each offered rate for CLUSTER_BENCH_DURATION seconds (default 10), prints
# acked ops/s and ack latency p50/p99 per step and writes
# bench/results/cluster-<UTC time>/{r1,r3}-<rate>.json and summary.md. The
# two stacks run one after the other, never at the same time.
#
#   CLUSTER_BENCH_CONNS (200 drawing clients), CLUSTER_BENCH_BOARDS (20),
#   CLUSTER_BENCH_RATES ("1 2.5 5": strokes/s per client, i.e. 200, 500, 1000 ops/s offered)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH=${BENCH_BIN:-$ROOT/build/wb-bench}
[ -x "$BENCH" ] || { echo "cluster.sh: $BENCH missing (run make)" >&2; exit 1; }
DUR=${CLUSTER_BENCH_DURATION:-10}
CONNS=${CLUSTER_BENCH_CONNS:-200}
BOARDS=${CLUSTER_BENCH_BOARDS:-20}
RATES=${CLUSTER_BENCH_RATES:-"1 2.5 5"}
base=${CLUSTER_BENCH_PORT_BASE:-42400}
OUT=${CLUSTER_BENCH_OUT:-$ROOT/bench/results/cluster-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
say() { echo "[cluster.sh $(date -u +%H:%M:%S)] $*" | tee -a "$OUT/run.log" >&2; }

PIDS=()
RUN_DIR_TMP=
stop_all() {
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
  [ -n "$RUN_DIR_TMP" ] && rm -rf "$RUN_DIR_TMP"
  RUN_DIR_TMP=
}
trap stop_all EXIT
trap 'exit 130' INT TERM

wait_http() { # url seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  say "timeout waiting for $1"; tail -n 20 "$WB_RUN_DIR"/*.log >&2; return 1
}
start_svc() { # name script args...
  local name=$1; shift
  bash "$ROOT/scripts/svc/$1" "${@:2}" >>"$WB_RUN_DIR/$name.log" 2>&1 &
  PIDS+=($!)
}

# start_stack NODES: nats node(s), postgres, worker, gw-1 on the port block
start_stack() {
  local nodes=$1 i
  RUN_DIR_TMP=$(mktemp -d /tmp/wb-cluster-bench.XXXXXX)
  chmod 755 "$RUN_DIR_TMP"
  unset WB_NATS_URL WB_STREAM_REPLICAS
  export WB_RUN_DIR=$RUN_DIR_TMP WB_NATS_NODES=$nodes
  export WB_NATS_PORT=$((base + 22)) WB_NATS_MONITOR_PORT=$((base + 32)) WB_NATS_CLUSTER_PORT=$((base + 42))
  export WB_PG_PORT=$((base + 53)) WB_GW1_PORT=$((base + 1)) WB_GW2_PORT=$((base + 2)) WB_WORKER_PORT=$((base + 11))
  export WB_LOG_LEVEL=${WB_LOG_LEVEL:-warn}
  # every bench client comes from 127.0.0.1: lift the per-address connection cap (default 200)
  export WB_MAX_CONNS_PER_IP=${WB_MAX_CONNS_PER_IP:-1000000}
  # shellcheck source=../scripts/env.sh
  . "$ROOT/scripts/env.sh"
  if [ "$nodes" = 1 ]; then
    start_svc nats nats.sh
  else
    for ((i = 1; i <= nodes; i++)); do start_svc "nats-$i" nats.sh "$i"; done
  fi
  for ((i = 1; i <= nodes; i++)); do
    wait_http "http://127.0.0.1:$(wb_nats_monitor_port $i)/healthz?js-enabled-only=true" 120
  done
  start_svc postgres postgres.sh
  for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$WB_PG_PORT") 2>/dev/null && break; sleep 0.1; done
  start_svc worker worker.sh
  wait_http "http://127.0.0.1:$WB_WORKER_PORT/healthz" 180
  start_svc gw1 gateway.sh gw-1
  wait_http "http://127.0.0.1:$WB_GW1_PORT/healthz" 120
  local reps
  reps=$(curl -s "http://127.0.0.1:$WB_NATS_MONITOR_PORT/jsz?streams=true&config=true" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print([s["config"]["num_replicas"] for a in j["account_details"] for s in a["stream_detail"] if s["name"]=="WB_OPS"])')
  say "stack up: $nodes nats node(s), WB_OPS replicas $reps, sync_interval always"
}

declare -A ROW
for nodes in 1 3; do
  r=r$([ "$nodes" = 1 ] && echo 1 || echo 3)
  start_stack "$nodes"
  for rate in $RATES; do
    name=$r-$rate
    cmd=("$BENCH" --url "ws://127.0.0.1:$WB_GW1_PORT" --conns "$CONNS" --boards "$BOARDS" --drawers "$CONNS"
      --rate "$rate" --duration "$DUR" --idle 2 --drain 10 --prefix "cb$r" --quiet
      --worker-metrics "http://127.0.0.1:$WB_WORKER_PORT/metrics" --json "$OUT/$name.json" --label "$name")
    echo "${cmd[*]}" >"$OUT/$name.cmd"
    say "$name: ${cmd[*]#$ROOT/}"
    "${cmd[@]}" >"$OUT/$name.txt" 2>>"$OUT/run.log" || say "$name: wb-bench exited $?"
    ROW[$name]=$(python3 - "$OUT/$name.json" "$DUR" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); dur = float(sys.argv[2])
s, a = d["strokes"], d["latency_ack"]
print(f'{s["sent"]} | {s["acked"]} | {s["acked"] / dur:.0f} | {a["p50_ms"]:.1f} | {a["p99_ms"]:.1f} | {s.get("unacked", 0)}')
PY
)
    say "$name: sent | acked | acked/s | ack p50 ms | ack p99 ms | unacked = ${ROW[$name]}"
  done
  stop_all
done

{
  echo "| replicas | offered ops/s | sent | acked | acked ops/s | ack p50 ms | ack p99 ms | unacked |"
  echo "|---|---|---|---|---|---|---|---|"
  for rate in $RATES; do
    for r in r1 r3; do
      offered=$(python3 -c "print(round($rate * $CONNS))")
      echo "| ${r#r} | $offered | ${ROW[$r-$rate]} |"
    done
  done
  echo
  echo "$CONNS drawing clients on $BOARDS boards straight to gw-1, ${DUR} s per step; machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; commit $(git rev-parse --short HEAD)."
} | tee "$OUT/summary.md"
