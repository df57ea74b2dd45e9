#!/usr/bin/env python3
"""Fill a board with N synthetic strokes through a gateway (real protocol, acked).

    .venv/bin/python client/scripts/fill_board.py ws://127.0.0.1:9001 BOARD [--strokes 20000] [--conns 8]

Uses several connections in parallel (the rate limit is per connection) and
waits for every ack. Then measure with perf_pan.py --url http://.../b/BOARD.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import ssl
import time

import websockets

import perf_pan


async def worker(url: str, strokes: list[dict], rate: float) -> int:
    ctx = None
    if url.startswith("wss://"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    async with websockets.connect(url, subprotocols=["wb.v1"], ssl=ctx, max_size=None, ping_interval=None) as ws:
        pending: dict[str, dict] = {}
        done = 0

        async def reader():
            nonlocal done
            async for raw in ws:
                msgs = json.loads(raw)
                for m in msgs if isinstance(msgs, list) else [msgs]:
                    if m.get("t") == "ack" and m.get("op") in pending:
                        pending.pop(m["op"])
                        done += 1
                    elif m.get("t") == "error" and m.get("op") in pending:
                        await asyncio.sleep(0.5)
                        await ws.send(json.dumps(pending[m["op"]]))
                if done == len(strokes):
                    return

        r = asyncio.create_task(reader())
        for s in strokes:
            op = {"t": "stroke", "op": secrets.token_urlsafe(9), "stroke": s}
            pending[op["op"]] = op
            await ws.send(json.dumps(op))
            await asyncio.sleep(1 / rate)
        await asyncio.wait_for(r, 600)
        return done


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gateway", help="ws://host:port or wss://host:port")
    ap.add_argument("board")
    ap.add_argument("--strokes", type=int, default=20000)
    ap.add_argument("--points", type=int, default=24)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--rate", type=float, default=150, help="ops/s per connection (server limit 200)")
    a = ap.parse_args()
    strokes = perf_pan.synth(a.strokes, a.points)
    for s in strokes:
        s.pop("by", None)
        s["id"] = secrets.token_urlsafe(9)
    url = f"{a.gateway.rstrip('/')}/ws/{a.board}?name=filler"
    t0 = time.monotonic()
    parts = [strokes[i::a.conns] for i in range(a.conns)]
    n = sum(await asyncio.gather(*(worker(url, p, a.rate) for p in parts)))
    print(json.dumps({"board": a.board, "acked": n, "seconds": round(time.monotonic() - t0, 1)}))


if __name__ == "__main__":
    asyncio.run(main())
