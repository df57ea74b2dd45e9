#!/usr/bin/env python3
"""Live failover drill: many simulated clients draw through Traefik while one
gateway is taken down, then the clients' final boards are checked against the
persisted boards (PostgreSQL, via GET /api/boards/{board}).

Clients draw strokes and some shapes and texts, and update their own shapes
and texts (issue #16); convergence compares whole boards, values included.
One process, asyncio + websockets. Each client follows docs/protocol.md §5 "Client duties":
it keeps every op until acked; when its socket drops it reconnects (through
Traefik, so it lands on a live gateway) with ?since=<highest applied seq> and
re-sends its unacked ops with the same op ids.

Against the running native stack (`make run`, ports from scripts/env.sh):

    .venv/bin/python scripts/drill.py --mode kill          # SIGKILL gw-1 mid-drawing
    .venv/bin/python scripts/drill.py --mode term --gw gw-2 # SIGTERM (graceful drain)

The take-down and bring-back use scripts/takedown.sh (override with --down-cmd /
--up-cmd). tests/test_failover.py runs the same drill (run_drill()) on the test
stack. Prints one JSON report; exit status 1 if an acked op was lost, an op was
applied twice, or a client did not converge. Timings are printed, not judged.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import websockets
from websockets.asyncio.client import connect as ws_connect

from wbfold import Fold  # the board-state rule (scripts/wbfold.py, next to this file)
from wblib import pct, rid, ssl_ctx

ROOT = Path(__file__).resolve().parent.parent


def http_json(url: str, cafile: str | None, timeout: float = 5.0):
    kw = {"timeout": timeout}
    if url.startswith("https:"):
        kw["context"] = ssl_ctx(cafile)
    with urllib.request.urlopen(url, **kw) as r:
        return json.loads(r.read())


class Client:
    def __init__(self, drill, idx: int, board: str):
        self.d, self.idx, self.board = drill, idx, board
        self.name = f"c{idx}"
        self.ws = None
        self.seq = 0
        self.state = Fold()
        self.unacked: dict = {}          # op -> msg (insertion order = send order)
        self.acked: dict = {}            # op -> seq
        self.sent: list = []             # op ids, first sends only
        self.resent = 0
        self.gateways: list = []         # welcome.gateway of every connection
        self.resumed: list = []
        self.reconnects: list = []       # seconds from drop to welcome
        self.upgrades: list = []         # seconds from drop to the 101 (TLS + upgrade through Traefik)
        self.t_upgraded: float | None = None
        self.problems: list = []
        self.ops_seen: collections.Counter = collections.Counter()  # op -> times delivered as ev
        self.connected = asyncio.Event()
        self.dropped_at: float | None = None
        self.sent_at: dict = {}          # op -> monotonic time of its first send
        self.ack_times: list = []        # seconds from first send to ack (the pause a user sees)
        self.elements: list = []         # (id, "shape" | "text") this client added, to update

    def url(self, since=None):
        q = {"name": self.name}
        if since is not None:
            q["since"] = str(since)
        return f"{self.d.ws_base}/ws/{self.board}?" + urllib.parse.urlencode(q)

    async def connect(self, since=None, timeout=10.0):
        ws = await ws_connect(self.url(since), subprotocols=["wb.v1"], ssl=self.d.ssl,
                              open_timeout=timeout, close_timeout=1, ping_interval=None,
                              max_size=None, compression=None, proxy=None)
        self.t_upgraded = time.monotonic()
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        msgs = first if isinstance(first, list) else [first]
        if msgs[0].get("t") != "welcome":
            self.problems.append(f"first message {msgs[0].get('t')!r}")
        w = msgs[0]
        self.gateways.append(w.get("gateway"))
        self.resumed.append(bool(w.get("resumed")))
        self.ws = ws
        for m in msgs[1:]:
            self.on_msg(m)
        return ws

    def on_msg(self, m):
        t = m.get("t")
        if t == "snapshot":
            self.state = Fold(m.get("strokes", []), m["seq"])
            self.seq = m["seq"]
        elif t == "ev":
            s = m["seq"]
            self.ops_seen[m.get("op")] += 1
            if s <= self.seq:
                self.problems.append(f"ev seq {s} <= applied {self.seq} (op {m.get('op')})")
                return
            self.seq = s
            self.state.apply(m)
        elif t == "ack":
            op = m["op"]
            if op in self.acked and self.acked[op] != m["seq"]:
                self.problems.append(f"op {op} acked twice with different seqs {self.acked[op]} / {m['seq']}")
            if op not in self.acked and op in self.sent_at:
                self.ack_times.append(time.monotonic() - self.sent_at[op])
            self.acked.setdefault(op, m["seq"])
            self.unacked.pop(op, None)
        elif t == "error" and m.get("code") == "unavailable" and m.get("op") in self.unacked:
            # docs/protocol.md §3 Errors: not stored (e.g. JetStream electing a leader); resend later, same id
            asyncio.get_running_loop().call_later(0.3 + random.random() * 0.3, self.resend, m["op"])
        elif t == "error" and m.get("code") not in ("rate_limited", "unavailable"):
            self.problems.append(f"error {m}")

    def resend(self, op):
        msg = self.unacked.get(op)
        if msg is None or not self.connected.is_set() or self.ws is None or self.d.done.is_set():
            return                  # acked meanwhile, or resent on the reconnect
        self.resent += 1
        task = asyncio.ensure_future(self.ws.send(json.dumps(msg)))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def reader(self, ws):
        try:
            async for frame in ws:
                data = json.loads(frame)
                for m in (data if isinstance(data, list) else [data]):
                    self.on_msg(m)
        except websockets.ConnectionClosed:
            pass

    async def run(self):
        """Connect, then keep a reader alive and reconnect on every drop."""
        backoff = 0.05
        since = None
        while not self.d.done.is_set():
            try:
                ws = await self.connect(since=since)
            except Exception:  # noqa: BLE001 - refused, 502/503 during the switch, timeout
                await asyncio.sleep(backoff + random.random() * backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            if self.dropped_at is not None:
                self.reconnects.append(time.monotonic() - self.dropped_at)
                self.upgrades.append(self.t_upgraded - self.dropped_at)
                self.dropped_at = None
            for op, msg in list(self.unacked.items()):   # docs/protocol.md §5: resend unacked, same ids
                try:
                    await ws.send(json.dumps(msg))
                    self.resent += 1
                except websockets.ConnectionClosed:
                    break
            self.connected.set()
            await self.reader(ws)
            self.connected.clear()
            if self.d.done.is_set():
                break
            self.dropped_at = time.monotonic()
            self.d.drops.append((self.name, ws.close_code, time.monotonic()))
            since = self.seq

    def next_op(self):
        """The next durable op: mostly strokes, some shapes and texts, and
        updates of this client's shapes and texts (docs/protocol.md §3), so
        the drill checks that elements and their field groups survive the
        failover too. Returns (message, the element id it adds or changes)."""
        x, y = random.randint(0, 2000), random.randint(0, 2000)
        color = "#%06x" % random.randint(0, 0xFFFFFF)
        op = rid(12, "o")
        r = random.random()
        if r < 0.15 and self.elements:
            eid, kind = random.choice(self.elements)
            if kind == "shape":
                set_ = random.choice([{"x1": x, "y1": y, "x2": x + 40, "y2": y + 30},
                                      {"color": color}, {"fill": None}, {"fill": color, "width": 5}])
            else:
                set_ = random.choice([{"x": x, "y": y}, {"text": f"t{op}"}, {"size": 18, "color": color}])
            return {"t": "update", "op": op, "id": eid, "set": set_}, eid
        if r < 0.25:
            eid = rid(10, "r")
            self.elements.append((eid, "shape"))
            return {"t": "shape", "op": op, "shape": {
                "type": "shape", "id": eid, "kind": random.choice(["rect", "ellipse", "line", "arrow"]),
                "x1": x, "y1": y, "x2": x + 50, "y2": y + 25, "color": color, "width": 2}}, eid
        if r < 0.3:
            eid = rid(10, "t")
            self.elements.append((eid, "text"))
            return {"t": "text", "op": op, "text": {
                "type": "text", "id": eid, "x": x, "y": y, "size": 20, "color": color,
                "text": f"drill {op}"}}, eid
        sid = rid(10, "s")
        return {"t": "stroke", "op": op, "stroke": {
            "id": sid, "color": color, "width": 3,
            "points": [x, y, x + 10, y + 5, x + 20, y + 15]}}, sid

    async def draw(self, rate: float):
        i = 0
        while not self.d.stop_drawing.is_set():
            await asyncio.sleep(random.expovariate(rate))
            if self.d.stop_drawing.is_set():
                break
            msg, sid = self.next_op()
            op = msg["op"]
            self.unacked[op] = msg
            self.sent.append(op)
            self.sent_at[op] = time.monotonic()
            self.d.stroke_of[op] = sid
            if self.connected.is_set() and self.ws is not None:
                try:
                    await self.ws.send(json.dumps(msg))
                except websockets.ConnectionClosed:
                    pass   # stays unacked, resent after the reconnect
            i += 1


class Drill:
    def __init__(self, base_url: str, cafile: str | None):
        self.base_url = base_url.rstrip("/")
        self.ws_base = self.base_url.replace("https://", "wss://").replace("http://", "ws://")
        self.cafile = cafile
        self.ssl = ssl_ctx(cafile) if self.ws_base.startswith("wss:") else None
        self.done = asyncio.Event()
        self.stop_drawing = asyncio.Event()
        self.drops: list = []
        self.stroke_of: dict = {}


async def run_drill(base_url: str, *, clients: int = 200, boards: int = 20, rate: float = 1.0,
                    before: float = 4.0, after: float = 6.0, take_down=None, bring_back=None,
                    cafile: str | None = None, balance_probe: int = 40, settle_timeout: float = 60.0,
                    log=print) -> dict:
    """Run the drill. take_down / bring_back: callables (sync, run in a thread)
    or None. Returns the report dict (see main())."""
    d = Drill(base_url, cafile)
    board_ids = [rid(22) for _ in range(boards)]
    cs = [Client(d, i, board_ids[i % boards]) for i in range(clients)]
    t_start = time.monotonic()

    runners = []
    for i, c in enumerate(cs):                 # stagger the TLS handshakes a little
        runners.append(asyncio.create_task(c.run()))
        if i % 20 == 19:
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in cs)), 60)
    except asyncio.TimeoutError:
        n = sum(c.connected.is_set() for c in cs)
        raise RuntimeError(f"only {n}/{clients} clients connected within 60 s")
    connect_s = time.monotonic() - t_start
    first_gw = collections.Counter(c.gateways[0] for c in cs)
    log(f"drill: {clients} clients on {boards} boards connected in {connect_s:.1f}s: {dict(first_gw)}")

    drawers = [asyncio.create_task(c.draw(rate)) for c in cs]
    await asyncio.sleep(before)
    down_info = None
    t_down = time.monotonic()
    if take_down is not None:
        log("drill: taking a gateway down")
        down_info = await asyncio.to_thread(take_down)
        t_down_done = time.monotonic()
        log(f"drill: take-down returned after {t_down_done - t_down:.2f}s")
    await asyncio.sleep(after)
    d.stop_drawing.set()
    await asyncio.gather(*drawers)

    # Settle: every op acked (resends happen on reconnect), every client
    # reconnected, then every client caught up with the persisted board.
    deadline = time.monotonic() + settle_timeout
    while time.monotonic() < deadline:
        if all(not c.unacked and c.connected.is_set() for c in cs):
            break
        # an unacked op on a live connection (lost in flight at the switch) is resent
        for c in cs:
            if c.unacked and c.connected.is_set() and c.ws is not None:
                for msg in list(c.unacked.values()):
                    try:
                        await c.ws.send(json.dumps(msg))
                        c.resent += 1
                    except websockets.ConnectionClosed:
                        break
        await asyncio.sleep(1.0)

    max_acked = collections.defaultdict(int)
    for c in cs:
        for s in c.acked.values():
            max_acked[c.board] = max(max_acked[c.board], s)
    persisted: dict = {}
    while time.monotonic() < deadline:
        pending = []
        for b in board_ids:
            if b in persisted and persisted[b]["seq"] >= max_acked[b]:
                continue
            try:
                persisted[b] = await asyncio.to_thread(http_json, f"{d.base_url}/api/boards/{b}", cafile)
            except Exception as e:  # noqa: BLE001
                pending.append((b, repr(e)))
                continue
            if persisted[b]["seq"] < max_acked[b]:
                pending.append((b, f"persisted seq {persisted[b]['seq']} < acked {max_acked[b]}"))
        lagging = [c for c in cs if c.seq < max_acked[c.board]]
        if not pending and not lagging:
            break
        await asyncio.sleep(0.5)
    # one more refresh of the persisted boards, then compare
    converged, diverged = 0, []
    for c in cs:
        # the whole board, values included: every update's field groups too
        want = persisted.get(c.board, {}).get("strokes", [])
        if c.state.visible() == want:
            converged += 1
        else:
            diverged.append(c.name)

    # Accounting over every op: sent / acked / lost / duplicated.
    sent = sum(len(c.sent) for c in cs)
    acked_ops = {op: c.board for c in cs for op in c.acked}
    final_ids = {b: collections.Counter(s["id"] for s in persisted.get(b, {}).get("strokes", []))
                 for b in board_ids}
    lost = [op for op, b in acked_ops.items() if final_ids[b][d.stroke_of[op]] == 0]
    dup_strokes = sum(n - 1 for b in board_ids for n in final_ids[b].values() if n > 1)
    # an op delivered as two evs (two seqs) to any client = applied twice
    dup_evs = collections.Counter()
    for c in cs:
        for op, n in c.ops_seen.items():
            if n > 1:
                dup_evs[op] = max(dup_evs[op], n - 1)
    problems = [f"{c.name}: {p}" for c in cs for p in c.problems]
    unacked = sum(len(c.unacked) for c in cs)

    reconnect_times = [t for c in cs for t in c.reconnects]
    ack_times = [t for c in cs for t in c.ack_times]
    upgrade_times = [t for c in cs for t in c.upgrades]
    report = {
        "clients": clients, "boards": boards, "rate_per_client": rate,
        "connect_seconds": round(connect_s, 2),
        "gateways_at_start": dict(first_gw),
        "take_down": down_info,
        "clients_dropped": len({n for n, _, _ in d.drops}),
        "clients_reconnected": sum(1 for c in cs if c.reconnects),
        "reconnect_p50_ms": round(pct(reconnect_times, 50) * 1000, 1) if reconnect_times else None,
        "reconnect_p99_ms": round(pct(reconnect_times, 99) * 1000, 1) if reconnect_times else None,
        "reconnect_max_ms": round(max(reconnect_times) * 1000, 1) if reconnect_times else None,
        "reconnect_upgrade_p50_ms": round(pct(upgrade_times, 50) * 1000, 1) if upgrade_times else None,
        "reconnect_upgrade_p99_ms": round(pct(upgrade_times, 99) * 1000, 1) if upgrade_times else None,
        "ack_p50_ms": round(pct(ack_times, 50) * 1000, 1) if ack_times else None,
        "ack_p99_ms": round(pct(ack_times, 99) * 1000, 1) if ack_times else None,
        "ack_max_ms": round(max(ack_times) * 1000, 1) if ack_times else None,
        "resumed_reconnects": sum(sum(c.resumed[1:]) for c in cs),
        "snapshot_reconnects": sum(len(c.resumed[1:]) - sum(c.resumed[1:]) for c in cs),
        "gateways_after": dict(collections.Counter(c.gateways[-1] for c in cs)),
        "ops_sent": sent, "ops_acked": len(acked_ops), "ops_unacked_at_end": unacked,
        "ops_resent": sum(c.resent for c in cs),
        "acked_ops_lost": len(lost), "duplicate_strokes_in_final_board": dup_strokes,
        "ops_delivered_twice": len(dup_evs),
        "clients_converged": converged, "clients_diverged": diverged[:20],
        "protocol_problems": problems[:20], "protocol_problem_count": len(problems),
    }

    d.done.set()
    for c in cs:
        if c.ws is not None:
            try:
                await asyncio.wait_for(c.ws.close(), 2)
            except Exception:  # noqa: BLE001
                pass
    await asyncio.gather(*runners, return_exceptions=True)

    if bring_back is not None:
        log("drill: bringing the gateway back")
        t0 = time.monotonic()
        back_info = await asyncio.to_thread(bring_back)
        report["bring_back"] = back_info
        report["bring_back_seconds"] = round(time.monotonic() - t0, 2)
    if balance_probe:
        report["balance_after"] = await probe_balance(d, balance_probe)
    return report


async def probe_balance(d: Drill, n: int) -> dict:
    """Open n fresh connections through Traefik; count welcome.gateway."""
    board = rid(22)
    cnt = collections.Counter()

    async def one(i):
        c = Client(d, 10_000 + i, board)
        ws = await c.connect()
        cnt[c.gateways[0]] += 1
        await ws.close()

    for i in range(n):          # sequential: round robin shows as alternation
        await one(i)
    return dict(cnt)


# --------------------------------------------------------------------------
# CLI against the running native stack

def _env_default(name, default):
    return os.environ.get(name, default)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=f"https://127.0.0.1:{_env_default('WB_HTTPS_PORT', '8443')}",
                    help="Traefik base URL (default from WB_HTTPS_PORT)")
    ap.add_argument("--cafile", default=None, help="CA to verify TLS (default: $WB_RUN_DIR/tls/ca.pem if present)")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--boards", type=int, default=20)
    ap.add_argument("--rate", type=float, default=1.0, help="strokes per second per client")
    ap.add_argument("--before", type=float, default=4.0, help="seconds of drawing before the take-down")
    ap.add_argument("--after", type=float, default=6.0, help="seconds of drawing after it")
    ap.add_argument("--gw", default="gw-1")
    ap.add_argument("--mode", choices=["term", "kill", "none"], default="kill")
    ap.add_argument("--down-cmd", default=None, help="shell command taking the gateway down")
    ap.add_argument("--up-cmd", default=None, help="shell command bringing it back")
    ap.add_argument("--no-bring-back", action="store_true")
    a = ap.parse_args(argv)

    run_dir = Path(_env_default("WB_RUN_DIR", ROOT / ".run"))
    cafile = a.cafile or (str(run_dir / "tls" / "ca.pem") if (run_dir / "tls" / "ca.pem").exists() else None)
    down_cmd = a.down_cmd or f"bash {ROOT}/scripts/takedown.sh GW={a.gw} MODE={a.mode}"
    up_cmd = a.up_cmd or f"bash {ROOT}/scripts/takedown.sh GW={a.gw} MODE=back"

    def sh(cmd):
        def run():
            r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
            sys.stderr.write(r.stdout + r.stderr)
            return {"cmd": cmd, "rc": r.returncode, "out": r.stdout.strip().splitlines()[-3:]}
        return run

    rep = asyncio.run(run_drill(
        a.url, clients=a.clients, boards=a.boards, rate=a.rate, before=a.before, after=a.after,
        take_down=None if a.mode == "none" else sh(down_cmd),
        bring_back=None if (a.mode == "none" or a.no_bring_back) else sh(up_cmd),
        cafile=cafile, log=lambda m: print(m, file=sys.stderr)))
    print(json.dumps(rep, indent=2))
    ok = (rep["acked_ops_lost"] == 0 and rep["duplicate_strokes_in_final_board"] == 0
          and rep["ops_delivered_twice"] == 0 and not rep["clients_diverged"]
          and rep["ops_unacked_at_end"] == 0 and rep["protocol_problem_count"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
