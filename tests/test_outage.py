"""End to end: NATS, the worker or PostgreSQL going away under live gateways.

Each test stops one real service of the shared stack (graceful stop: it must
exit 0, which the stack guard checks), drives clients through the outage,
starts the service again and checks that nothing acked was lost and that
everything works again. Waits are for conditions with generous bounds; no
timing is asserted.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import psycopg
import pytest
import websockets
from websockets.asyncio.client import connect as ws_connect

from wblib import http_get, metric_at, new_board, stroke_key, wait_until

pytestmark = [pytest.mark.destructive, pytest.mark.slow, pytest.mark.timeout(240)]


async def wait_http(url: str, status: int, what: str, timeout: float = 60) -> None:
    await asyncio.to_thread(wait_until, lambda: http_get(url, timeout=2).status == status, timeout, what, 0.1)


def presence_ids(c) -> set:
    return {p["id"] for p in (c.presence or {}).get("clients", [])}


def api_board(st, gw: str, board: str) -> dict:
    r = http_get(f"{st.gw_url(gw)}/api/boards/{board}", timeout=15)
    assert r.status == 200, (r.status, r.text[:300])
    return json.loads(r.body)


def api_keys(doc: dict) -> list:
    return [stroke_key(s) for s in doc["strokes"]]


async def write_some(c, n: int) -> list:
    """n strokes from c, each acked; returns their seqs."""
    return [await c.wait_ack(await c.stroke(), timeout=30) for _ in range(n)]


# --------------------------------------------------------------------------
# NATS


async def test_nats_down_under_live_gateways(wb_stack, wb_connect, wb_board):
    """NATS stops under two live gateways: both report /healthz 503, refuse new
    WebSockets with 503, answer a durable op with error `unavailable` at once
    (the client keeps it), keep their live clients, and expire the other
    gateway's presence. When NATS is back: /healthz 200, presence across the
    gateways comes back, the op re-sent with the same id is stored once and
    reaches every client in order, and a newcomer sees the whole board."""
    st = wb_stack
    a = await wb_connect("gw-1", wb_board, name="ann", wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, name="bob", wait_snapshot=True)
    await a.wait_until(lambda: b.client_id in presence_ids(a), 20, "bob in ann's presence")
    await b.wait_until(lambda: a.client_id in presence_ids(b), 20, "ann in bob's presence")
    first = await a.stroke()
    s0 = await a.wait_ack(first)
    await b.wait_seq(s0)

    rc = await asyncio.to_thread(st.terminate, "nats")
    assert rc == 0, f"nats-server exit status {rc} after SIGTERM"
    for gw in ("gw-1", "gw-2"):
        await wait_http(st.gw_url(gw) + "/healthz", 503, f"{gw} /healthz 503 while NATS is down")

    # a durable op is refused with `unavailable`, and stays the client's to re-send
    start = a.mark()
    op = await a.stroke()
    err = await a.wait_for("error", lambda m: m.get("op") == op, timeout=20, start=start)
    assert err["code"] == "unavailable", err
    assert op in a.unacked and op not in a.acks

    # new WebSockets are refused with 503 while NATS is down
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ws_connect(st.ws_url("gw-2", wb_board), subprotocols=["wb.v1"], open_timeout=10, proxy=None)
    assert refused.value.response.status_code == 503

    # live clients stay; the other gateway's presence list expires (no heartbeats cross)
    await a.wait_until(lambda: b.client_id not in presence_ids(a), 30,
                       "bob gone from ann's presence while NATS is down")
    await b.wait_until(lambda: a.client_id not in presence_ids(b), 30,
                       "ann gone from bob's presence while NATS is down")
    assert not a.closed.is_set() and not b.closed.is_set(), (a.close_code, b.close_code)

    await asyncio.to_thread(st.start, "nats")
    for gw in ("gw-1", "gw-2"):
        await wait_http(st.gw_url(gw) + "/healthz", 200, f"{gw} /healthz 200 after NATS is back")
    await a.wait_until(lambda: b.client_id in presence_ids(a), 30, "bob back in ann's presence")
    await b.wait_until(lambda: a.client_id in presence_ids(b), 30, "ann back in bob's presence")

    # the client rule: re-send the unacked op with the same id; stored once
    await a.send(a.unacked[op])
    await a.wait_until(lambda: op in a.acks, 30, f"ack of the re-sent op {op}")
    s1 = a.acks[op]
    assert s1 > s0
    await a.wait_seq(s1, timeout=30)
    await b.wait_seq(s1, timeout=30)
    for c in (a, b):
        assert [e["op"] for e in c.evs] == [first, op], [(e["seq"], e["op"]) for e in c.evs]
    n = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    assert n.welcome["seq"] == s1
    assert n.visible_keys() == a.visible_keys()
    assert len(n.visible()) == 2


async def test_nats_hung_while_clients_flood_the_gateway_loop_keeps_running(wb_stack, wb_connect, wb_board):
    """nats-server hangs (SIGSTOP: its sockets stay open, it reads nothing) while
    clients flood gw-1 with large drafts, so gw-1's writes to NATS fill the TCP
    socket. Regression: nats.c's sockets block by default, and a blocked send()
    on the loop thread held the connection lock, so nats.c could not even
    notice the stale connection: the loop never ran again (no /healthz, no
    WebSocket traffic) until the kernel gave up on the socket minutes later.
    With a write deadline the write gives up and nats.c reconnects: /healthz
    keeps answering throughout, another client's ping is answered, and after
    SIGCONT a stroke is stored and acked."""
    st = wb_stack
    w = await wb_connect("gw-1", wb_board, name="watcher", wait_snapshot=True)
    floods = [await wb_connect("gw-1", new_board(), name=f"flood{i}", wait_snapshot=True,
                               expect_problems=True) for i in range(8)]
    pts = [round(i * 0.7 % 997, 1) for i in range(20000)]     # ~120 KB of JSON, ~40 KB on NATS
    probes: list = []
    stop = asyncio.Event()

    def probe_loop():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                status = http_get(st.gw_url("gw-1") + "/healthz", timeout=10).status
            except Exception as e:  # noqa: BLE001 - no answer within 10 s is the failure
                status = repr(e)
            probes.append((status, round(time.monotonic() - t0, 2)))
            time.sleep(0.25)

    async def flood(c, i):
        n, draft = 0, json.dumps({"t": "draft", "stroke": {"id": f"s{i}", "points": pts}})
        while not stop.is_set():                 # 15 drafts/s: just under the 2 MiB/s byte rate
            await c.send(draft)
            n += 1
            await asyncio.sleep(1 / 15)
        return n

    nats_pid = st.services["nats"].pid
    os.kill(nats_pid, signal.SIGSTOP)
    try:
        prober = asyncio.create_task(asyncio.to_thread(probe_loop))
        flooders = [asyncio.create_task(flood(c, i)) for i, c in enumerate(floods)]
        await asyncio.sleep(10)
        pong = await w.ping(timeout=10)                # the loop still serves WebSockets
        stop.set()
        sent = await asyncio.gather(*flooders)
        await prober
    finally:
        stop.set()
        os.kill(nats_pid, signal.SIGCONT)
    print(f"drafts sent while NATS hung: {sum(sent)}; /healthz probes (status, seconds): {probes}")
    assert pong["t"] == "pong", pong
    unanswered = [p for p in probes if not isinstance(p[0], int)]
    assert probes and not unanswered, f"gw-1's loop stopped answering /healthz: {unanswered}"
    for gw in ("gw-1", "gw-2"):
        await wait_http(st.gw_url(gw) + "/healthz", 200, f"{gw} /healthz 200 after NATS resumed")
    op = await w.stroke()
    await w.wait_ack(op, timeout=30)
    for c in floods:
        await c.close()


async def test_gateway_stopped_with_op_id_lookups_in_flight(wb_stack, wb_connect, wb_board):
    """Before it publishes a durable op, a gateway asks WB_OPIDS whether the op
    id was ever claimed (docs/design.md section 4). Here nats-server hangs
    (SIGSTOP) with such lookups in flight and gw-1 is stopped (SIGTERM): the
    loop thread answers the ops it still holds `unavailable` and frees the
    lookups (gw_opid_stop; its log line proves that path ran, before the 3 s
    lookup timeout could). gw-1 must exit 0 (the sanitizer build reports any
    use after free), the client is closed 1001 with none of those ops acked,
    and after SIGCONT the client's resends through gw-2 are each stored once,
    in the order sent."""
    st = wb_stack
    # no drain wait: the clients are closed at once, so the stop comes well
    # inside the lookup timeout
    await asyncio.to_thread(st.restart, "gw-1", {"WB_SHUTDOWN_GRACE_MS": "0"})
    a = await wb_connect("gw-1", wb_board, name="ann", wait_snapshot=True, expect_problems=True)
    b = await wb_connect("gw-2", wb_board, name="bob", wait_snapshot=True)
    s0 = await a.wait_ack(await a.stroke(), timeout=30)
    await b.wait_seq(s0, timeout=30)
    offsets = st.log_offsets()
    lookups_url = st.gw_url("gw-1") + "/metrics"
    lookups0 = await asyncio.to_thread(metric_at, lookups_url, "wb_gateway_opid_lookups_total")

    nats_pid = st.services["nats"].pid
    os.kill(nats_pid, signal.SIGSTOP)
    try:
        ops = [await a.stroke() for _ in range(5)]
        deadline = time.monotonic() + 5
        while await asyncio.to_thread(metric_at, lookups_url, "wb_gateway_opid_lookups_total") <= lookups0:
            assert time.monotonic() < deadline, "gw-1 sent no op id lookup for the strokes"
            await asyncio.sleep(0.05)
        rc = await asyncio.to_thread(st.terminate, "gw-1", 30)
        assert rc == 0, f"gw-1 exit status {rc} after SIGTERM with lookups in flight"
        log = st.log_since("gw-1", offsets.get("gw-1", 0), max_lines=400)
        stopped = [ln for ln in log.splitlines() if "op id lookup: stopping with" in ln]
        assert stopped, log[-3000:]
        print(stopped[0])
        code = await a.wait_closed(timeout=10)
        assert code == 1001, code
        assert not any(op in a.acks for op in ops), {op: a.acks.get(op) for op in ops}
    finally:
        os.kill(nats_pid, signal.SIGCONT)

    await wait_http(st.gw_url("gw-2") + "/healthz", 200, "gw-2 /healthz 200 after NATS resumed")
    await a.reconnect(st.ws_url("gw-2", wb_board))
    for op in ops:
        await a.wait_ack(op, timeout=30)
    seqs = [a.acks[op] for op in ops]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] > s0, seqs
    await b.wait_seq(seqs[-1], timeout=30)
    got = [e["op"] for e in b.evs]
    assert got == [got[0]] + ops and b.evs[0]["seq"] == s0, [(e["seq"], e["op"]) for e in b.evs]


# --------------------------------------------------------------------------
# worker


async def test_worker_down_joins_api_and_resume_fall_back_to_the_stream(wb_stack, wb_connect, wb_board):
    """With no worker to answer snapshot requests, the gateways build the board
    from the stream: ops are still acked, a plain join gets the full board,
    GET /api/boards/{board} answers, and a resume the stream cannot replay
    (since beyond the board's end) gets a snapshot instead (resumed false).
    When the worker is back it persists everything written meanwhile."""
    st = wb_stack
    w = await wb_connect("gw-1", wb_board, name="w", wait_snapshot=True)
    before = await write_some(w, 4)
    await w.wait_seq(before[-1])
    before.append(await w.wait_ack(await w.erase([w.visible()[0]["id"]])))

    rc = await asyncio.to_thread(st.terminate, "worker")
    assert rc == 0, f"worker exit status {rc} after SIGTERM"
    during = await write_some(w, 3)
    last = during[-1]
    await w.wait_seq(last)
    want = w.visible_keys()
    assert len(want) == 6  # 4 + 3 strokes, one erased

    j = await wb_connect("gw-2", wb_board, name="joiner", wait_snapshot=True, timeout=30)
    assert j.welcome["resumed"] is False and j.welcome["seq"] == last
    assert j.snapshot["seq"] == last
    assert j.visible_keys() == want

    for gw in ("gw-1", "gw-2"):
        doc = await asyncio.to_thread(api_board, st, gw, wb_board)
        assert doc["seq"] == last and api_keys(doc) == want, (gw, doc["seq"])

    ahead = await wb_connect("gw-2", wb_board, since=last + 1000, wait_snapshot=True, timeout=30)
    assert ahead.welcome["resumed"] is False
    assert ahead.snapshot["seq"] == last and ahead.visible_keys() == want

    back = await wb_connect("gw-1", wb_board, since=before[1], timeout=30)
    assert back.welcome["resumed"] is True
    await back.wait_seq(last)
    assert back.ev_seqs() == [s for s in before + during if s > before[1]]

    await asyncio.to_thread(st.start, "worker")
    all_seqs = set(before) | set(during)

    def persisted():
        with psycopg.connect(st.pg_url, connect_timeout=3) as conn:
            rows = conn.execute("SELECT seq FROM ops WHERE board = %s", (wb_board,)).fetchall()
        return all_seqs <= {r[0] for r in rows}
    await asyncio.to_thread(wait_until, persisted, 60, "every op of the board in PostgreSQL", 0.2)
    j2 = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    assert j2.visible_keys() == want


# --------------------------------------------------------------------------
# PostgreSQL


async def test_postgres_restart_end_to_end(wb_stack, wb_connect, wb_board):
    """PostgreSQL stops (fast shutdown) and comes back under live traffic: ops
    keep being acked (JetStream holds them), the worker reports /healthz 503
    meanwhile, and afterwards it persists every op, and joins and
    GET /api/boards/{board} show the whole board."""
    st = wb_stack
    w = await wb_connect("gw-1", wb_board, name="w", wait_snapshot=True)
    r = await wb_connect("gw-2", wb_board, name="r", wait_snapshot=True)
    before = await write_some(w, 3)

    rc = await asyncio.to_thread(st.terminate, "postgres", 30, signal.SIGINT)
    assert rc == 0, f"postgres exit status {rc} after SIGINT"
    during = await write_some(w, 3)
    await wait_http(st.worker_url + "/healthz", 503, "worker /healthz 503 while PostgreSQL is down")
    during += await write_some(w, 2)
    last = during[-1]
    await r.wait_seq(last)
    assert r.ev_seqs() == before + during

    await asyncio.to_thread(st.start, "postgres")
    await wait_http(st.worker_url + "/healthz", 200, "worker /healthz 200 after PostgreSQL is back")
    all_seqs = set(before) | set(during)

    def persisted():
        with psycopg.connect(st.pg_url, connect_timeout=3) as conn:
            rows = conn.execute("SELECT seq FROM ops WHERE board = %s", (wb_board,)).fetchall()
        return all_seqs <= {row[0] for row in rows}
    await asyncio.to_thread(wait_until, persisted, 60, "every op of the board in PostgreSQL", 0.2)

    want = w.visible_keys()
    assert len(want) == len(all_seqs)
    j = await wb_connect("gw-2", wb_board, wait_snapshot=True, timeout=30)
    assert j.welcome["seq"] == last and j.visible_keys() == want
    doc = await asyncio.to_thread(api_board, st, "gw-1", wb_board)
    assert doc["seq"] == last and api_keys(doc) == want
