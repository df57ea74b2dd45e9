#!/usr/bin/env python3
"""Persistence worker benchmark: throughput and persistence lag.

Starts its own nats-server + PostgreSQL + wb-worker (the same scripts and
free-port set-up as tests/test_worker.py), then:

1. throughput: publishes --ops stroke ops to JetStream while the worker is
   stopped, starts the worker and times the backlog drain (until the durable
   consumer has nothing pending or unacked): ops/s persisted.
2. lag: publishes at a steady --rate ops/s for --duration s with the worker
   running; every Op carries time_ms (publish time, like a gateway's accept
   time). Lag per op = ops.logged_at (insert time inside the batch
   transaction) - time_ms, from PostgreSQL: p50/p90/p99/max. The worker's own
   histogram wb_worker_persist_lag_seconds (time_ms -> after commit) is
   reported too, as bucket-interpolated quantiles, and so is
   wb_worker_stream_lag_seconds (JetStream store time, i.e. the publisher's
   ack, -> commit): the worker's own share of the lag. The publisher's ack
   latency (publish -> JetStream ack) is measured too.

Usage (from the project root, after `make`; PYTHONPATH=scripts for the
shared modules tests/test_worker.py imports, as pytest.ini's pythonpath does):
    PYTHONPATH=scripts .venv/bin/python bench/worker_bench.py [--ops 100000] [--rate 1000] [--duration 20]
        [--batch 500] [--batch-wait-ms 100] [--points 30] [--boards 50] [--json out.json]
WB_WORKER_BIN=build/san/wb-worker selects another binary.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_test_module():
    spec = importlib.util.spec_from_file_location("wk_test_worker", ROOT / "tests" / "test_worker.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


T = load_test_module()
pb = T.pb


def make_ops(n: int, boards: int, points: int, prefix: str) -> list:
    rnd = random.Random(1)
    ops = []
    for i in range(n):
        b = f"bench{i % boards}"
        pts = [rnd.randint(-30, 30) for _ in range(points)]
        ops.append(pb.Op(board=b, op_id=f"{prefix}{i}", client_id="bench", kind=pb.KIND_STROKE,
                         stroke=pb.Stroke(id=f"{prefix}s{i}", color=0x336699, width=3.0, points=pts, by="bench"),
                         time_ms=int(time.time() * 1000), gateway="bench"))
    return ops


async def publish_all(url: str, ops: list, concurrency: int = 1000) -> float:
    import nats
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=30)
    t0 = time.monotonic()
    sem = asyncio.Semaphore(concurrency)

    async def one(op):
        async with sem:
            await js.publish(f"wb.board.{op.board}.ev", op.SerializeToString(), headers={"Nats-Msg-Id": op.op_id})
    await asyncio.gather(*(one(op) for op in ops))
    took = time.monotonic() - t0
    await nc.close()
    return took


async def publish_steady(url: str, ops: list, rate: float) -> float:
    """Publishes ops at `rate` per second (time_ms stamped at send)."""
    import nats
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=30)
    tasks, acks = [], []
    t0 = time.monotonic()
    tick = 0.01

    async def one(op):
        ts = time.monotonic()
        await js.publish(f"wb.board.{op.board}.ev", op.SerializeToString(), headers={"Nats-Msg-Id": op.op_id})
        acks.append(time.monotonic() - ts)
    per_tick = rate * tick
    sent, due = 0, 0.0
    while sent < len(ops):
        due += per_tick
        while sent < len(ops) and sent < int(due):
            op = ops[sent]
            op.time_ms = int(time.time() * 1000)
            tasks.append(asyncio.create_task(one(op)))
            sent += 1
        next_t = t0 + (sent / rate)
        await asyncio.sleep(max(0.0, min(tick, next_t - time.monotonic())))
    await asyncio.gather(*tasks)
    took = time.monotonic() - t0
    await nc.close()
    return took, sorted(acks)


def consumer(st) -> tuple:
    ci = asyncio.run(T.wk_consumer_state(st.nats_url))
    return ci.num_pending, ci.num_ack_pending, ci.ack_floor.stream_seq


def wait_drained(st, timeout: float = 600) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        pending, ackp, _ = consumer(st)
        if pending == 0 and ackp == 0:
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError("worker did not drain the backlog in time")


def hist_quantiles(metrics: str, name: str, qs=(0.5, 0.9, 0.99)) -> dict:
    buckets = []
    for line in metrics.splitlines():
        if line.startswith(name + "_bucket{le="):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    if not buckets or buckets[-1][1] == 0:
        return {}
    total = buckets[-1][1]
    out = {}
    for q in qs:
        target, prev_le, prev_c = q * total, 0.0, 0.0
        for le, c in buckets:
            if c >= target:
                if le == float("inf"):
                    out[f"p{int(q * 100)}"] = prev_le
                else:
                    frac = (target - prev_c) / (c - prev_c) if c > prev_c else 1.0
                    out[f"p{int(q * 100)}"] = prev_le + (le - prev_le) * frac
                break
            prev_le, prev_c = le, c
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=100000)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--batch-wait-ms", type=int, default=100)
    ap.add_argument("--points", type=int, default=30, help="coordinates per stroke")
    ap.add_argument("--boards", type=int, default=50)
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args()

    st = T.WkStack()
    res: dict = {"ops": a.ops, "batch": a.batch, "batch_wait_ms": a.batch_wait_ms, "points": a.points,
                 "boards": a.boards}
    wenv = {"WB_BATCH": str(a.batch), "WB_BATCH_WAIT_MS": str(a.batch_wait_ms)}
    failed = True
    try:
        st.start_nats()
        st.start_pg()
        # Stream + consumer + schema, then stop the worker to build a backlog.
        st.start_worker(env=wenv)
        st.stop("worker")

        ops = make_ops(a.ops, a.boards, a.points, "t")
        pub_s = asyncio.run(publish_all(st.nats_url, ops))
        res["publish_ops_per_s"] = round(a.ops / pub_s)
        pending, _, _ = consumer(st)
        print(f"published {a.ops} ops in {pub_s:.1f}s ({a.ops / pub_s:.0f}/s); consumer pending {pending}",
              flush=True)
        t0 = time.monotonic()
        st.start_worker(env=wenv, wait=False)
        t1 = wait_drained(st)
        drain = t1 - t0
        res["drain_s"] = round(drain, 2)
        res["persist_ops_per_s"] = round(a.ops / drain)
        with st.pg_connect() as c:
            n = c.execute("SELECT count(*) FROM ops").fetchone()[0]
            res["db_size_mb"] = round(c.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20, 1)
        assert n == a.ops, f"{n} rows for {a.ops} ops"
        m = st.metrics()
        res["batch_size_mean"] = round(T.metric(m, "wb_worker_batch_size_sum") /
                                       max(1, T.metric(m, "wb_worker_batch_size_count")), 1)
        res["commit_ms_mean"] = round(1000 * T.metric(m, "wb_worker_commit_seconds_sum") /
                                      max(1, T.metric(m, "wb_worker_commit_seconds_count")), 2)
        print(f"throughput: {a.ops} ops persisted in {drain:.2f}s = {a.ops / drain:.0f} ops/s "
              f"(mean batch {res['batch_size_mean']}, mean commit {res['commit_ms_mean']} ms, "
              "worker start included)", flush=True)

        # Steady load: a fresh worker so its histogram only holds this phase.
        st.stop("worker")
        st.start_worker(env=wenv)
        n2 = int(a.rate * a.duration)
        ops2 = make_ops(n2, a.boards, a.points, "l")
        took, acks = asyncio.run(publish_steady(st.nats_url, ops2, a.rate))
        q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))]  # noqa: E731
        res["publish_ack_ms"] = {"p50": round(1000 * q(acks, 0.5), 1), "p99": round(1000 * q(acks, 0.99), 1)}
        wait_drained(st)
        with st.pg_connect() as c:
            row = c.execute(
                "SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY lag), max(lag), count(*) "
                "FROM (SELECT extract(epoch FROM logged_at) * 1000 - time_ms AS lag FROM ops "
                "      WHERE op_id LIKE 'l%%') x").fetchone()
        (p50, p90, p99), mx, cnt = row[0], row[1], row[2]
        res.update({"lag_rate": a.rate, "lag_duration_s": round(took, 1), "lag_ops": cnt,
                    "lag_ms_p50": round(p50, 1), "lag_ms_p90": round(p90, 1), "lag_ms_p99": round(p99, 1),
                    "lag_ms_max": round(float(mx), 1)})
        hq = hist_quantiles(st.metrics(), "wb_worker_persist_lag_seconds")
        res["lag_commit_hist_ms"] = {k: round(v * 1000, 1) for k, v in hq.items()}
        hc = hist_quantiles(st.metrics(), "wb_worker_commit_seconds")
        res["steady_commit_hist_ms"] = {k: round(v * 1000, 1) for k, v in hc.items()}
        hs = hist_quantiles(st.metrics(), "wb_worker_stream_lag_seconds")
        res["stored_to_commit_hist_ms"] = {k: round(v * 1000, 1) for k, v in hs.items()}
        print(f"lag at {a.rate:.0f} ops/s for {took:.0f}s ({cnt} ops): publish->insert p50 {p50:.1f} ms, "
              f"p90 {p90:.1f} ms, p99 {p99:.1f} ms, max {float(mx):.1f} ms; "
              f"publish->commit (worker histogram) {res['lag_commit_hist_ms']}; "
              f"JetStream store->commit (worker histogram) {res['stored_to_commit_hist_ms']}; "
              f"publish->JetStream ack {res['publish_ack_ms']}; "
              f"commit (one batch transaction) {res['steady_commit_hist_ms']}", flush=True)
        failed = False
    finally:
        st.close(failed)
    print(json.dumps(res, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
