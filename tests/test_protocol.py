"""docs/protocol.md §2, §3, §5: the WebSocket and HTTP surface of the gateways.

Clients connect straight to the gateway ports (gw-1, gw-2) so that "two
gateways" really means two processes sharing only NATS.
"""
from __future__ import annotations

import asyncio
import json
import re
import time

import nats
import pytest
import websockets
from websockets.asyncio.client import connect as ws_connect

from wbclient import BoardState, WBClient, make_stroke, reduce_evs, rid, stroke_key
from wbstack import http_get

pytestmark = pytest.mark.timeout(60)


def keys(strokes):
    return [stroke_key(s) for s in strokes]


# --------------------------------------------------------------------------
# welcome


async def test_welcome_fields(wb_stack, wb_connect, wb_board):
    c1 = await wb_connect("gw-1", wb_board, name="ann")
    c2 = await wb_connect("gw-2", wb_board, name="bob")
    for c, gw in ((c1, "gw-1"), (c2, "gw-2")):
        w = c.welcome
        assert c.msgs[0]["t"] == "welcome", "welcome must be the first message"
        assert w["board"] == wb_board
        assert isinstance(w["client"], str) and w["client"]
        assert w["gateway"] == gw
        assert isinstance(w["seq"], int) and w["seq"] >= 0
        assert w["resumed"] is False
    assert c1.client_id != c2.client_id
    # the negotiated subprotocol is wb.v1
    assert c1.ws.subprotocol == "wb.v1"


async def test_no_subprotocol_is_still_served(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-1", wb_board, subprotocol=None)
    assert c.welcome["board"] == wb_board
    await c.ping()  # fails unless the pong with our ts arrives


async def test_welcome_seq_is_newest_known(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board)
    seq = None
    for _ in range(3):
        seq = await a.wait_ack(await a.stroke())
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    assert b.welcome["seq"] == seq
    assert b.snapshot["seq"] == seq


# --------------------------------------------------------------------------
# ordering across gateways


async def test_two_gateways_same_order(wb_stack, wb_connect, wb_board):
    """Clients on different gateways draw concurrently; every client sees every
    op, in the same seq order, and the acks match the evs."""
    cs = [await wb_connect(gw, wb_board, name=f"u{i}", wait_snapshot=True)
          for i, gw in enumerate(["gw-1", "gw-2", "gw-1", "gw-2"])]
    ops = {}

    async def draw(c, n):
        for _ in range(n):
            op = await c.stroke()
            ops[op] = c
            await asyncio.sleep(0.005)

    await asyncio.gather(*(draw(c, 15) for c in cs))
    seqs = {}
    for op, c in ops.items():
        seqs[op] = await c.wait_ack(op, timeout=10)
    top = max(seqs.values())
    for c in cs:
        await c.wait_seq(top, timeout=10)
    ref = [(e["seq"], e["op"]) for e in cs[0].evs]
    assert len(ref) == len(ops)
    assert sorted(s for s, _ in ref) == [s for s, _ in ref]
    assert {op: s for s, op in ref} == seqs, "ack.seq must equal the ev.seq of the same op"
    for c in cs[1:]:
        assert [(e["seq"], e["op"]) for e in c.evs] == ref, f"{c.label} saw a different order"
        assert c.visible_keys() == cs[0].visible_keys()
    for c in cs:
        assert c.problems == []
    assert len(set(seqs.values())) == len(seqs), "two ops got the same seq"


async def test_ev_fields(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    s = make_stroke(points=[10, 10, 20, 15, 30, 25.5], color="#12ab9f", width=2.5)
    op = await a.stroke(s)
    seq = await a.wait_ack(op)
    for c in (a, b):
        ev = await c.wait_for("ev", lambda m: m["op"] == op)
        assert ev["seq"] == seq
        assert ev["kind"] == "stroke"
        assert ev["from"] == a.client_id
        assert stroke_key(ev["stroke"]) == stroke_key(s)
        assert ev["stroke"]["by"] == a.client_id
    eop = await a.erase([s["id"]])
    ev = await b.wait_for("ev", lambda m: m["op"] == eop)
    assert ev["kind"] == "erase" and ev["ids"] == [s["id"]] and ev["from"] == a.client_id
    assert ev["seq"] == await a.wait_ack(eop)


async def test_by_is_set_by_server(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    s = make_stroke(by="somebody-else")
    op = await a.stroke(s)
    ev = await a.wait_for("ev", lambda m: m["op"] == op)
    assert ev["stroke"]["by"] == a.client_id
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    await b.wait_seq(ev["seq"])
    assert [x["by"] for x in b.snapshot["strokes"]] == [a.client_id]


async def test_coordinates_rounded_to_tenths(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    s = make_stroke(points=[1.04, 2.06, -3.25, 1e7, -1e7, 0.0])
    op = await a.stroke(s)
    ev = await a.wait_for("ev", lambda m: m["op"] == op)
    got = ev["stroke"]["points"]
    assert len(got) == 6
    for want, g in zip(s["points"], got):
        assert abs(want - g) <= 0.05 + 1e-9, (s["points"], got)


# --------------------------------------------------------------------------
# ack only after storage


async def test_ack_only_after_stored_in_jetstream(wb_stack, wb_connect, wb_board, wb_pb2):
    """On receipt of each ack, the op is already in stream WB_OPS at ack.seq."""
    nc = await nats.connect(wb_stack.nats_url)
    try:
        js = nc.jetstream()
        a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
        for _ in range(5):
            op = await a.stroke()
            seq = await a.wait_ack(op)
            msg = await js.get_msg("WB_OPS", seq)
            assert msg.subject == f"wb.board.{wb_board}.ev"
            o = wb_pb2.Op.FromString(msg.data)
            assert o.op_id == op and o.board == wb_board and o.client_id == a.client_id
            assert (msg.headers or {}).get("Nats-Msg-Id") == op
    finally:
        await nc.close()


async def test_ack_seq_matches_ev_seq_for_every_kind(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    s = make_stroke()
    ops = [await a.stroke(s), await a.erase([s["id"]]), await a.restore([s["id"]]), await a.clear()]
    for op in ops:
        seq = await a.wait_ack(op)
        ev = await a.wait_for("ev", lambda m, op=op: m["op"] == op)
        assert ev["seq"] == seq
    assert [e["kind"] for e in a.evs] == ["stroke", "erase", "restore", "clear"]


# --------------------------------------------------------------------------
# snapshot and board semantics


async def test_snapshot_on_join_drawing_order_restored_keeps_place(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    assert a.snapshot["strokes"] == [] and a.snapshot["seq"] == a.welcome["seq"]
    s = [make_stroke(sid=f"s{i}-" + rid(6)) for i in range(4)]
    for x in s:
        await a.stroke(x)
    await a.erase([s[1]["id"]])
    await a.erase([s[2]["id"]])
    last = await a.wait_applied(await a.restore([s[1]["id"]]))
    # s1 restored after s2 was erased: it keeps its place (before s3), s2 hidden
    want = keys([s[0], s[1], s[3]])
    for gw in ("gw-1", "gw-2"):
        b = await wb_connect(gw, wb_board, wait_snapshot=True)
        assert b.msgs[1]["t"] == "snapshot", "snapshot must follow welcome when not resuming"
        assert b.snapshot["seq"] <= last
        await b.wait_seq(last)
        snap_state = reduce_evs(a.evs, upto=b.snapshot["seq"])
        assert keys(b.snapshot["strokes"]) == keys(snap_state.visible()), \
            "snapshot is not the visible board as of its seq"
        assert b.visible_keys() == want
        assert all(x["by"] == a.client_id for x in b.snapshot["strokes"])
    assert a.visible_keys() == want


async def test_erase_restore_clear_semantics(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    s1, s2, s3 = (make_stroke(sid=f"k{i}" + rid(5)) for i in range(3))
    await a.stroke(s1)
    await a.stroke(s2)
    await a.erase([s1["id"], "no-such-stroke"])           # unknown ids are ignored
    await a.clear()                                       # hides s1 (already) and s2
    await a.stroke(s3)                                    # after the clear: visible
    await a.restore([s1["id"]])                           # back, in its old place
    dup = dict(s2, points=[1, 1, 2, 2])                   # same id again: nothing
    last = await a.wait_ack(await a.stroke(dup))
    for c in (a, b):
        await c.wait_seq(last)
        assert [x["id"] for x in c.visible()] == [s1["id"], s3["id"]]
    c = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    await c.wait_seq(last)
    assert keys(c.visible()) == keys([s1, s3])
    # restoring s2 now shows the ORIGINAL s2 (the duplicate id was ignored), in place
    last = await a.wait_ack(await a.restore([s2["id"]]))
    d = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    await d.wait_seq(last)
    assert keys(d.visible()) == keys([s1, s2, s3])


async def test_api_board_equals_ws_snapshot(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    ss = [make_stroke() for _ in range(5)]
    for x in ss:
        await a.stroke(x)
    await a.erase([ss[2]["id"]])
    await a.wait_ack(await a.restore([ss[2]["id"]]))
    last = await a.wait_applied(await a.erase([ss[3]["id"]]))
    for gw in ("gw-1", "gw-2"):
        # the REST snapshot may lag the stream a little (worker): wait for it
        body = None
        for _ in range(50):
            r = await asyncio.to_thread(http_get, wb_stack.gw_url(gw) + f"/api/boards/{wb_board}")
            assert r.status == 200, r.text
            assert r.headers.get("content-type", "").startswith("application/json")
            body = json.loads(r.body)
            assert body["board"] == wb_board
            assert keys(body["strokes"]) == keys(reduce_evs(a.evs, upto=body["seq"]).visible())
            if body["seq"] == last:
                break
            await asyncio.sleep(0.1)
        assert body["seq"] == last, "REST snapshot never caught up with the stream"
        b = await wb_connect(gw, wb_board, wait_snapshot=True)
        assert b.snapshot["seq"] == last
        assert body["strokes"] == b.snapshot["strokes"]
        assert keys(body["strokes"]) == keys([ss[0], ss[1], ss[2], ss[4]])


async def test_api_unknown_board_is_empty(wb_stack, wb_board):
    r = await asyncio.to_thread(http_get, wb_stack.gw_url("gw-2") + f"/api/boards/{wb_board}")
    assert r.status == 200, r.text
    body = json.loads(r.body)
    assert body["board"] == wb_board and body["strokes"] == [] and isinstance(body["seq"], int)


# --------------------------------------------------------------------------
# duplicate op ids


async def test_duplicate_op_applied_once(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    s = make_stroke()
    sop = rid(12, "o")
    first = await a.wait_ack(await a.stroke(s, op=sop))
    eop = rid(12, "o")
    await a.wait_ack(await a.erase([s["id"]], op=eop))
    rop = await a.wait_ack(await a.restore([s["id"]]))
    # the same erase again (same op id), on the same and on the other gateway:
    # if it were applied twice, the stroke would be hidden again
    await a.send({"t": "erase", "op": eop, "ids": [s["id"]]})
    await b.send({"t": "erase", "op": eop, "ids": [s["id"]]})
    await a.send({"t": "stroke", "op": sop, "stroke": s})
    last = await a.wait_ack(await a.stroke())
    await b.wait_seq(last)
    await asyncio.sleep(0.3)
    for c in (a, b):
        assert [e["op"] for e in c.evs].count(eop) == 1, "a duplicate op reached clients twice"
        assert [e["op"] for e in c.evs].count(sop) == 1
        assert s["id"] in c.state.visible_ids()
        assert c.problems == []
    assert rop > first
    n = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    await n.wait_seq(last)
    assert s["id"] in n.state.visible_ids()


async def test_duplicate_op_is_acked_with_original_seq(wb_stack, wb_connect, wb_board):
    """A client re-sends unacked ops after a reconnect; if the server never acked
    the duplicate, the client would keep it forever."""
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    s = make_stroke()
    op = rid(12, "o")
    seq = await a.wait_ack(await a.stroke(s, op=op))
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    start = b.mark()
    await b.send({"t": "stroke", "op": op, "stroke": s})
    ack = await b.wait_for("ack", lambda m: m["op"] == op, timeout=5, start=start)
    assert ack["seq"] == seq


async def test_same_op_id_on_two_boards_is_two_ops(wb_stack, wb_connect):
    """Op ids are unique per client, not across the world: a client on another
    board that happens to pick the same op id (a counter, a short id) must not
    have its op swallowed as a duplicate of the first board's op."""
    bx, by = rid(12, "X"), rid(12, "Y")
    x = await wb_connect("gw-1", bx, wait_snapshot=True)
    y = await wb_connect("gw-2", by, wait_snapshot=True)
    op = rid(6, "op-")   # the same short id on both boards
    sx = await x.wait_ack(await x.stroke(op=op))
    sy = await y.wait_ack(await y.stroke(op=op))
    assert sy != sx, f"board {by} got the ack of board {bx}'s op (seq {sx}); its own op was dropped"
    await y.wait_seq(sy, timeout=3)
    assert [e["op"] for e in y.evs] == [op] and len(y.visible()) == 1


# --------------------------------------------------------------------------
# ephemeral messages


async def test_draft_and_cursor_relayed_not_echoed(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, name="alice")
    same = await wb_connect("gw-1", wb_board, name="sam")
    other = await wb_connect("gw-2", wb_board, name="olga")
    elsewhere = await wb_connect("gw-2", wb_board + "x", name="eve")
    await asyncio.sleep(0.3)  # let the board subscriptions settle
    start = {c: c.mark() for c in (a, same, other, elsewhere)}
    d = {"t": "draft", "stroke": {"id": "d" + rid(8), "color": "#ff0000", "width": 3, "points": [1, 2, 3, 4]}}
    await a.send(d)
    await a.send({"t": "cursor", "x": 12.345, "y": -3})
    for c in (same, other):
        m = await c.wait_for("draft", start=start[c], timeout=3)
        assert m["from"] == a.client_id and m["name"] == "alice"
        assert m["stroke"]["id"] == d["stroke"]["id"]
        assert [round(v, 1) for v in m["stroke"]["points"]] == [1, 2, 3, 4]
        m = await c.wait_for("cursor", start=start[c], timeout=3)
        assert m["from"] == a.client_id and m["name"] == "alice"
        assert (m["x"], m["y"]) == (12.345, -3)  # relayed as sent, not rounded
    await a.ping()
    await asyncio.sleep(0.3)
    assert a.find("draft", start=start[a]) == [] and a.find("cursor", start=start[a]) == [], \
        "ephemeral message echoed to its sender"
    assert elsewhere.find("draft", start=start[elsewhere]) == []
    assert elsewhere.find("cursor", start=start[elsewhere]) == []



async def test_cursor_stream_reaches_each_client_as_its_newest_position_per_window(
        wb_stack, wb_connect, wb_board):
    """A sender's cursors arriving faster than the cursor window (50 ms) reach a
    client at most once per window, as the newest position: in the order sent,
    ending with the last one; a draft sent meanwhile is not held back by the
    window."""
    a = await wb_connect("gw-1", wb_board, name="alice")
    same = await wb_connect("gw-1", wb_board, name="sam")
    other = await wb_connect("gw-2", wb_board, name="olga")
    await asyncio.sleep(0.3)  # let the board subscriptions settle
    start = {c: c.mark() for c in (same, other)}
    n = 60
    t0 = time.monotonic()
    for i in range(n):
        await a.send({"t": "cursor", "x": i, "y": 0})
        await asyncio.sleep(0.004)
    span = time.monotonic() - t0
    for c in (same, other):
        await c.wait_for("cursor", start=start[c], timeout=5, pred=lambda m: m["x"] == n - 1)
        xs = [m["x"] for m in c.find("cursor", start=start[c])]
        assert all(m["from"] == a.client_id for m in c.find("cursor", start=start[c]))
        assert xs == sorted(set(xs)) and xs[-1] == n - 1, f"cursors out of order or repeated: {xs}"
        # at most one write per 50 ms window, plus the first and the last
        assert len(xs) <= span / 0.05 + 3, f"{len(xs)} of {n} cursors in {span:.3f} s: {xs}"
    # a draft is never held back by the window: it goes out with (and ends the
    # wait of) any cursor queued before it, in the order sent
    mark = same.mark()
    await a.send({"t": "cursor", "x": 1000, "y": 0})
    await a.send({"t": "cursor", "x": 1001, "y": 0})
    d = {"t": "draft", "stroke": {"id": "d" + rid(8), "color": "#000000", "width": 2, "points": [0, 0, 1, 1]}}
    await a.send(d)
    got = await same.wait_for("draft", start=mark, timeout=3)
    assert got["stroke"]["id"] == d["stroke"]["id"]
    seen = [m for m in same.msgs[mark:] if m.get("t") in ("cursor", "draft")]
    assert [m["t"] for m in seen][-1] == "draft" and seen[-2].get("x") == 1001, seen


async def test_presence_converges_across_gateways(wb_stack, wb_connect, wb_board):
    def ids(c):
        return sorted(x["id"] for x in (c.presence or {}).get("clients", []))

    a = await wb_connect("gw-1", wb_board, name="ann")
    b = await wb_connect("gw-2", wb_board, name="ben")
    want = sorted([a.client_id, b.client_id])
    for c in (a, b):
        await c.wait_until(lambda c=c: ids(c) == want, timeout=5, what=f"presence {want}")
    entry = {x["id"]: x for x in b.presence["clients"]}[a.client_id]
    assert entry["name"] == "ann"
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", entry["color"])
    c = await wb_connect("gw-2", wb_board, name="cy")
    want3 = sorted(want + [c.client_id])
    for x in (a, b, c):
        await x.wait_until(lambda x=x: ids(x) == want3, timeout=5, what="presence of 3")
    await b.close()
    for x in (a, c):
        await x.wait_until(lambda x=x: ids(x) == sorted([a.client_id, c.client_id]), timeout=5,
                           what="presence after leave")
    await a.abort()  # a vanishes without a close handshake
    await c.wait_until(lambda: ids(c) == [c.client_id], timeout=5, what="presence after abort")


# --------------------------------------------------------------------------
# misc messages


async def test_ping_pong(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-2", wb_board)
    for ts in (0, 1, 1732712345678, 12.5):
        start = c.mark()
        await c.send({"t": "ping", "ts": ts})
        m = await c.wait_for("pong", start=start)
        assert m["ts"] == ts


async def test_unknown_type_error_and_stays_open(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-1", wb_board)
    start = c.mark()
    await c.send({"t": "teleport", "x": 1})
    e = await c.wait_error(start)
    assert e["code"] in ("bad_message",), e
    assert isinstance(e.get("msg"), str)
    await c.ping()  # fails unless the pong with our ts arrives
    await c.wait_ack(await c.stroke())
    assert not c.closed.is_set()


async def test_unknown_fields_ignored(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    s = dict(make_stroke(), extra={"a": 1})
    op = await c.send_op({"t": "stroke", "stroke": s, "future": [1, 2, 3]})
    await c.wait_ack(op)


async def test_client_may_batch_array(wb_stack, wb_connect, wb_board):
    c = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    m1 = {"t": "stroke", "op": rid(10, "o"), "stroke": make_stroke()}
    m2 = {"t": "stroke", "op": rid(10, "o"), "stroke": make_stroke()}
    await c.send([m1, m2, {"t": "ping", "ts": 7}])
    s1 = await c.wait_ack(m1["op"])
    s2 = await c.wait_ack(m2["op"])
    assert s1 < s2
    await c.wait_for("pong", lambda m: m["ts"] == 7)


# --------------------------------------------------------------------------
# HTTP surface

BAD_IDS = ["a.b", "a*", ">", "a%20b", "%C3%A9t%C3%A9", "x" * 65, "a%2Eb", "wb.board.x", "a%3Eb"]


@pytest.mark.parametrize("gw", ["gw-1", "gw-2"])
def test_invalid_board_id_api_400(wb_stack, gw):
    for bad in BAD_IDS:
        r = http_get(wb_stack.gw_url(gw) + f"/api/boards/{bad}")
        assert r.status == 400, (bad, r.status, r.text)
    assert http_get(wb_stack.gw_url(gw) + "/healthz").status == 200


@pytest.mark.parametrize("gw", ["gw-1", "gw-2"])
async def test_invalid_board_id_ws_400(wb_stack, gw):
    for bad in BAD_IDS:
        url = f"ws://127.0.0.1:{wb_stack.ports[gw]}/ws/{bad}" if not wb_stack.attached else \
            wb_stack.ws_url(gw, "x").rsplit("/", 1)[0] + "/" + bad
        with pytest.raises(websockets.InvalidStatus) as ei:
            async with ws_connect(url, subprotocols=["wb.v1"], proxy=None, open_timeout=5):
                pass
        assert ei.value.response.status_code == 400, bad
    r = await asyncio.to_thread(http_get, wb_stack.gw_url(gw) + "/healthz")
    assert r.status == 200, "gateway unhealthy after bad board ids"


async def test_max_length_board_id_ok(wb_stack, wb_connect):
    board = "A-_z09" * 10 + "abcd"
    assert len(board) == 64
    c = await wb_connect("gw-1", board, wait_snapshot=True)
    assert c.welcome["board"] == board


@pytest.mark.parametrize("gw", ["gw-1", "gw-2"])
def test_healthz(wb_stack, gw):
    r = http_get(wb_stack.gw_url(gw) + "/healthz")
    assert r.status == 200
    assert r.text.strip() == "ok"


@pytest.mark.parametrize("gw", ["gw-1", "gw-2"])
def test_static_app_and_spa_fallback(wb_stack, gw):
    """GET / and /b/{board}: the React app; /assets/*: long cache headers."""
    from wbstack import ROOT
    dist = ROOT / "client" / "dist"
    assert (dist / "index.html").exists(), "client/dist is not built (make deps / npm run build)"
    index = (dist / "index.html").read_bytes()
    base = wb_stack.gw_url(gw)
    for path in ("/", "/b/SomeBoard_-1", "/b/another"):
        r = http_get(base + path)
        assert r.status == 200, path
        assert r.headers.get("content-type", "").startswith("text/html"), path
        assert r.body == index, path
    assets = sorted(p.name for p in (dist / "assets").iterdir())
    assert assets
    for name in assets:
        r = http_get(base + "/assets/" + name)
        assert r.status == 200, name
        assert r.body == (dist / "assets" / name).read_bytes()
        cc = r.headers.get("cache-control", "")
        m = re.search(r"max-age=(\d+)", cc)
        assert m and int(m.group(1)) >= 86400 * 30, f"{name}: cache-control {cc!r}"
    assert http_get(base + "/assets/no-such-file.js").status == 404
    r = http_get(base + "/assets/../../../../etc/passwd")
    assert b"root:" not in r.body


METRIC_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*,?\})? '
    r'(-?[0-9.eE+-]+|NaN|[+-]Inf)( -?[0-9]+)?$')


@pytest.mark.parametrize("gw", ["gw-1", "gw-2"])
def test_metrics_prometheus_text(wb_stack, gw):
    r = http_get(wb_stack.gw_url(gw) + "/metrics")
    assert r.status == 200
    ct = r.headers.get("content-type", "")
    assert ct.startswith("text/plain"), ct
    samples = 0
    typed = set()
    for line in r.text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 2 and parts[1] == "TYPE":
                assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
                typed.add(parts[2])
            continue
        assert METRIC_LINE.match(line), f"not Prometheus text: {line!r}"
        samples += 1
    assert samples > 0 and typed


# --------------------------------------------------------------------------
# the same surface through Traefik (https / wss)


async def test_through_traefik(wb_traefik, wb_connect, wb_board):
    r = await asyncio.to_thread(http_get, wb_traefik.base_url + "/healthz")
    assert r.status == 200 and r.text.strip() == "ok"
    a = await wb_connect("traefik", wb_board, name="t1", wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, name="direct", wait_snapshot=True)
    assert a.welcome["gateway"] in ("gw-1", "gw-2")
    seq = await a.wait_ack(await a.stroke())
    await b.wait_seq(seq)
    r = await asyncio.to_thread(http_get, wb_traefik.base_url + f"/api/boards/{wb_board}")
    assert r.status == 200
    assert json.loads(r.body)["board"] == wb_board
    r = await asyncio.to_thread(http_get, wb_traefik.base_url + "/api/boards/a.b")
    assert r.status == 400
    seen = set()
    for _ in range(6):
        c = await wb_connect("traefik", wb_board)
        seen.add(c.welcome["gateway"])
        await c.close()
    assert seen == {"gw-1", "gw-2"}, f"Traefik does not balance WebSockets: {seen}"
