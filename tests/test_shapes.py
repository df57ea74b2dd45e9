"""Issue #16 at the protocol level (docs/protocol.md §3 "Shapes and texts",
"Updates", §4, §5, §9): shapes, texts and updates through the real stack
(two gateways, NATS JetStream, the worker, PostgreSQL).

- the new ops are acked and delivered as `ev` with rounded values, `by` set by
  the gateway, in the same seq order on both gateways;
- concurrent updates of one element converge on every client, in a new
  client's snapshot, in GET /api/boards on both gateways, and in PostgreSQL
  (wb_board_elements, a direct SQL query);
- resume (`since`) replays them; a re-sent op is applied once;
- drafts of shapes, texts and updates are relayed, never echoed;
- bad input is `bad_message` (nothing stored, the connection and other
  clients unharmed); a viewer's ops and drafts are `forbidden`;
- `?at=SEQ` applies exactly the updates up to SEQ.
"""
from __future__ import annotations

import asyncio
import json
import random

import nats
import psycopg
import pytest

import wbelem
from wbclient import rid
from wbstack import http_get

pytestmark = pytest.mark.timeout(90)


def shape(kind="rect", box=(0, 0, 100, 50), color="#1e1e1e", width=2, fill=None, sid=None) -> dict:
    s = {"type": "shape", "id": sid or rid(10, "r"), "kind": kind, "x1": box[0], "y1": box[1],
         "x2": box[2], "y2": box[3], "color": color, "width": width}
    if fill:
        s["fill"] = fill
    return s


def text(body="hello", x=10, y=20, size=24, color="#1971c2", tid=None) -> dict:
    return {"type": "text", "id": tid or rid(10, "t"), "x": x, "y": y, "size": size, "color": color,
            "text": body}


async def add_shape(c, s: dict, op=None) -> str:
    m = {"t": "shape", "shape": s}
    if op:
        m["op"] = op
    return await c.send_op(m)


async def add_text(c, t: dict, op=None) -> str:
    m = {"t": "text", "text": t}
    if op:
        m["op"] = op
    return await c.send_op(m)


async def update(c, eid: str, set_: dict, op=None) -> str:
    m = {"t": "update", "id": eid, "set": set_}
    if op:
        m["op"] = op
    return await c.send_op(m)


def api(stack, gw, board, at=None):
    url = stack.gw_url(gw) + f"/api/boards/{board}" + (f"?at={at}" if at is not None else "")
    r = http_get(url, timeout=10)
    assert r.status == 200, r.text
    return json.loads(r.body)


async def api_at_seq(stack, gw, board, seq, timeout=20.0) -> dict:
    """GET /api/boards/{board} once it answers as of seq (the worker may lag a little)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    body = None
    while loop.time() < end:
        body = await asyncio.to_thread(api, stack, gw, board)
        if body["seq"] >= seq:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"/api/boards/{board} on {gw} never reached seq {seq}: {body}")


async def db_elements_when(stack, board, want, timeout=30.0) -> list:
    """PostgreSQL's visible elements of the board once they equal want (the
    worker commits after the stream); the last read otherwise."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    got = None
    while loop.time() < end:
        with psycopg.connect(stack.pg_url, connect_timeout=3) as db:
            got = wbelem.db_elements(db, board)
        if got == want:
            return got
        await asyncio.sleep(0.2)
    return got


async def worker_floor(stack, seq, timeout=30.0) -> None:
    """Until the worker's consumer has acked every op up to seq: a snapshot
    from then on comes from PostgreSQL (SnapshotChunk records), not from a
    stream replay."""
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        info = None
        while loop.time() < end:
            info = await js.consumer_info("WB_OPS", "wb-worker")
            if info.ack_floor.stream_seq >= seq:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker ack floor never reached {seq}: {info}")
    finally:
        await nc.close()


# --------------------------------------------------------------------------
# the new ops on the wire


async def test_shape_text_update_ev_fields(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    s = shape("arrow", (0.04, -10.06, 99.95, 50), color="#1E1E1E", width=2.5, fill="#FFEC99")
    s["by"] = "somebody-else"
    t = text("Hello\nwörld ✓", x=1.26, y=-3)
    sop, top = await add_shape(a, s), await add_text(a, t)
    uop = await update(a, s["id"], {"x1": 5.01, "y1": 5, "x2": 6, "y2": 7.77, "fill": None, "width": 3})
    seqs = [await a.wait_ack(op) for op in (sop, top, uop)]
    assert seqs == sorted(seqs)
    for c in (a, b):
        await c.wait_seq(seqs[-1])
        evs = {e["op"]: e for e in c.evs}
        es, et, eu = evs[sop], evs[top], evs[uop]
        assert [e["seq"] for e in (es, et, eu)] == seqs
        assert es["kind"] == "shape" and es["from"] == a.client_id
        assert es["shape"] == {"type": "shape", "id": s["id"], "kind": "arrow", "x1": 0, "y1": -10.1,
                               "x2": 100, "y2": 50, "color": "#1e1e1e", "width": 2.5,
                               "fill": "#ffec99", "by": a.client_id}
        assert et["kind"] == "text"
        assert et["text"] == {"type": "text", "id": t["id"], "x": 1.3, "y": -3, "size": 24,
                              "color": "#1971c2", "text": "Hello\nwörld ✓", "by": a.client_id}
        assert eu["kind"] == "update" and eu["id"] == s["id"]
        # the SET echoed rounded, keys in the order of docs/protocol.md §3
        assert list(eu["set"].items()) == [("x1", 5), ("y1", 5), ("x2", 6), ("y2", 7.8), ("width", 3),
                                           ("fill", None)]
        vis = c.visible()
        assert [v["id"] for v in vis] == [s["id"], t["id"]]
        assert vis[0]["x1"] == 5 and vis[0]["width"] == 3 and "fill" not in vis[0]


async def test_two_gateways_same_order_and_state(wb_stack, wb_connect, wb_board):
    """Clients on both gateways add shapes, texts and strokes and update each
    other's elements concurrently: one seq order everywhere, one board."""
    cs = [await wb_connect(gw, wb_board, name=f"u{i}", wait_snapshot=True)
          for i, gw in enumerate(["gw-1", "gw-2", "gw-1", "gw-2"])]
    ids = [f"e{i}" for i in range(8)]
    seed = await cs[0].wait_ack(await add_shape(cs[0], shape(sid=ids[0])))
    for c in cs:
        await c.wait_seq(seed)
    ops = []

    async def work(c, k):
        rnd = random.Random(k)
        for n in range(12):
            r = rnd.random()
            if r < 0.25:
                op = await add_shape(c, shape(rnd.choice(["rect", "ellipse", "line", "arrow"]),
                                              sid=rnd.choice(ids)))
            elif r < 0.4:
                op = await add_text(c, text(f"t{k}-{n}", tid=rnd.choice(ids)))
            elif r < 0.5:
                op = await c.stroke()
            else:
                op = await update(c, rnd.choice(ids), rnd.choice([
                    {"x1": n, "y1": k, "x2": n + 10, "y2": k + 10},
                    {"color": f"#0000{n:02x}"}, {"x": k, "y": n}, {"text": f"u{k}-{n}"},
                    {"fill": None}, {"fill": "#ffec99", "width": k + 1}]))
            ops.append((c, op))
            await asyncio.sleep(0.003)

    await asyncio.gather(*(work(c, k) for k, c in enumerate(cs)))
    top = max([await c.wait_ack(op, timeout=10) for c, op in ops])
    for c in cs:
        await c.wait_seq(top, timeout=10)
    ref = [(e["seq"], e["op"]) for e in cs[0].evs]
    assert [s for s, _ in ref] == sorted(s for s, _ in ref)
    for c in cs[1:]:
        assert [(e["seq"], e["op"]) for e in c.evs] == ref, f"{c.label} saw a different order"
        assert c.visible() == cs[0].visible()
    late = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    await late.wait_seq(top)
    assert late.visible() == cs[0].visible()


async def test_concurrent_updates_converge_everywhere(wb_stack, wb_connect, wb_board):
    """Many clients on both gateways update the same shape and text at once:
    every client, a new client's snapshot, GET /api/boards on both gateways
    and PostgreSQL end with the same values, the last update per field group."""
    cs = [await wb_connect(gw, wb_board, name=f"w{i}", wait_snapshot=True)
          for i, gw in enumerate(["gw-1", "gw-2"] * 3)]
    r, t = shape(fill="#a5d8ff"), text()
    base = max([await cs[0].wait_ack(await add_shape(cs[0], r)),
                await cs[1].wait_ack(await add_text(cs[1], t))])
    for c in cs:
        await c.wait_seq(base)

    async def storm(c, k):
        for n in range(10):
            await update(c, r["id"], {"x1": k, "y1": n, "x2": 100 + k, "y2": 50 + n})
            await update(c, r["id"], {"color": f"#{k:02x}00{n:02x}", "fill": None if n % 2 else "#ffec99"})
            await update(c, t["id"], {"text": f"{k}:{n}", "size": 10 + k + n / 10})
            await update(c, t["id"], {"x": k * 10, "y": n})

    await asyncio.gather(*(storm(c, k) for k, c in enumerate(cs)))
    for c in cs:
        for op in list(c.unacked):
            await c.wait_ack(op, timeout=15)
    # the highest seq of ALL the ops (one acked early may be the last stored)
    top = max(max(c.acks.values()) for c in cs)
    for c in cs:
        await c.wait_seq(top, timeout=15)
    want = cs[0].visible()
    assert [e["id"] for e in want] == [r["id"], t["id"]]
    for c in cs[1:]:
        assert c.visible() == want, c.label
    # the winner per group is the update with the largest seq
    last = {}
    for e in cs[0].evs:
        if e["kind"] == "update":
            for g, keys in (("box", ("x1",)), ("color", ("color",)), ("fill", ("fill",)),
                            ("text", ("text",)), ("pos", ("x",))):
                if keys[0] in e["set"]:
                    last[(e["id"], g)] = e["set"]
    assert want[0]["x1"] == last[(r["id"], "box")]["x1"]
    assert want[0]["color"] == last[(r["id"], "color")]["color"]
    assert want[0].get("fill") == last[(r["id"], "fill")]["fill"]
    assert want[1]["text"] == last[(t["id"], "text")]["text"]
    assert want[1]["x"] == last[(t["id"], "pos")]["x"]
    late = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    await late.wait_seq(top)
    assert late.visible() == want
    await worker_floor(wb_stack, top)
    late = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    assert late.snapshot["strokes"] == want, "the worker's snapshot records differ"
    for gw in ("gw-1", "gw-2"):
        body = await api_at_seq(wb_stack, gw, wb_board, top)
        assert body["strokes"] == want, gw
    got = await db_elements_when(wb_stack, wb_board, want)
    assert got == want, "PostgreSQL (wb_board_elements) differs from the clients"


# --------------------------------------------------------------------------
# resume, duplicates, snapshots, history


async def test_resume_replays_elements(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    r = shape("ellipse")
    await a.wait_ack(await add_shape(a, r))
    await b.wait_seq(a.seq)
    await b.abort()
    t = text("while away")
    await a.wait_ack(await add_text(a, t))
    await a.wait_ack(await update(a, r["id"], {"color": "#e03131"}))
    last = await a.wait_ack(await update(a, t["id"], {"text": "changed", "x": 0, "y": 0}))
    # b reconnects to the other gateway with since = what it applied, and its
    # own update sent while offline is re-sent with the same op id
    b.unacked["bup"] = {"t": "update", "op": "bup" + rid(8), "id": r["id"], "set": {"width": 9}}
    b.unacked = {m["op"]: m for m in b.unacked.values()}
    await b.reconnect(wb_stack.ws_url("gw-1", wb_board))
    assert b.welcomes[-1]["resumed"] is True
    await b.wait_until(lambda: not b.unacked, 10, "b's re-sent update acked")
    top = max(last, max(b.acks.values()))
    await a.wait_seq(top)
    await b.wait_seq(top)
    assert b.visible() == a.visible()
    assert b.visible()[0]["color"] == "#e03131" and b.visible()[0]["width"] == 9
    assert b.visible()[1]["text"] == "changed"


async def test_resent_ops_applied_once(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    r = shape()
    sop, uop1, uop2 = rid(12, "o"), rid(12, "o"), rid(12, "o")
    s1 = await a.wait_ack(await add_shape(a, r, op=sop))
    u1 = await a.wait_ack(await update(a, r["id"], {"color": "#e03131"}, op=uop1))
    await a.wait_ack(await update(a, r["id"], {"color": "#2f9e44"}, op=uop2))
    # the first update again (same op id) on both gateways: applied twice it
    # would win over the second one
    start = b.mark()
    await b.send({"t": "update", "op": uop1, "id": r["id"], "set": {"color": "#e03131"}})
    await a.send({"t": "update", "op": uop1, "id": r["id"], "set": {"color": "#e03131"}})
    await b.send({"t": "shape", "op": sop, "shape": r})
    ack = await b.wait_for("ack", lambda m: m["op"] == uop1, start=start)
    assert ack["seq"] == u1
    ack = await b.wait_for("ack", lambda m: m["op"] == sop, start=start)
    assert ack["seq"] == s1
    last = await a.wait_ack(await a.stroke())
    for c in (a, b):
        await c.wait_seq(last)
        assert [e["op"] for e in c.evs].count(uop1) == 1
        assert [e["op"] for e in c.evs].count(sop) == 1
        assert c.visible()[0]["color"] == "#2f9e44"


async def test_snapshot_shows_current_values(wb_stack, wb_connect, wb_board):
    """A stroke moved by an update, a restyled shape and an erased text: the
    snapshot (worker + replay merge) lists the current values in drawing order."""
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    st = {"id": rid(10, "s"), "color": "#1e1e1e", "width": 4, "points": [0, 0, 10, 10]}
    r, t, t2 = shape(), text(), text("stays")
    await a.stroke(st)
    await add_shape(a, r)
    await add_text(a, t)
    await add_text(a, t2)
    await update(a, st["id"], {"points": [100, 100, 110, 110.04], "color": "#e03131"})
    await update(a, r["id"], {"fill": "#ffec99", "width": 8})
    await a.erase([t["id"]])
    top = 0
    for op in list(a.unacked):
        top = max(top, await a.wait_ack(op))
    await a.wait_seq(top)
    want = a.visible()
    assert [e["id"] for e in want] == [st["id"], r["id"], t2["id"]]
    assert want[0]["points"] == [100, 100, 110, 110]
    body = await api_at_seq(wb_stack, "gw-2", wb_board, top)
    assert body["strokes"] == want
    got = await db_elements_when(wb_stack, wb_board, want)
    assert got == want
    # the worker has committed and acked everything: a joiner's snapshot
    # comes from its records (element bases + update records), no replay
    await worker_floor(wb_stack, top)
    j = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    assert j.snapshot["seq"] >= top and j.snapshot["strokes"] == want


async def test_history_applies_updates_up_to_at(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    r = shape(box=(0, 0, 10, 10))
    s0 = await a.wait_ack(await add_shape(a, r))
    s1 = await a.wait_ack(await update(a, r["id"], {"x1": 1, "y1": 1, "x2": 11, "y2": 11}))
    s2 = await a.wait_ack(await update(a, r["id"], {"x1": 2, "y1": 2, "x2": 12, "y2": 12, "color": "#e03131"}))
    s3 = await a.wait_ack(await a.erase([r["id"]]))
    await db_elements_when(wb_stack, wb_board, [])   # the worker has them all
    for at, x1, color in ((s0, 0, "#1e1e1e"), (s1, 1, "#1e1e1e"), (s2, 2, "#e03131")):
        body = await asyncio.to_thread(api, wb_stack, "gw-2", wb_board, at)
        assert body["seq"] == at
        assert len(body["strokes"]) == 1, body
        assert body["strokes"][0]["x1"] == x1 and body["strokes"][0]["color"] == color, (at, body)
    body = await asyncio.to_thread(api, wb_stack, "gw-1", wb_board, s3)
    assert body["strokes"] == []


# --------------------------------------------------------------------------
# drafts


async def test_drafts_relayed_not_echoed(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, name="alice")
    same = await wb_connect("gw-1", wb_board, name="sam")
    other = await wb_connect("gw-2", wb_board, name="olga")
    r, t = shape("line"), text("")   # a text draft may be empty (typing just began)
    drafts = [{"t": "draft", "shape": r}, {"t": "draft", "text": t},
              {"t": "draft", "update": {"id": r["id"], "set": {"x1": 1.04, "y1": 2, "x2": 3, "y2": 4}}}]
    for d in drafts:
        await a.send(d)
    for c in (same, other):
        got = await c.wait_until(lambda c=c: len(c.find("draft")) >= 3 and c.find("draft"), 10,
                                 "three drafts")
        ds = got[:3]
        assert all(d["from"] == a.client_id and d["name"] == "alice" for d in ds)
        assert ds[0]["shape"]["kind"] == "line" and ds[0]["shape"]["by"] == a.client_id
        assert ds[1]["text"]["text"] == ""
        assert ds[2]["update"] == {"id": r["id"], "set": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}}
    await a.ping()
    assert a.find("draft") == [], "a draft came back to its sender"
    assert a.errors == []


# --------------------------------------------------------------------------
# bad input and viewers


BAD = [
    ("bad kind", {"t": "shape", "shape": shape("triangle")}),
    ("no kind", {"t": "shape", "shape": {k: v for k, v in shape().items() if k != "kind"}}),
    ("wrong type", {"t": "shape", "shape": dict(shape(), type="text")}),
    ("width 0", {"t": "shape", "shape": shape(width=0)}),
    ("width 201", {"t": "shape", "shape": shape(width=201)}),
    ("bad fill", {"t": "shape", "shape": shape(fill="yellow")}),
    ("coordinate too big", {"t": "shape", "shape": shape(box=(0, 0, 1e8, 1))}),
    ("text too long", {"t": "text", "text": text("x" * 4097)}),
    ("text too long (UTF-8 bytes)", {"t": "text", "text": text("é" * 2049)}),
    ("empty text", {"t": "text", "text": text("")}),
    ("size 0", {"t": "text", "text": text(size=0)}),
    ("size 1001", {"t": "text", "text": text(size=1001)}),
    ("partial box", {"t": "update", "id": "x", "set": {"x1": 1, "y1": 2}}),
    ("partial pos", {"t": "update", "id": "x", "set": {"x": 1}}),
    ("unknown set key", {"t": "update", "id": "x", "set": {"colour": "#000000"}}),
    ("empty set", {"t": "update", "id": "x", "set": {}}),
    ("set not an object", {"t": "update", "id": "x", "set": [1]}),
    ("bad update id", {"t": "update", "id": "a.b", "set": {"color": "#000000"}}),
    ("bad update colour", {"t": "update", "id": "x", "set": {"color": "red"}}),
    ("odd points", {"t": "update", "id": "x", "set": {"points": [1, 2, 3]}}),
    ("empty update text", {"t": "update", "id": "x", "set": {"text": ""}}),
    ("fill not colour", {"t": "update", "id": "x", "set": {"fill": 5}}),
]


async def test_bad_input_is_bad_message_and_nothing_lost(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    other = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    good = shape()
    await a.wait_ack(await add_shape(a, good))
    for what, msg in BAD:
        op = rid(12, "o")
        start = a.mark()
        await a.send(dict(msg, op=op))
        err = await a.wait_error(start)
        assert err["code"] == "bad_message", (what, err)
        assert err.get("op") == op, (what, err)
    # a NUL (\u0000) anywhere in a frame: the JSON parser refuses the frame
    start = a.mark()
    await a.send({"t": "text", "op": rid(12, "o"), "text": text("a\u0000b")})
    assert (await a.wait_error(start))["code"] == "bad_json"
    # NaN and Infinity are not JSON: sent as raw text
    for raw in ('{"t":"shape","op":"nan1","shape":{"type":"shape","id":"n1","kind":"rect","x1":NaN,'
                '"y1":0,"x2":1,"y2":1,"color":"#000000","width":1}}',
                '{"t":"update","op":"nan2","id":"n1","set":{"x":Infinity,"y":0}}',
                '{"t":"text","op":"nan3","text":{"type":"text","id":"n2","x":0,"y":0,"size":NaN,'
                '"color":"#000000","text":"a"}}'):
        start = a.mark()
        await a.send(raw)
        err = await a.wait_error(start)
        assert err["code"] == "bad_message", (raw, err)
    # the boundary: exactly 4096 bytes (2048 two-byte characters) is accepted
    big = text("é" * 2048)
    last = await a.wait_ack(await add_text(a, big))
    for c in (a, other):
        await c.wait_seq(last)
        assert [e["id"] for e in c.visible()] == [good["id"], big["id"]]
        assert c.visible()[1]["text"] == big["text"]
    assert len([e for e in a.evs]) == 2, "a refused message was stored"
    assert other.errors == []
    # every refused op is absent from the log for good
    with psycopg.connect(wb_stack.pg_url, connect_timeout=3) as db:
        await db_elements_when(wb_stack, wb_board, a.visible())
        n = db.execute("SELECT count(*) FROM ops WHERE board = %s", (wb_board,)).fetchone()[0]
    assert n == 2


async def test_viewer_forbidden(wb_stack, wb_connect, wb_board):
    ed = await wb_connect("gw-1", wb_board, name="ed", wait_snapshot=True)
    r = shape()
    await ed.wait_ack(await add_shape(ed, r))
    vw = await wb_connect("gw-2", ed.welcome["view"], name="vi", wait_snapshot=True)
    assert vw.welcome["role"] == "viewer"
    msgs = [{"t": "shape", "op": rid(12, "o"), "shape": shape()},
            {"t": "text", "op": rid(12, "o"), "text": text()},
            {"t": "update", "op": rid(12, "o"), "id": r["id"], "set": {"color": "#e03131"}},
            {"t": "draft", "shape": shape()},
            {"t": "draft", "text": text()},
            {"t": "draft", "update": {"id": r["id"], "set": {"x1": 0, "y1": 0, "x2": 1, "y2": 1}}}]
    for m in msgs:
        start = vw.mark()
        await vw.send(m)
        err = await vw.wait_error(start)
        assert err["code"] == "forbidden", (m, err)
        if "op" in m:
            assert err["op"] == m["op"]
    last = await ed.wait_applied(await ed.stroke())
    await vw.wait_seq(last)
    await ed.ping()
    assert ed.find("draft") == [], "a viewer's draft was relayed"
    assert [e["kind"] for e in ed.evs] == ["shape", "stroke"]
    assert ed.visible()[0] == vw.visible()[0] and ed.visible()[0]["color"] == "#1e1e1e"


async def test_through_traefik(wb_traefik, wb_connect, wb_board):
    """The new ops, a draft and the REST snapshot through Traefik (wss/https)."""
    a = await wb_connect("traefik", wb_board, name="t1", wait_snapshot=True)
    b = await wb_connect("traefik", wb_board, name="t2", wait_snapshot=True)
    r, t = shape("ellipse", fill="#b2f2bb"), text("via traefik")
    await a.send({"t": "draft", "shape": r})
    await b.wait_for("draft", lambda m: m.get("shape", {}).get("id") == r["id"], timeout=10)
    await add_shape(a, r)
    await add_text(a, t)
    last = await a.wait_ack(await update(a, r["id"], {"x1": 1, "y1": 1, "x2": 2, "y2": 2}))
    for op in list(a.unacked):
        await a.wait_ack(op)
    # an ack and its ev travel separately (docs/protocol.md §3): wait for both
    await a.wait_seq(last)
    await b.wait_seq(last)
    assert b.visible() == a.visible()
    assert [e["id"] for e in a.visible()] == [r["id"], t["id"]]

    def get():
        resp = http_get(wb_traefik.base_url + f"/api/boards/{wb_board}", timeout=10)
        assert resp.status == 200, resp.text
        return json.loads(resp.body)

    loop = asyncio.get_running_loop()
    end = loop.time() + 20
    body = await asyncio.to_thread(get)
    while body["seq"] < last and loop.time() < end:
        await asyncio.sleep(0.1)
        body = await asyncio.to_thread(get)
    assert body["seq"] >= last and body["strokes"] == a.visible()


async def test_updates_of_unknown_ids_are_pruned(wb_stack, wb_connect, wb_board):
    """An update of an id nobody added is stored (its add may still come with
    a smaller seq from another worker's batch), and pruned once the worker's
    ack floor passes it (migration 0005); an update that applies stays."""
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    r = shape()
    await a.wait_ack(await add_shape(a, r))
    await a.wait_ack(await update(a, "ghost", {"color": "#e03131"}))
    await a.wait_ack(await update(a, r["id"], {"color": "#2f9e44"}))
    last = await a.wait_ack(await a.stroke())
    await worker_floor(wb_stack, last)

    def rows():
        with psycopg.connect(wb_stack.pg_url, connect_timeout=3) as db:
            return dict(db.execute("SELECT elem_id, count(*) FROM element_updates WHERE board = %s"
                                   " GROUP BY elem_id", (wb_board,)).fetchall())

    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    got = await asyncio.to_thread(rows)
    while "ghost" in got and loop.time() < end:
        await asyncio.sleep(0.3)
        got = await asyncio.to_thread(rows)
    assert got == {r["id"]: 1}, got
    body = await api_at_seq(wb_stack, "gw-2", wb_board, last)
    assert body["strokes"][0]["color"] == "#2f9e44"
