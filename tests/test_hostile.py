"""Hostile clients: every attack of issue #11 with the number that must hold.

Each test prints what it measured (run with -s to see the numbers). Bounds
are generous (sanitizer builds on a shared 2-core machine); the point is the
order of magnitude: before the fixes these numbers were 10-100x over.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import threading
import time
import urllib.parse

import nats
import psycopg
import pytest
import websockets

from wbclient import RawWS, make_stroke, rid
from wbstack import http_get

pytestmark = pytest.mark.timeout(120)

MAX_FRAME = 256 * 1024


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def rss_env() -> dict:
    """ASan keeps freed memory in a quarantine (256 MiB by default) that RSS
    counts: measure RSS with a small one."""
    base = os.environ.get("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:halt_on_error=1")
    return {"ASAN_OPTIONS": base + ":quarantine_size_mb=8:thread_local_quarantine_size_kb=64"}


def gw_pid(st, gw: str) -> int:
    return st.services[gw].pid


async def alive(c):
    assert not c.closed.is_set(), f"connection closed ({c.close_code} {c.close_reason!r})"
    assert (await c.ping(timeout=10))["t"] == "pong"


def big_stroke(n_numbers: int = 20000, seed: int = 0) -> dict:
    return make_stroke(points=[float((i * 7 + seed) % 9973) for i in range(n_numbers)])


async def ping_rtts(c, n: int, gap: float = 0.02) -> list:
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        await c.ping(timeout=20)
        out.append(time.monotonic() - t0)
        await asyncio.sleep(gap)
    return out


def p99(xs: list) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


# --------------------------------------------------------------------------
# errors per frame, bad frames and the rate limit


async def test_one_bad_frame_earns_one_error(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    start = c.mark()
    await c.send("[" + ",".join(["0"] * 20000) + "]")
    bad = [{"t": "nope", "op": f"x{i}"} for i in range(300)]
    await c.send(json.dumps(bad))
    await c.send('{"t":"cursor","x":1e400,"y":0}')
    await alive(c)  # the pong comes after every answer to the frames above
    errs = c.find("error", start=start)
    print(f"3 bad frames (20000 non-objects, 300 bad messages, 1e400): {len(errs)} errors")
    assert [e["code"] for e in errs] == ["bad_json", "bad_message", "bad_message"], errs
    assert "299 more" in errs[1]["msg"]


async def test_invalid_frame_flood_is_rate_limited_then_closed_1008(wb_stack, wb_connect, wb_board):
    bystander = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    ws = await asyncio.to_thread(RawWS, wb_stack.ws_url("gw-1", wb_board))
    try:
        await asyncio.to_thread(ws.read_messages, lambda ms: any(m.get("t") == "snapshot" for m in ms), 10)
        n = 4000
        burst = b"".join(ws.frame_bytes(b"not json %d" % i) for i in range(n))
        await asyncio.to_thread(ws.sock.sendall, burst)
        msgs, code = await asyncio.to_thread(ws.read_until_close, 20)
    finally:
        ws.close()
    errs = [m for m in msgs if m.get("t") == "error"]
    codes = {}
    for e in errs:
        codes[e["code"]] = codes.get(e["code"], 0) + 1
    print(f"{n} invalid frames in one burst: {codes}, close {code}")
    assert code == 1008, f"close {code}; errors {codes}"
    assert len(errs) <= n, "more than one error per frame"
    # bad frames cost tokens: only the burst (400) gets bad_json, the rest rate_limited
    assert codes.get("bad_json", 0) <= 400 + 50, codes
    assert codes.get("rate_limited", 0) > 0, codes
    assert errs[-1]["code"] == "rate_limited", "the error queued before the close was dropped"
    await alive(bystander)


@pytest.mark.destructive
async def test_byte_rate_bounds_durable_bytes(wb_stack, wb_connect, wb_board):
    """A client sending maximum-size strokes as fast as it can: bytes accepted
    per second stay within burst + rate (issue: 318 MB in 5 s before)."""
    rate, burst = 256 * 1024, 512 * 1024
    await asyncio.to_thread(wb_stack.restart, "gw-2",
                            {"WB_BYTE_RATE": str(rate), "WB_BYTE_BURST": str(burst)})
    c = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    frame = None
    ops = {}
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < 5:
        s = big_stroke(seed=i)
        op = rid(12, "o")
        frame = json.dumps({"t": "stroke", "op": op, "stroke": s})
        ops[op] = len(frame)
        await c.send(frame)
        i += 1
        await asyncio.sleep(0.005)
    elapsed = time.monotonic() - t0
    await alive(c)
    await asyncio.sleep(1.0)  # acks of the last accepted ops
    await alive(c)
    acked = [op for op in ops if op in c.acks]
    limited = [e for e in c.errors if e["code"] == "rate_limited"]
    acc = sum(ops[op] for op in acked)
    sent = sum(ops.values())
    print(f"byte rate {rate}/s burst {burst}: sent {sent / 1e6:.1f} MB in {elapsed:.1f}s, "
          f"accepted {acc / 1e6:.2f} MB ({acc / elapsed / 1e6:.2f} MB/s), {len(limited)} rate_limited")
    assert acc <= burst + rate * (elapsed + 1.5) + len(frame), acc
    assert acked, "nothing accepted at all"
    assert limited, "no frame was refused"


# --------------------------------------------------------------------------
# validation that reaches other clients


async def test_name_with_invalid_utf8_never_reaches_others(wb_stack, wb_connect, wb_board):
    other = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    url = wb_stack.ws_url("gw-1", wb_board) + "?name=" + urllib.parse.quote(b"a\xf5\x80\x80b\xff\xc0\xafc")
    bad = await websockets.connect(url, subprotocols=["wb.v1"], proxy=None)
    try:
        await other.wait_until(lambda: other.presence and any(
            p["name"] == "abc" for p in other.presence["clients"]), 10, "presence with the cleaned name")
        await bad.send(json.dumps({"t": "cursor", "x": 1, "y": 2}))
        cur = await other.wait_for("cursor", timeout=10)
        assert cur["name"] == "abc"
        await alive(other)
        assert other.problems == []
    finally:
        await bad.close()


async def test_width_that_underflows_float_is_refused(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    start = c.mark()
    await c.send({"t": "stroke", "op": "ow1", "stroke": make_stroke(width=1e-50)})
    e = await c.wait_error(start)
    assert e["code"] == "bad_message" and e.get("op") == "ow1"
    assert "ow1" not in c.acks


# --------------------------------------------------------------------------
# memory: paced replays, idle timeout


@pytest.mark.destructive
@pytest.mark.timeout(240)
async def test_non_reading_resumers_cost_a_bounded_amount(wb_stack, wb_connect, wb_board):
    """20 clients resume with since=0 on a board with ~12 MB of history and
    never read (issue: +585 MiB RSS for a 36 MiB board). Replays are paced by
    the client's reading, so each costs at most one chunk; they are closed
    after the idle timeout; an honest resumer gets every op; a neighbour's
    pings stay fast."""
    chunk = int(os.environ.get("WB_TEST_REPLAY_CHUNK", 256 * 1024))
    await asyncio.to_thread(wb_stack.restart, "gw-2", {
        "WB_REPLAY_CHUNK_BYTES": str(chunk), "WB_IDLE_TIMEOUT_S": "4", **rss_env()})
    # the writer builds the history fast: its gateway allows it the bytes
    await asyncio.to_thread(wb_stack.restart, "gw-1", {
        "WB_BYTE_RATE": str(64 << 20), "WB_BYTE_BURST": str(64 << 20)})
    w = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    ops = [await w.stroke(big_stroke(seed=i)) for i in range(100)]
    seqs = [await w.wait_ack(op, timeout=30) for op in ops]
    history = sum(len(json.dumps(e)) for e in w.evs)
    neighbour = await wb_connect("gw-2", wb_board + "n", wait_snapshot=True)
    await ping_rtts(neighbour, 20)
    pid = gw_pid(wb_stack, "gw-2")
    before = rss_mib(pid)
    socks = [await asyncio.to_thread(RawWS, wb_stack.ws_url("gw-2", wb_board, since=0), rcvbuf=4096)
             for _ in range(20)]
    rtts = await ping_rtts(neighbour, 100)
    peak = rss_mib(pid)
    growth = peak - before
    print(f"history {history / 1e6:.1f} MB; 20 non-reading resumers: RSS {before:.0f} -> {peak:.0f} MiB "
          f"(+{growth:.0f}); neighbour ping p50 {statistics.median(rtts) * 1000:.1f} ms "
          f"p99 {p99(rtts) * 1000:.1f} ms")
    # Unpaced, each would hold the whole history (20 x 12 MB; measured +106 MiB
    # for 20 x 6 MB before). Paced: a chunk, an ev or two and lws's partial
    # write per client, plus the sanitizer's own overhead.
    assert growth < 64, f"RSS grew {growth:.0f} MiB"
    assert p99(rtts) < 1.0, f"neighbour ping p99 {p99(rtts):.3f}s"
    # an honest resumer still gets everything, in order, once
    r = await wb_connect("gw-2", wb_board, since=0)
    await r.wait_seq(seqs[-1], timeout=60)
    assert r.welcome["resumed"] is True
    assert r.ev_seqs() == seqs and r.problems == []
    # the non-readers are closed by the idle timeout (they hold nothing after)
    def all_closed():
        n = 0
        for s in socks:
            s.sock.settimeout(0.2)
            try:
                while s.sock.recv(1 << 20):
                    pass
                n += 1  # EOF
            except socket.timeout:
                pass
            except OSError:
                n += 1
        return n
    closed = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and closed < len(socks):
        closed = await asyncio.to_thread(all_closed)
        await asyncio.sleep(0.5)
    for s in socks:
        s.close()
    assert closed == len(socks), f"{closed}/{len(socks)} non-readers closed"
    await alive(neighbour)


# --------------------------------------------------------------------------
# an op is applied once forever


@pytest.mark.destructive
@pytest.mark.timeout(90)
async def test_op_resent_after_dedup_window_is_applied_once(wb_stack, wb_connect, wb_board):
    window = 2
    # the gateway (re)ensures the stream with its settings when it connects
    await asyncio.to_thread(wb_stack.restart, "gw-1", {"WB_DEDUP_WINDOW_S": str(window)})
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    watcher = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    s = make_stroke()
    await a.stroke(s, wait=True)
    erase = {"t": "erase", "op": rid(12, "e"), "ids": [s["id"]]}
    await a.send_op(erase)
    erase_seq = await a.wait_ack(erase["op"])
    restore = {"t": "restore", "op": rid(12, "r"), "ids": [s["id"]]}
    await a.send_op(restore)
    restore_seq = await a.wait_ack(restore["op"])
    await watcher.wait_seq(restore_seq)
    # the worker claims the op ids once it has committed them
    nc = await nats.connect(wb_stack.nats_url)
    try:
        js = nc.jetstream()
        for op, seq in ((erase["op"], erase_seq), (restore["op"], restore_seq)):
            deadline = time.monotonic() + 30
            claim = None
            while claim is None and time.monotonic() < deadline:
                try:
                    claim = await js.get_last_msg("WB_OPIDS", f"wb.opid.{wb_board}.{op}")
                except nats.js.errors.NotFoundError:
                    await asyncio.sleep(0.2)
            assert claim is not None, f"the worker never claimed op id {op}"
            assert int(claim.data) == seq
        await asyncio.sleep(window + 1.5)  # JetStream has forgotten the msg ids
        info = await js.stream_info("WB_OPS")
        last_before = info.state.last_seq
        start = a.mark()
        # the same two ops again, as a client does after a reconnect, sent
        # back to back with a new op: the gateway asks about the ops of one
        # loop turn in one lookup, and each must get its own answer
        fresh = {"t": "stroke", "op": rid(12, "f"), "stroke": make_stroke()}
        await a.send(erase)
        await a.send(fresh)
        await a.send(restore)
        acks = {}
        for m in (erase, fresh, restore):
            ack = await a.wait_for("ack", lambda x, o=m["op"]: x["op"] == o, start=start,
                                   timeout=10)
            acks[m["op"]] = ack["seq"]
        assert acks[erase["op"]] == erase_seq, "the erase was answered with a new seq: stored twice"
        assert acks[restore["op"]] == restore_seq, "the restore was answered with a new seq"
        assert acks[fresh["op"]] == last_before + 1, "the new op was not stored next"
        final = await a.wait_ack(await a.stroke())
        await watcher.wait_seq(final)
        info = await js.stream_info("WB_OPS")
        assert info.state.last_seq == final == last_before + 2, "a resent op was stored again"
    finally:
        await nc.close()
    assert [e["op"] for e in watcher.evs].count(erase["op"]) == 1
    assert [e["op"] for e in watcher.evs].count(restore["op"]) == 1
    assert fresh["op"] in [e["op"] for e in watcher.evs]
    assert s["id"] in watcher.state.visible_ids(), "the resent erase was applied again"
    snap = json.loads(http_get(wb_stack.gw_url("gw-2") + f"/api/boards/{wb_board}", timeout=10).body)
    assert s["id"] in [x["id"] for x in snap["strokes"]]
    print(f"resent after the {window}s window: acks {acks} (original {erase_seq}, {restore_seq}), "
          "no new ev, stroke still visible")


# --------------------------------------------------------------------------
# unknown ids, per-IP caps, REST flood, worker HTTP


@pytest.mark.timeout(90)
async def test_unknown_ids_leave_no_rows(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    start = c.mark()
    await c.send({"t": "erase", "op": "otoomany", "ids": [f"u{i}" for i in range(1001)]})
    e = await c.wait_error(start)
    assert e["code"] == "bad_message" and e.get("op") == "otoomany"
    seqs = [await c.wait_ack(await c.erase([f"x{k}_{i}" for i in range(1000)])) for k in range(3)]
    with psycopg.connect(wb_stack.pg_url, connect_timeout=5, autocommit=True) as db:
        deadline = time.monotonic() + 60
        logged = placeholders = -1
        while time.monotonic() < deadline:
            logged = db.execute("SELECT count(*) FROM ops WHERE board = %s AND seq = ANY(%s)",
                                (wb_board, seqs)).fetchone()[0]
            placeholders = db.execute("SELECT count(*) FROM strokes WHERE board = %s AND add_seq IS NULL",
                                      (wb_board,)).fetchone()[0]
            if logged == 3 and placeholders == 0:
                break
            await asyncio.sleep(0.5)
    print(f"3 erases of 1000 unknown ids: {logged} ops logged, {placeholders} placeholder rows left")
    assert logged == 3
    assert placeholders == 0


@pytest.mark.destructive
async def test_per_ip_connection_cap(wb_stack, wb_board):
    await asyncio.to_thread(wb_stack.restart, "gw-2", {"WB_MAX_CONNS_PER_IP": "3"})
    url = wb_stack.ws_url("gw-2", wb_board)
    kw = dict(subprotocols=["wb.v1"], proxy=None)
    conns = [await websockets.connect(url, **kw) for _ in range(3)]
    try:
        with pytest.raises(websockets.InvalidStatus) as ei:
            await websockets.connect(url, **kw)
        assert ei.value.response.status_code == 429
        # behind the trusted proxy, X-Forwarded-For names the client
        other = await websockets.connect(url, additional_headers={"X-Forwarded-For": "198.51.100.7"}, **kw)
        await other.close()
        await conns[0].close()
        deadline = time.monotonic() + 10
        while True:  # the slot is free once the gateway saw the close
            try:
                again = await websockets.connect(url, **kw)
                break
            except websockets.InvalidStatus:
                assert time.monotonic() < deadline, "a closed connection still counts"
                await asyncio.sleep(0.2)
        await again.close()
    finally:
        for c in conns:
            await c.close()


@pytest.mark.destructive
async def test_rest_snapshot_flood_is_capped(wb_stack, wb_connect, wb_board):
    await asyncio.to_thread(wb_stack.restart, "gw-2", {"WB_API_MAX_INFLIGHT": "2"})
    url = wb_stack.gw_url("gw-2") + f"/api/boards/{wb_board}"

    def get(_):
        try:
            return http_get(url, timeout=20).status
        except OSError as e:
            return type(e).__name__
    statuses = await asyncio.gather(*[asyncio.to_thread(get, i) for i in range(40)])
    t0 = time.monotonic()
    j = await wb_connect("gw-2", wb_board + "j", wait_snapshot=True, timeout=20)
    join_s = time.monotonic() - t0
    counts = {s: statuses.count(s) for s in set(statuses)}
    print(f"40 concurrent REST snapshots with a cap of 2: {counts}; a join meanwhile: {join_s * 1000:.0f} ms")
    assert set(statuses) <= {200, 503}, counts
    assert 200 in counts
    await alive(j)


async def test_worker_http_times_out_the_request_not_each_recv(wb_stack):
    port = wb_stack.ports["worker"]
    stop = threading.Event()

    def trickle():
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            for ch in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 200:
                if stop.is_set():
                    break
                s.send(bytes([ch]))
                time.sleep(0.3)
        except OSError:
            pass
        finally:
            s.close()

    th = threading.Thread(target=trickle, daemon=True)
    th.start()
    await asyncio.sleep(0.5)
    t0 = time.monotonic()
    r = await asyncio.to_thread(http_get, wb_stack.worker_url + "/healthz", 8)
    took = time.monotonic() - t0
    stop.set()
    th.join(5)
    print(f"/healthz while another client trickles a request: {r.status} after {took:.2f}s")
    assert r.status == 200


# --------------------------------------------------------------------------
# soak: hostile clients among honest ones


@pytest.mark.destructive
@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_soak_hostile_among_honest(wb_stack, wb_connect, wb_board):
    duration = float(os.environ.get("WB_TEST_SOAK_S", "90"))
    for g in ("gw-1", "gw-2"):
        # the test process runs the hostile threads too: give honest readers
        # room for its own pauses (a real non-reader is closed all the same)
        await asyncio.to_thread(wb_stack.restart, g, {"WB_IDLE_TIMEOUT_S": "20", **rss_env()})
    boards = [wb_board, wb_board + "b"]
    honest = []
    for i in range(6):
        gw = "gw-1" if i % 2 else "gw-2"
        honest.append(await wb_connect(gw, boards[i % 2], name=f"h{i}", wait_snapshot=True))
    # warm up, then take the baseline
    for h in honest:
        await h.wait_ack(await h.stroke())
    pids = {g: gw_pid(wb_stack, g) for g in ("gw-1", "gw-2")}
    base = {g: rss_mib(p) for g, p in pids.items()}
    stop = asyncio.Event()
    hostile_stats = {"flood_frames": 0, "big_frames": 0, "nonreaders": 0, "closed": 0}

    async def honest_loop(h):
        rtts = []
        while not stop.is_set():
            await h.stroke()
            t0 = time.monotonic()
            await h.ping(timeout=30)
            rtts.append(time.monotonic() - t0)
            await asyncio.sleep(0.2)
        return rtts

    def flooder(gw, board):
        burst = None
        while not stop.is_set():
            try:
                ws = RawWS(wb_stack.ws_url(gw, board))
                burst = burst or b"".join(ws.frame_bytes(b"[0,0,0,{bad") for _ in range(3000))
                ws.sock.sendall(burst)
                hostile_stats["flood_frames"] += 3000
                ws.read_until_close(10)
                hostile_stats["closed"] += 1
                ws.close()
            except OSError:
                time.sleep(0.2)

    def big_sender(gw, board):
        body = json.dumps({"t": "stroke", "op": "x", "stroke": big_stroke()}).encode()
        while not stop.is_set():
            try:
                ws = RawWS(wb_stack.ws_url(gw, board))
                t_end = time.monotonic() + 5
                while time.monotonic() < t_end and not stop.is_set():
                    ws.send_frame(body.replace(b'"op": "x"', b'"op": "%s"' % rid(10, "b").encode()))
                    hostile_stats["big_frames"] += 1
                ws.close()
            except OSError:
                time.sleep(0.2)

    def non_reader(gw, board):
        held = []
        while not stop.is_set():
            try:
                held.append(RawWS(wb_stack.ws_url(gw, board, since=0), rcvbuf=4096))
                hostile_stats["nonreaders"] += 1
            except (OSError, ConnectionError):
                pass
            held = held[-10:]
            time.sleep(1.0)
        for s in held:
            s.close()

    threads = [threading.Thread(target=f, args=(g, b), daemon=True) for f, g, b in (
        (flooder, "gw-1", boards[0]), (flooder, "gw-2", boards[1]),
        (big_sender, "gw-1", boards[1]), (non_reader, "gw-2", boards[0]), (non_reader, "gw-1", boards[1]))]
    for t in threads:
        t.start()
    tasks = [asyncio.create_task(honest_loop(h)) for h in honest]
    await asyncio.sleep(duration)
    stop.set()
    all_rtts = [r for t in tasks for r in await t]
    for t in threads:
        t.join(15)
    peak = {g: rss_mib(p) for g, p in pids.items()}
    # every honest acked op delivered once to every honest client of its board
    for h in honest:
        for op in list(h.unacked):
            await h.wait_ack(op, timeout=30)
    for b in boards:
        members = [h for h in honest if h.url.split("/ws/")[1].split("?")[0] == b]
        acked = {seq for h in members for seq in h.acks.values()}
        top = max(acked)
        for h in members:
            await h.wait_seq(top, timeout=30)
            got = h.ev_seqs()
            assert len(got) == len(set(got)), "an ev delivered twice"
            missing = acked - set(got)
            assert not missing, f"{h.label} missed acked seqs {sorted(missing)[:5]}"
            assert h.problems == [], h.problems
    growth = {g: peak[g] - base[g] for g in pids}
    print(f"soak {duration:.0f}s: hostile {hostile_stats}; honest ops "
          f"{sum(len(h.acks) for h in honest)}; ping p50 {statistics.median(all_rtts) * 1000:.0f} ms "
          f"p99 {p99(all_rtts) * 1000:.0f} ms; RSS growth {growth}")
    assert p99(all_rtts) < 2.0, f"honest ping p99 {p99(all_rtts):.2f}s"
    assert all(v < 150 for v in growth.values()), growth
    for h in honest:
        await alive(h)


# --------------------------------------------------------------------------
# who may talk to NATS


async def _nats_as(st, user: str):
    from wbstack import nats_url_as
    errors = []

    async def on_error(e):
        errors.append(str(e))
    nc = await nats.connect(nats_url_as(st.env["WB_NATS_URL"], st.run_dir, user), error_cb=on_error,
                            allow_reconnect=False, max_reconnect_attempts=0)
    return nc, errors


async def test_nats_users_and_permissions(wb_stack, wb_connect, wb_board):
    """Only JetStream publishes wb.rp.* (a forged op with a huge Nats-Sequence
    could freeze a board); the observer reads but cannot write; nobody gets in
    without a password."""
    with pytest.raises(Exception):
        await nats.connect(wb_stack.env["WB_NATS_URL"], allow_reconnect=False, max_reconnect_attempts=0,
                           connect_timeout=3)
    admin, _ = await _nats_as(wb_stack, "admin")
    seen = []

    async def on_rp(m):
        seen.append(m)
    sub = await admin.subscribe(f"wb.rp.{wb_board}", cb=on_rp)
    await admin.flush()
    c = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    try:
        for user in ("gateway", "worker", "observer", "admin"):
            nc, errors = await _nats_as(wb_stack, user)
            try:
                await nc.publish(f"wb.rp.{wb_board}", b"forged", headers={"Nats-Sequence": "999999999",
                                                                          "Nats-Last-Sequence": "1"})
                await nc.flush()
                deadline = time.monotonic() + 5
                while not errors and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                assert any("permissions violation" in e.lower() for e in errors), (user, errors)
            finally:
                await nc.close()
        obs, errors = await _nats_as(wb_stack, "observer")
        try:
            await obs.publish(f"wb.board.{wb_board}.ev", b"x")
            await obs.flush()
            deadline = time.monotonic() + 5
            while not errors and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert any("permissions violation" in e.lower() for e in errors), errors
            info = await obs.jetstream().stream_info("WB_OPS")  # reading is allowed
            assert info.config.name == "WB_OPS"
        finally:
            await obs.close()
        # the board still works, and nothing forged reached wb.rp
        seq = await c.wait_ack(await c.stroke())
        await c.wait_seq(seq)
        assert all(m.data != b"forged" for m in seen)
        await alive(c)
    finally:
        await sub.unsubscribe()
        await admin.close()


def test_traefik_security_headers_and_no_public_metrics(wb_traefik):
    r = http_get(wb_traefik.base_url + "/healthz", timeout=10)
    assert r.status == 200
    assert "max-age=31536000" in r.headers.get("strict-transport-security", "")
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert "default-src 'self'" in r.headers.get("content-security-policy", "")
    # the gateways' /metrics is for the internal scrape only
    assert http_get(wb_traefik.base_url + "/metrics", timeout=10).status == 404
    assert http_get(wb_traefik.gw_url("gw-1") + "/metrics", timeout=10).status == 200
