"""docs/protocol.md §6: limits and bad input, one test (or more) per row."""
from __future__ import annotations

import asyncio
import json
import signal
import socket
import threading
import time

import pytest

from wbclient import RawWS, make_stroke, rid
from wblib import metric_at
from wbstack import http_get

pytestmark = pytest.mark.timeout(60)

LIMIT = 256 * 1024


async def assert_alive(c):
    assert not c.closed.is_set(), f"connection closed ({c.close_code} {c.close_reason!r})"
    await c.ping()  # fails unless the pong with our ts arrives


# --------------------------------------------------------------------------
# frame size


async def test_frame_over_limit_closes_1009(wb_stack, wb_connect, wb_board):
    bystander = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    c = await wb_connect("gw-1", wb_board)
    await c.send(json.dumps({"t": "ping", "ts": 1, "pad": "x" * (LIMIT + 1024)}))
    code = await c.wait_closed(5)
    assert code == 1009, f"close code {code} {c.close_reason!r}"
    await assert_alive(bystander)
    await bystander.wait_ack(await bystander.stroke())


async def test_frame_just_under_limit_is_served(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-2", wb_board)
    start = c.mark()
    await c.send(json.dumps({"t": "ping", "ts": 5, "pad": "x" * (LIMIT - 4096)}))
    m = await c.wait_for("pong", lambda m: m["ts"] == 5, start=start)
    assert m["ts"] == 5
    await assert_alive(c)


def test_fragmented_message_over_limit_closes_1009(wb_stack, wb_board):
    """The limit is on the message: 3 fragments of 100 KiB must not get through."""
    ws = RawWS(wb_stack.ws_url("gw-1", wb_board))
    try:
        body = json.dumps({"t": "ping", "ts": 1, "pad": "y" * (300 * 1024)}).encode()
        chunks = [body[i:i + 100 * 1024] for i in range(0, len(body), 100 * 1024)]
        for i, ch in enumerate(chunks):
            ws.send_frame(ch, opcode=1 if i == 0 else 0, fin=(i == len(chunks) - 1))
        msgs, code = ws.read_until_close(5)
        assert code == 1009, f"close {code}; got {[m.get('t') for m in msgs]}"
        assert not any(m.get("t") == "pong" for m in msgs)
    finally:
        ws.close()


# --------------------------------------------------------------------------
# bad_json

BAD_JSON = ["not json", "{", '{"t":"ping",}', "42", '"text"', "null", "true", "[1,2]",
            '[{"t":"ping","ts":1}, 3]', "\ufeff{}x"]


async def test_bad_json(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-1", wb_board)
    for raw in BAD_JSON:
        start = c.mark()
        await c.send(raw)
        e = await c.wait_error(start)
        assert e["code"] == "bad_json", (raw, e)
        await assert_alive(c)


async def test_invalid_utf8_does_not_crash(wb_stack, wb_connect, wb_board):
    """A text frame with invalid UTF-8 is not JSON: it is answered with
    error bad_json (never executed: no pong for it), the connection stays
    usable, and the gateway stays healthy for everybody else."""
    other = await wb_connect("gw-2", wb_board)
    ws = RawWS(wb_stack.ws_url("gw-2", wb_board))
    try:
        ws.send_frame(b'{"t":"ping","ts":1,"x":"\xff\xfe"}')
        msgs, code = await asyncio.to_thread(
            ws.read_messages, lambda ms: any(m.get("t") == "error" for m in ms), 10)
        errs = [m for m in msgs if m.get("t") == "error"]
        assert code is None and errs, f"no error reply (close code {code}): {msgs}"
        assert errs[0]["code"] == "bad_json", errs
        ws.send_text({"t": "ping", "ts": 2})
        more, code = await asyncio.to_thread(
            ws.read_messages, lambda ms: any(m.get("t") == "pong" and m.get("ts") == 2 for m in ms), 10)
        assert code is None and any(m.get("t") == "pong" and m.get("ts") == 2 for m in more), (code, more)
        assert not any(m.get("t") == "pong" and m.get("ts") == 1 for m in msgs + more), "invalid frame executed"
    finally:
        ws.close()
    await assert_alive(other)


# --------------------------------------------------------------------------
# bad_message


def _s(**over):
    s = {"id": rid(8, "s"), "color": "#1e1e1e", "width": 4, "points": [0, 0, 10, 10]}
    for k, v in over.items():
        if v is _DEL:
            s.pop(k)
        else:
            s[k] = v
    return s


_DEL = object()

BAD_MESSAGES = {
    "no t": {"op": "o1", "stroke": _s()},
    "t not string": {"t": 5, "op": "o1"},
    "stroke missing": {"t": "stroke", "op": "ok1"},
    "stroke not object": {"t": "stroke", "op": "ok1", "stroke": [1, 2]},
    "op missing": {"t": "stroke", "stroke": _s()},
    "op with dot": {"t": "stroke", "op": "a.b", "stroke": _s()},
    "op empty": {"t": "stroke", "op": "", "stroke": _s()},
    "op 65 chars": {"t": "stroke", "op": "o" * 65, "stroke": _s()},
    "op number": {"t": "stroke", "op": 17, "stroke": _s()},
    "id missing": {"t": "stroke", "op": "ok2", "stroke": _s(id=_DEL)},
    "id with star": {"t": "stroke", "op": "ok2", "stroke": _s(id="a*")},
    "id with space": {"t": "stroke", "op": "ok2", "stroke": _s(id="a b")},
    "id unicode": {"t": "stroke", "op": "ok2", "stroke": _s(id="\u00e9t\u00e9")},
    "id empty": {"t": "stroke", "op": "ok2", "stroke": _s(id="")},
    "id 65 chars": {"t": "stroke", "op": "ok2", "stroke": _s(id="i" * 65)},
    "color name": {"t": "stroke", "op": "ok3", "stroke": _s(color="red")},
    "color short": {"t": "stroke", "op": "ok3", "stroke": _s(color="#12345")},
    "color long": {"t": "stroke", "op": "ok3", "stroke": _s(color="#1234567")},
    "color bad hex": {"t": "stroke", "op": "ok3", "stroke": _s(color="#12345g")},
    "color number": {"t": "stroke", "op": "ok3", "stroke": _s(color=0x123456)},
    "color missing": {"t": "stroke", "op": "ok3", "stroke": _s(color=_DEL)},
    "width 0": {"t": "stroke", "op": "ok4", "stroke": _s(width=0)},
    "width negative": {"t": "stroke", "op": "ok4", "stroke": _s(width=-1)},
    "width 200.5": {"t": "stroke", "op": "ok4", "stroke": _s(width=200.5)},
    "width 1000": {"t": "stroke", "op": "ok4", "stroke": _s(width=1000)},
    "width string": {"t": "stroke", "op": "ok4", "stroke": _s(width="4")},
    "width null": {"t": "stroke", "op": "ok4", "stroke": _s(width=None)},
    "points missing": {"t": "stroke", "op": "ok5", "stroke": _s(points=_DEL)},
    "points empty": {"t": "stroke", "op": "ok5", "stroke": _s(points=[])},
    "points one number": {"t": "stroke", "op": "ok5", "stroke": _s(points=[1])},
    "points odd": {"t": "stroke", "op": "ok5", "stroke": _s(points=[1, 2, 3])},
    "points 20002": {"t": "stroke", "op": "ok5", "stroke": _s(points=[1, 2] * 10001)},
    "points string": {"t": "stroke", "op": "ok5", "stroke": _s(points=[1, "2"])},
    "points null (JSON.stringify(NaN))": {"t": "stroke", "op": "ok5", "stroke": _s(points=[1, None])},
    "points bool": {"t": "stroke", "op": "ok5", "stroke": _s(points=[True, 1])},
    "points over 1e7": {"t": "stroke", "op": "ok5", "stroke": _s(points=[1e7 + 1, 0])},
    "points under -1e7": {"t": "stroke", "op": "ok5", "stroke": _s(points=[0, -2e7])},
    "points huge": {"t": "stroke", "op": "ok5", "stroke": _s(points=[0, 1e300])},
    "points nested": {"t": "stroke", "op": "ok5", "stroke": _s(points=[[1, 2]])},
    "points object": {"t": "stroke", "op": "ok5", "stroke": _s(points={"0": 1})},
    "erase ids missing": {"t": "erase", "op": "ok6"},
    "erase ids not list": {"t": "erase", "op": "ok6", "ids": "s1"},
    "erase bad id": {"t": "erase", "op": "ok6", "ids": ["a.b"]},
    "erase id number": {"t": "erase", "op": "ok6", "ids": [5]},
    "restore bad id": {"t": "restore", "op": "ok7", "ids": ["x>"]},
    "clear without op": {"t": "clear"},
    "draft bad stroke": {"t": "draft", "stroke": _s(color="blue")},
    "draft no stroke": {"t": "draft"},
    "cursor x string": {"t": "cursor", "x": "1", "y": 2},
    "cursor y missing": {"t": "cursor", "x": 1},
}


async def test_bad_message(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    watcher = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    failures = []
    for name, msg in BAD_MESSAGES.items():
        start = c.mark()
        await c.send(msg)
        try:
            e = await c.wait_error(start, timeout=2)
        except TimeoutError:
            failures.append(f"{name}: no error; got {[m['t'] for m in c.msgs[start:]]}")
            continue
        if e["code"] != "bad_message":
            failures.append(f"{name}: code {e['code']!r} ({e.get('msg')!r})")
        if "op" in e and isinstance(msg.get("op"), str) and msg["op"] and e["op"] != msg["op"]:
            failures.append(f"{name}: error names op {e['op']!r}")
        if c.find("ack", start=start):
            failures.append(f"{name}: acked although refused")
        if c.closed.is_set():
            pytest.fail(f"connection closed after {name!r}: {c.close_code}")
    await assert_alive(c)
    # nothing refused reached the board
    last = await c.wait_ack(await c.stroke())
    await watcher.wait_seq(last)
    assert len(watcher.evs) == 1, [e.get("op") for e in watcher.evs]
    assert not watcher.find("draft") and not watcher.find("cursor")
    assert not failures, "\n".join(failures)


async def test_nan_literal_is_bad_message(wb_stack, wb_connect, wb_board):
    """docs/protocol.md §6 lists NaN under bad_message. Python's json (and other
    lenient encoders) write it as a bare NaN / Infinity token."""
    c = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    for tok in ("NaN", "Infinity", "-Infinity"):
        start = c.mark()
        await c.send('{"t":"stroke","op":"onan","stroke":{"id":"snan","color":"#000000","width":4,'
                     f'"points":[1,{tok},3,4]}}}}')
        e = await c.wait_error(start)
        assert e["code"] == "bad_message", (tok, e)
        assert not c.find("ack", start=start)
    await assert_alive(c)


async def test_limits_inclusive_bounds_accepted(wb_stack, wb_connect, wb_board):
    """The edges of every range are valid (20000 numbers, width 200, +-1e7, 64-char ids)."""
    c = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    good = [
        make_stroke(points=[1, 2] * 10000),
        make_stroke(points=[5, 5], width=200),
        make_stroke(points=[1e7, -1e7, -1e7, 1e7], width=0.1),
        make_stroke(sid="S" * 64, color="#ABCDEF"),
    ]
    for s in good:
        await c.wait_ack(await c.stroke(s, op="P" * 63 + rid(1)))
    await c.wait_ack(await c.erase(["S" * 64]))
    assert c.errors == []


# --------------------------------------------------------------------------
# rate limiting


async def test_rate_limit_burst_then_rate_limited(wb_stack, wb_connect, wb_board):
    """700 pings and then a stroke, written to the socket in ONE burst (so the
    test does not depend on how fast Python runs): the first 400 are served,
    the rest get rate_limited, the stroke is dropped, the connection stays."""
    watcher = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    ws = await asyncio.to_thread(RawWS, wb_stack.ws_url("gw-2", wb_board))
    try:
        hello, _ = await asyncio.to_thread(
            ws.read_messages, lambda ms: any(m.get("t") == "snapshot" for m in ms), 10)
        n = 700
        dropped = rid(12, "o")
        burst = b"".join(ws.frame_bytes({"t": "ping", "ts": i}) for i in range(n))
        burst += ws.frame_bytes({"t": "stroke", "op": dropped, "stroke": make_stroke()})
        t0 = time.monotonic()
        await asyncio.to_thread(ws.sock.sendall, burst)
        answers = ("pong", "error", "ack")
        msgs, code = await asyncio.to_thread(
            ws.read_messages, lambda ms: sum(m.get("t") in answers for m in ms) >= n + 1, 10)
        elapsed = time.monotonic() - t0
        assert code is None, f"closed {code} after one burst"
        pongs = [m for m in msgs if m.get("t") == "pong"]
        errs = [m for m in msgs if m.get("t") == "error"]
        acks = [m for m in msgs if m.get("t") == "ack"]
        assert {e["code"] for e in errs} == {"rate_limited"}, errs[:3]
        assert len(pongs) >= 400, f"burst of 400 not honoured: {len(pongs)} pongs"
        assert len(pongs) <= 400 + 200 * elapsed + 20, f"{len(pongs)} pongs in {elapsed:.2f}s"
        assert not acks, "the op sent on an empty bucket was accepted"
        assert len(pongs) + len(errs) == n + 1, "every message gets a pong or an error"
        assert any(e.get("op") == dropped for e in errs), "the refused op's error does not name it"
        # after a pause the client is served again
        await asyncio.sleep(1.5)
        ws.send_text({"t": "ping", "ts": -1})
        more, code = await asyncio.to_thread(
            ws.read_messages, lambda ms: any(m.get("t") == "pong" and m.get("ts") == -1 for m in ms), 5)
        assert code is None and any(m.get("t") == "pong" for m in more)
    finally:
        ws.close()
    last = await watcher.wait_ack(await watcher.stroke())
    await watcher.wait_seq(last)
    assert dropped not in [e["op"] for e in watcher.evs]


async def test_sustained_abuse_closes_1008(wb_stack, wb_connect, wb_board):
    bystander = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    c = await wb_connect("gw-1", wb_board)
    t0 = time.monotonic()
    i = 0
    while not c.closed.is_set() and time.monotonic() - t0 < 15:
        try:
            for _ in range(100):
                i += 1
                await c.send({"t": "cursor", "x": i, "y": i})
        except Exception:  # noqa: BLE001 - the server closed on us
            break
        await asyncio.sleep(0.01)
    code = await c.wait_closed(5)
    assert code == 1008, f"close {code} after {i} messages in {time.monotonic() - t0:.1f}s"
    await assert_alive(bystander)


# --------------------------------------------------------------------------
# slow reader


@pytest.mark.destructive
@pytest.mark.timeout(90)
async def test_slow_reader_drops_ephemeral_then_1013_and_resumes(wb_stack, wb_connect, wb_board):
    # a small send queue on gw-2 so the test does not need gigabytes
    await asyncio.to_thread(wb_stack.restart, "gw-2", {"WB_SENDQ_MAX": "32"})
    slow = await asyncio.to_thread(RawWS, wb_stack.ws_url("gw-2", wb_board), rcvbuf=4096)
    writer = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    chatter = await wb_connect("gw-1", wb_board)
    big = 5000  # points per stroke: ~40 KB of JSON per ev
    ops = []
    cursors = 0
    for i in range(120):
        ops.append(await writer.stroke(make_stroke(points=[(i + j) % 997 for j in range(2 * big)])))
        for _ in range(2):
            cursors += 1
            await chatter.send({"t": "cursor", "x": i, "y": cursors})
        await asyncio.sleep(0.01)
    acked = sorted([await writer.wait_ack(op, timeout=20) for op in ops])
    await asyncio.sleep(1.0)
    msgs, code = await asyncio.to_thread(slow.read_until_close, 20)
    slow.close()
    evs = [m["seq"] for m in msgs if m.get("t") == "ev"]
    got_cursors = sum(1 for m in msgs if m.get("t") == "cursor")
    assert code == 1013, (f"no close 1013 for a reader that never read (code {code}, "
                          f"{len(evs)}/{len(acked)} evs, {got_cursors}/{cursors} cursors read)")
    assert msgs and msgs[0]["t"] == "welcome"
    # durable ops are never silently dropped: what arrived is a gap-free prefix
    assert evs == acked[:len(evs)], "an ev was dropped before the close"
    # ephemeral messages go first: the gateway dropped some before it gave up
    # on the reader (gw-2 was restarted for this test; the slow reader is its
    # only client, so every drop counted there is this reader's)
    drops = metric_at(wb_stack.gw_url("gw-2") + "/metrics", "wb_gateway_drops_total")
    assert drops > 0, f"no ephemeral message was dropped before the 1013 close ({got_cursors}/{cursors} read)"
    # resume by since (on gw-1, default queue bound): the rest, exactly
    since = evs[-1] if evs else max(0, acked[0] - 1)
    r = await wb_connect("gw-1", wb_board, since=since)
    assert r.welcome["resumed"] is True
    await r.wait_seq(acked[-1], timeout=20)
    assert r.ev_seqs() == [s for s in acked if s > since]
    assert r.problems == []


@pytest.mark.destructive
async def test_resume_with_backlog_over_queue_bound(wb_stack, wb_connect, wb_board):
    """A client that missed more ops than its send queue holds must still be
    able to come back (replay paced, or a snapshot instead); closing it 1013
    again would make it loop forever after a 1013."""
    await asyncio.to_thread(wb_stack.restart, "gw-2", {"WB_SENDQ_MAX": "32"})
    w = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    ops = [await w.stroke() for _ in range(60)]
    seqs = [await w.wait_ack(op) for op in ops]
    await w.wait_seq(seqs[-1])  # and applied here (wbclient.wait_applied)
    r = await wb_connect("gw-2", wb_board, since=seqs[0])
    await r.wait_seq(seqs[-1], timeout=10)
    if r.welcome["resumed"]:
        assert r.ev_seqs() == seqs[1:]
    else:
        assert r.snapshot is not None
        assert r.visible_keys() == w.visible_keys()
    assert r.problems == []
    # and a plain join of a big board works on the small-queue gateway too
    j = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    await j.wait_seq(seqs[-1])
    assert j.visible_keys() == w.visible_keys()


# --------------------------------------------------------------------------
# SIGTERM


@pytest.mark.destructive
async def test_sigterm_health_503_then_close_1001_exit_0(wb_stack, wb_connect, wb_board):
    if wb_stack.attached:
        pytest.skip("attach mode: cannot signal a process")
    cs = [await wb_connect("gw-2", wb_board), await wb_connect("gw-2", wb_board + "b"),
          await wb_connect("gw-2", wb_board)]
    other = await wb_connect("gw-1", wb_board)
    url = wb_stack.gw_url("gw-2") + "/healthz"
    seen = []          # (monotonic time, status or exception name)
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                st = http_get(url, timeout=0.5).status
            except OSError as e:
                st = type(e).__name__
            seen.append((time.monotonic(), st))
            time.sleep(0.01)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    await asyncio.sleep(0.1)
    t_sig = time.monotonic()
    wb_stack.send_signal("gw-2", signal.SIGTERM)
    closes = [await c.wait_closed(30) for c in cs]
    proc = wb_stack.services["gw-2"].proc
    rc = await asyncio.to_thread(proc.wait, 20)
    stop.set()
    th.join(2)
    assert closes == [1001] * len(cs), closes
    first_503 = next((t for t, st in seen if st == 503 and t >= t_sig), None)
    assert first_503 is not None, f"/healthz never answered 503 after SIGTERM: {sorted(set(s for _, s in seen))}"
    closed_at = min(c.closed_at for c in cs)
    assert first_503 < closed_at, "clients were closed before /healthz turned 503"
    assert all(st == 200 for t, st in seen if t < t_sig)
    assert rc == 0, f"gateway exit status {rc}"
    await assert_alive(other)


# --------------------------------------------------------------------------
# isolation


async def test_bad_input_never_affects_others(wb_stack, wb_connect, wb_board):
    same = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    other_gw = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    other_board = await wb_connect("gw-1", wb_board + "o", wait_snapshot=True)
    bad = await wb_connect("gw-1", wb_board)
    for raw in BAD_JSON[:5]:
        await bad.send(raw)
    for msg in list(BAD_MESSAGES.values())[:20]:
        await bad.send(msg)
    for i in range(600):
        await bad.send({"t": "cursor", "x": i, "y": 0})
    await bad.send("x" * (LIMIT + 10))
    await bad.wait_closed(5)
    for c in (same, other_gw, other_board):
        await assert_alive(c)
        assert c.errors == [], c.errors
    last = await same.wait_applied(await same.stroke())
    await other_gw.wait_seq(last)
    await other_board.wait_ack(await other_board.stroke())
    assert [e["op"] for e in other_gw.evs] == [same.evs[-1]["op"]]
    for c in (same, other_gw, other_board):
        assert c.problems == []


# --------------------------------------------------------------------------
# keepalive: the gateway's own pings (gw_ws.c), not lws's validity timers


def _read_pings(ws: RawWS, seconds: float, pong: bool) -> tuple[int, bool]:
    """Reads ws for up to `seconds`, answering pings when pong. Returns
    (pings seen, True if the gateway hung up or closed)."""
    pings = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            op, p, _ = ws.recv_frame()
        except socket.timeout:
            continue
        except (ConnectionError, OSError):
            return pings, True
        if op == 9:
            pings += 1
            if pong:
                ws.send_frame(p, opcode=10)
        elif op == 8:
            return pings, True
    return pings, False


@pytest.mark.destructive
@pytest.mark.timeout(120)
def test_silent_client_is_pinged_then_hung_up(wb_stack, wb_board):
    """WB_PING_INTERVAL_S without a frame or pong: a ping; WB_IDLE_TIMEOUT_S
    more: hung up. A client that only answers the pings stays."""
    wb_stack.restart("gw-2", {"WB_PING_INTERVAL_S": "1", "WB_IDLE_TIMEOUT_S": "2"})
    mute = RawWS(wb_stack.ws_url("gw-2", wb_board))
    polite = RawWS(wb_stack.ws_url("gw-2", wb_board))
    try:
        out = {}
        t = threading.Thread(target=lambda: out.update(polite=_read_pings(polite, 20, True)))
        t.start()
        mute_pings, mute_gone = _read_pings(mute, 60, False)
        t.join()
        assert mute_gone, "a client that never answers pings was not hung up"
        assert mute_pings >= 1, "hung up without a ping first"
        polite_pings, polite_gone = out["polite"]
        assert not polite_gone, "a client answering pings was hung up"
        assert polite_pings >= 3, f"only {polite_pings} pings in 20 s at a 1 s interval"
        polite.send_text({"t": "ping", "ts": 7})
        msgs = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(m.get("t") == "pong" for m in msgs):
            polite.sock.settimeout(1)
            try:
                op, p, _ = polite.recv_frame()
            except socket.timeout:
                continue
            if op == 1:
                d = json.loads(p)
                msgs.extend(d if isinstance(d, list) else [d])
        assert any(m.get("t") == "pong" and m.get("ts") == 7 for m in msgs), msgs
    finally:
        mute.sock.close()
        polite.sock.close()


async def test_after_the_cursor_window_the_next_cursor_goes_out_as_it_arrives(wb_stack, wb_connect, wb_board):
    """docs/protocol.md (cursor): after a cursor window, the next cursor to arrive is
    written as it arrives, with what waits, so a position superseded meanwhile is never
    sent; a lone queued cursor still goes one window later. gw-1 runs with a 500 ms
    window, so the margins are hundreds of ms: x=1 goes at once, x=2 (50 ms later)
    waits; x=3, sent ~750 ms after x=1 (the window over, a second one not), replaces
    x=2 and goes out as it arrives. The receiver gets 1 and 3, never 2 (writing the
    queued position at the window's end would have sent 2). Then x=4, sent inside the
    next window with nothing after it, still arrives."""
    st = wb_stack
    await asyncio.to_thread(st.restart, "gw-1", {"WB_CURSOR_WINDOW_MS": "500"})
    a = await wb_connect("gw-1", wb_board, name="alice")
    r = await wb_connect("gw-1", wb_board, name="rita", wait_snapshot=True)
    await r.wait_until(lambda: a.client_id in {p["id"] for p in (r.presence or {}).get("clients", [])},
                       5, "alice in rita's presence")
    await asyncio.sleep(1.2)  # rita's last write (welcome, presence) is two windows old
    start = r.mark()
    await a.send({"t": "cursor", "x": 1, "y": 0})
    await asyncio.sleep(0.05)
    await a.send({"t": "cursor", "x": 2, "y": 0})
    await asyncio.sleep(0.7)
    await a.send({"t": "cursor", "x": 3, "y": 0})
    await r.wait_for("cursor", start=start, timeout=5, pred=lambda m: m["x"] == 3)
    await asyncio.sleep(0.1)
    await a.send({"t": "cursor", "x": 4, "y": 0})
    await r.wait_for("cursor", start=start, timeout=5, pred=lambda m: m["x"] == 4)
    xs = [m["x"] for m in r.find("cursor", start=start)]
    assert xs == [1, 3, 4], f"cursors rita got: {xs}"
