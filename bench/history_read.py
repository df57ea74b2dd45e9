#!/usr/bin/env python3
"""History read benchmark: GET /api/boards/{board}?at=SEQ on a board of N ops.

Starts a real stack (nats, postgres, worker, one gateway; tests/wbstack.py,
own temp run dir and free ports), writes N ops of one board straight into
JetStream (protobuf wb.v1.Op, as a gateway would; the gateway's per-client
rate limit would make 100,000 ops take minutes), waits until the worker has
persisted every one to PostgreSQL, then times history reads at several seqs
through the gateway, and the worker's share alone (a wb.snapshot request with
`at`). Prints one line per case and writes JSON.

    .venv/bin/python bench/history_read.py --ops 100000 --out build/bench/history.json

Op mix (default): 90% strokes (8 points each), 9% erases of one earlier
stroke, 1% restores, no clear (a clear would hide most strokes and make the
answer small); --clear-every N adds a clear every N ops. The "current"
case is the plain snapshot (no `at`), for comparison.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from wbstack import Stack, http_get  # noqa: E402


def load_pb2():
    path = ROOT / "build" / "gen" / "py" / "whiteboard_pb2.py"
    spec = importlib.util.spec_from_file_location("whiteboard_pb2", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_ops(pb, board: str, n: int, rnd: random.Random, clear_every: int = 0):
    strokes, ops = [], []
    for i in range(n):
        op = pb.Op(board=board, op_id=f"o{i}", client_id="bench", time_ms=int(time.time() * 1000), gateway="bench")
        r = rnd.random()
        if clear_every and i % clear_every == clear_every - 1:
            op.kind = pb.KIND_CLEAR
        elif r < 0.90 or len(strokes) < 10:
            sid = f"s{i}"
            x, y = rnd.randint(0, 20000), rnd.randint(0, 20000)
            pts = [x, y]
            for _ in range(7):
                pts += [rnd.randint(-30, 30), rnd.randint(-30, 30)]  # tenths, delta-coded
            op.kind = pb.KIND_STROKE
            op.stroke.CopyFrom(pb.Stroke(id=sid, color=0x1E1E1E, width=4, points=pts, by="bench"))
            strokes.append(sid)
        elif r < 0.99:
            op.kind = pb.KIND_ERASE
            op.ids.append(rnd.choice(strokes))
        else:
            op.kind = pb.KIND_RESTORE
            op.ids.append(rnd.choice(strokes))
        ops.append(op)
    return ops


async def publish(nats_url: str, board: str, ops, window: int = 256):
    import nats

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    subj = f"wb.board.{board}.ev"
    seqs = []
    t0 = time.monotonic()
    for i in range(0, len(ops), window):
        batch = ops[i:i + window]
        acks = await asyncio.gather(*(js.publish(subj, o.SerializeToString(), timeout=60, headers={"Nats-Msg-Id": f"{board}:{o.op_id}"}) for o in batch))
        seqs += [a.seq for a in acks]
    dt = time.monotonic() - t0
    await nc.close()
    return seqs, dt


async def worker_snapshot(nats_url: str, pb, board: str, at: int, runs: int):
    import nats

    nc = await nats.connect(nats_url)
    times = []
    for _ in range(runs):
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        t0 = time.perf_counter()
        await nc.publish("wb.snapshot", pb.SnapshotRequest(board=board, at=at).SerializeToString(), reply=inbox)
        n = 0
        while True:
            m = await sub.next_msg(timeout=30)
            ch = pb.SnapshotChunk.FromString(m.data)
            if ch.error:
                raise RuntimeError(ch.error)
            n += len(ch.strokes)
            if ch.last:
                break
        times.append((time.perf_counter() - t0) * 1000)
        await sub.unsubscribe()
    await nc.close()
    return times, n


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--clear-every", type=int, default=0, help="a clear op every N ops (0: none)")
    ap.add_argument("--out", default=str(ROOT / "build" / "bench" / "history.json"))
    a = ap.parse_args()
    pb = load_pb2()
    rnd = random.Random(15)
    board = "histbench" + str(rnd.randint(0, 10**9))
    ops = make_ops(pb, board, a.ops, rnd, a.clear_every)
    st = Stack.create()
    res = {"ops": a.ops, "clear_every": a.clear_every, "board": board, "cases": []}
    try:
        st.start("nats", "postgres", "worker", "gw-1")
        seqs, dt = asyncio.run(publish(st.nats_url, board, ops))
        print(f"published {len(seqs)} ops in {dt:.1f} s", flush=True)
        import psycopg

        t0 = time.monotonic()
        restarts = 0
        while True:
            if not st.services["worker"].alive():
                # nats.c 3.4.1's Fetch can overrun its list and crash the worker
                # (see the report); ops are redelivered, nothing is lost
                restarts += 1
                print(f"worker exited; restarting it (#{restarts})", flush=True)
                st.restart("worker")
            with psycopg.connect(st.pg_url) as db:
                n = db.execute("SELECT count(*) FROM ops WHERE board = %s", (board,)).fetchone()[0]
            if n >= len(seqs):
                break
            if time.monotonic() - t0 > 600:
                raise SystemExit(f"worker persisted only {n} of {len(seqs)} ops")
            time.sleep(0.5)
        with open("/proc/loadavg") as f:
            res["loadavg"] = f.read().split()[:3]
        print(f"load average {' '.join(res['loadavg'])}", flush=True)
        print(f"persisted in {time.monotonic() - t0:.1f} s ({restarts} worker restarts)", flush=True)
        res["worker_restarts"] = restarts
        url = st.gw_url("gw-1")
        for label, at in (("at 10%", seqs[len(seqs) // 10]), ("at 50%", seqs[len(seqs) // 2]), ("at 100%", seqs[-1]), ("current (no at)", None)):
            q = f"{url}/api/boards/{board}" + (f"?at={at}" if at is not None else "")
            http_get(q, timeout=60)  # warm
            times, size, nstrokes = [], 0, 0
            for _ in range(a.runs):
                t = time.perf_counter()
                r = http_get(q, timeout=60)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status == 200, r.status
                size = len(r.body)
            nstrokes = len(json.loads(r.body)["strokes"])
            wt, wn = asyncio.run(worker_snapshot(st.nats_url, pb, board, at or 0, a.runs))
            case = {"case": label, "at": at, "strokes": nstrokes, "bytes": size,
                    "http_ms_p50": round(statistics.median(times), 1), "http_ms_p95": round(pct(times, 95), 1),
                    "worker_ms_p50": round(statistics.median(wt), 1) if wt else None,
                    "worker_ms_p95": round(pct(wt, 95), 1) if wt else None}
            res["cases"].append(case)
            print(f"{label:16s} strokes={nstrokes:6d} bytes={size:9d} http p50={case['http_ms_p50']} ms p95={case['http_ms_p95']} ms"
                  + (f" | worker p50={case['worker_ms_p50']} ms p95={case['worker_ms_p95']} ms" if wt else ""), flush=True)
    finally:
        st.stop_all()
        import shutil
        shutil.rmtree(st.run_dir, ignore_errors=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
