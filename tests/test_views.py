"""docs/protocol.md §9: view-only links, viewports, board history.

- an editor's welcome has role "editor" and the board's view id;
- /ws/{view} joins the same board as a viewer (welcome role "viewer", board =
  the view id, never the board id), on any gateway;
- a viewer's stroke, erase, restore, clear and draft are each refused with
  error `forbidden` (connection stays open), never relayed, never stored in
  JetStream or PostgreSQL; its cursors and viewports are relayed;
- presence entries carry role;
- `viewport` {x, y, scale} is relayed like `cursor` with `from`;
- GET /api/boards/{view} answers the board's snapshot;
- GET /api/boards/{board}?at=SEQ answers the snapshot as of SEQ, from the
  stream before the worker has the ops and from PostgreSQL after.
"""
from __future__ import annotations

import asyncio
import json
import re

import nats
import psycopg
import pytest

from wbclient import make_stroke, reduce_evs, rid, stroke_key
from wbstack import http_get

pytestmark = pytest.mark.timeout(90)

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def keys(strokes):
    return [stroke_key(s) for s in strokes]


def api(stack, gw, board, at=None):
    url = f"{stack.gw_url(gw)}/api/boards/{board}"
    if at is not None:
        url += f"?at={at}"
    r = http_get(url, timeout=10)
    return r.status, (json.loads(r.body) if r.body else None)


async def editor_and_viewer(wb_connect, board, egw="gw-1", vgw="gw-2"):
    ed = await wb_connect(egw, board, name="ed", wait_snapshot=True)
    view = ed.welcome["view"]
    vw = await wb_connect(vgw, view, name="vi", wait_snapshot=True)
    return ed, vw, view


async def wait_pg_has(stack, board, op, timeout=20.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        with psycopg.connect(stack.pg_url, connect_timeout=2) as db:
            if db.execute("SELECT 1 FROM ops WHERE board = %s AND op_id = %s", (board, op)).fetchone():
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"op {op} of board {board} never reached PostgreSQL")


# --------------------------------------------------------------------------
# roles and view ids


async def test_editor_welcome_has_role_and_view(wb_stack, wb_connect, wb_board):
    ed = await wb_connect("gw-1", wb_board)
    w = ed.welcome
    assert w["role"] == "editor"
    assert ID_RE.match(w["view"]) and len(w["view"]) == 22, w
    assert w["view"] != wb_board and wb_board not in w["view"]
    # every gateway derives the same view id for the board
    ed2 = await wb_connect("gw-2", wb_board)
    assert ed2.welcome["view"] == w["view"]
    # another board has another view id
    other = await wb_connect("gw-1", rid(22))
    assert other.welcome["view"] != w["view"]


@pytest.mark.parametrize("egw,vgw", [("gw-1", "gw-2"), ("gw-2", "gw-2")])
async def test_viewer_joins_same_board(wb_stack, wb_connect, wb_board, egw, vgw):
    ed = await wb_connect(egw, wb_board, name="ed", wait_snapshot=True)
    s1 = make_stroke()
    seq1 = await ed.wait_ack(await ed.stroke(s1))
    view = ed.welcome["view"]
    vw = await wb_connect(vgw, view, name="vi", wait_snapshot=True)
    w = vw.welcome
    assert w["role"] == "viewer"
    assert w["board"] == view, "a viewer must never learn the board id"
    assert "view" not in w
    assert wb_board not in json.dumps(vw.msgs)
    await vw.wait_seq(seq1)
    assert vw.visible_keys() == keys([s1])
    # live ops reach the viewer
    s2 = make_stroke()
    seq2 = await ed.wait_ack(await ed.stroke(s2))
    await vw.wait_seq(seq2)
    assert vw.visible_keys() == keys([s1, s2])
    assert vw.problems == [] and ed.problems == []


async def test_viewer_resumes_with_since(wb_stack, wb_connect, wb_board):
    ed, vw, view = await editor_and_viewer(wb_connect, wb_board)
    seq = await ed.wait_ack(await ed.stroke())
    await vw.wait_seq(seq)
    s2 = make_stroke()
    await vw.abort()
    seq2 = await ed.wait_ack(await ed.stroke(s2))
    await vw.reconnect(wb_stack.ws_url("gw-1", view))
    assert vw.welcome["resumed"] is True and vw.welcome["role"] == "viewer"
    await vw.wait_seq(seq2)
    assert vw.visible_keys()[-1] == stroke_key(s2)
    assert vw.problems == []


# --------------------------------------------------------------------------
# a viewer may not draw


async def test_viewer_durable_ops_and_drafts_are_forbidden(wb_stack, wb_connect, wb_board):
    ed, vw, view = await editor_and_viewer(wb_connect, wb_board)
    s = make_stroke()
    seq0 = await ed.wait_ack(await ed.stroke(s))
    await vw.wait_seq(seq0)
    refused = {}
    for kind, msg in (
        ("stroke", {"t": "stroke", "op": rid(12, "o"), "stroke": make_stroke()}),
        ("erase", {"t": "erase", "op": rid(12, "o"), "ids": [s["id"]]}),
        ("restore", {"t": "restore", "op": rid(12, "o"), "ids": [s["id"]]}),
        ("clear", {"t": "clear", "op": rid(12, "o")}),
    ):
        mark = vw.mark()
        await vw.send(msg)
        err = await vw.wait_error(mark)
        assert err["code"] == "forbidden", (kind, err)
        assert err.get("op") == msg["op"], (kind, err)
        refused[kind] = msg["op"]
    mark = vw.mark()
    draft = make_stroke()
    await vw.send({"t": "draft", "stroke": draft})
    err = await vw.wait_error(mark)
    assert err["code"] == "forbidden"
    # the connection stays open and usable
    assert (await vw.ping())["t"] == "pong"
    assert not vw.closed.is_set()
    # the editor's next op is the very next ev for everyone: nothing was stored in between
    s2 = make_stroke()
    op2 = await ed.stroke(s2)
    seq2 = await ed.wait_ack(op2)
    for c in (ed, vw):
        await c.wait_seq(seq2)
        assert [e["op"] for e in c.evs if e["seq"] > seq0] == [op2]
        assert not c.find("draft", lambda m: m["stroke"]["id"] == draft["id"])
        assert c.visible_keys() == keys([s, s2]), "the viewer's erase/clear must not apply"
    assert not vw.acks
    # nothing in JetStream...
    nc = await nats.connect(wb_stack.nats_url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(f"wb.board.{wb_board}.ev", ordered_consumer=True)
        stored = []
        while True:
            try:
                m = await sub.next_msg(timeout=1.0)
            except nats.errors.TimeoutError:
                break
            stored.append(m.data)
        await sub.unsubscribe()
        assert len(stored) == 2
        for op in refused.values():
            assert not any(op.encode() in d for d in stored)
    finally:
        await nc.close()
    # ...and nothing in PostgreSQL
    await wait_pg_has(wb_stack, wb_board, op2)
    with psycopg.connect(wb_stack.pg_url, connect_timeout=2) as db:
        rows = db.execute("SELECT op_id FROM ops WHERE board = %s ORDER BY seq", (wb_board,)).fetchall()
        assert len(rows) == 2 and rows[1][0] == op2
        assert not set(refused.values()) & {r[0] for r in rows}
        n = db.execute("SELECT count(*) FROM ops WHERE op_id = ANY(%s)", (list(refused.values()),)).fetchone()[0]
        assert n == 0


# --------------------------------------------------------------------------
# presence, cursors, viewports


async def test_presence_entries_carry_role(wb_stack, wb_connect, wb_board):
    ed, vw, view = await editor_and_viewer(wb_connect, wb_board)
    want = {ed.client_id: "editor", vw.client_id: "viewer"}

    def ok(c):
        p = c.presence
        return p is not None and {x["id"]: x.get("role") for x in p["clients"]} == want

    for c in (ed, vw):
        await c.wait_until(lambda c=c: ok(c), timeout=10, what="presence with roles")


async def test_viewer_cursor_and_viewport_are_relayed(wb_stack, wb_connect, wb_board):
    ed, vw, view = await editor_and_viewer(wb_connect, wb_board)
    ed_same = await wb_connect("gw-2", wb_board, name="ed2", wait_snapshot=True)
    await vw.send({"t": "cursor", "x": 12.5, "y": -3})
    await vw.send({"t": "viewport", "x": -120.25, "y": 40, "scale": 1.5})
    for c in (ed, ed_same):  # another gateway and the viewer's own gateway
        cur = await c.wait_for("cursor", lambda m: m["from"] == vw.client_id, timeout=5)
        assert (cur["x"], cur["y"]) == (12.5, -3)
        vp = await c.wait_for("viewport", lambda m: m["from"] == vw.client_id, timeout=5)
        assert (vp["x"], vp["y"], vp["scale"]) == (-120.25, 40, 1.5)
        assert vp["name"] == "vi"
    # an editor's viewport reaches the viewer; never echoed to the sender
    await ed.send({"t": "viewport", "x": 7, "y": 8, "scale": 0.25})
    vp = await vw.wait_for("viewport", lambda m: m["from"] == ed.client_id, timeout=5)
    assert (vp["x"], vp["y"], vp["scale"]) == (7, 8, 0.25)
    await ed.ping()
    assert not ed.find("viewport", lambda m: m["from"] == ed.client_id)
    assert not vw.find("viewport", lambda m: m["from"] == vw.client_id)


@pytest.mark.parametrize("bad", [
    {"t": "viewport", "x": 1, "y": 2},
    {"t": "viewport", "x": 1, "y": 2, "scale": 0},
    {"t": "viewport", "x": 1, "y": 2, "scale": -1},
    {"t": "viewport", "x": 1, "y": 2, "scale": 1e9},
    {"t": "viewport", "x": "1", "y": 2, "scale": 1},
    {"t": "viewport", "x": 1e8, "y": 2, "scale": 1},
])
async def test_bad_viewport_is_refused(wb_stack, wb_connect, wb_board, bad):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    b = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    mark = a.mark()
    await a.send(bad)
    err = await a.wait_error(mark)
    assert err["code"] == "bad_message"
    await a.send({"t": "cursor", "x": 1, "y": 1})
    await b.wait_for("cursor", lambda m: m["from"] == a.client_id)
    assert not b.find("viewport")


# --------------------------------------------------------------------------
# REST: view ids and history


async def test_rest_snapshot_by_view_id(wb_stack, wb_connect, wb_board):
    ed = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    ss = [make_stroke() for _ in range(3)]
    for s in ss:
        await ed.stroke(s)
    seq = await ed.wait_ack(await ed.erase([ss[0]["id"]]))
    view = ed.welcome["view"]
    for gw in ("gw-1", "gw-2"):
        st, by_board = api(wb_stack, gw, wb_board)
        assert st == 200
        st, by_view = api(wb_stack, gw, view)
        assert st == 200
        assert by_view["board"] == view, "the answer names the view id, not the board"
        assert by_board["seq"] == by_view["seq"] == seq
        assert keys(by_view["strokes"]) == keys(by_board["strokes"]) == keys(ss[1:])


async def test_history_at_seq(wb_stack, wb_connect, wb_board):
    ed = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    other = await wb_connect("gw-2", rid(22), wait_snapshot=True)  # interleaved seqs of another board
    s = [make_stroke(sid=f"h{i}-" + rid(5)) for i in range(4)]
    ops = [
        await ed.stroke(s[0]), await other.stroke(), await ed.stroke(s[1]),
        await ed.erase([s[0]["id"]]), await ed.stroke(s[2]), await ed.clear(),
        await ed.stroke(s[3]), await ed.restore([s[1]["id"]]), await other.stroke(),
    ]
    last = 0
    for op in ops:
        c = ed if op in ed.unacked or op in ed.acks else other
        last = max(last, await c.wait_ack(op))
    await ed.wait_seq(max(ed.acks.values()))
    seqs = sorted({e["seq"] for e in ed.evs})
    board_last = seqs[-1]
    probe = sorted(set([0] + seqs + [x - 1 for x in seqs] + [board_last + 1, last + 1000]))

    def check(where):
        view = ed.welcome["view"]
        for at in probe:
            want = reduce_evs(ed.evs, upto=at)
            for gw, bid in (("gw-1", wb_board), ("gw-2", view)):
                st, snap = api(wb_stack, gw, bid, at=at)
                assert st == 200, (where, at, st, snap)
                assert snap["board"] == bid
                assert snap["seq"] == min(at, board_last), (where, at, snap["seq"])
                assert keys(snap["strokes"]) == keys(want.visible()), (where, at)

    # the worker may or may not have the ops yet: the stream fills the rest
    check("fresh")
    # once PostgreSQL has every op, the worker answers from the op log (as of
    # SEQ exactly, leaving out what the clear hid and nothing restored since)
    await wait_pg_has(wb_stack, wb_board, ops[7])
    await wait_pg_has(wb_stack, other.welcome["board"], ops[8])
    check("persisted")
    # the current board is unchanged by history reads
    st, cur = api(wb_stack, "gw-1", wb_board)
    assert keys(cur["strokes"]) == ed.visible_keys() == keys([s[1], s[3]])


@pytest.mark.parametrize("at", ["x", "-1", "1.5", "", "+3", "99999999999999999999999"])
def test_history_bad_at(wb_stack, wb_board, at):
    r = http_get(f"{wb_stack.gw_url('gw-1')}/api/boards/{wb_board}?at={at}", timeout=5)
    assert r.status == 400, (at, r.status, r.body)
    assert json.loads(r.body)["error"] == "bad_at"


async def test_view_secret_shared_through_the_bucket(wb_stack, wb_connect, wb_board):
    """Without a secret file (containers on different hosts), the gateways
    share the first gateway's secret through the WB_VIEWS bucket."""
    for gw in ("gw-1", "gw-2"):
        wb_stack.restart(gw, extra_env={"WB_VIEW_SECRET_FILE": ""})
    ed = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    ed2 = await wb_connect("gw-2", wb_board)
    view = ed.welcome["view"]
    assert ed2.welcome["view"] == view
    s = make_stroke()
    seq = await ed.wait_ack(await ed.stroke(s))
    vw = await wb_connect("gw-2", view, wait_snapshot=True)
    assert vw.welcome["role"] == "viewer" and vw.welcome["board"] == view
    await vw.wait_seq(seq)
    assert vw.visible_keys() == keys([s])
    mark = vw.mark()
    await vw.send({"t": "clear", "op": rid(12, "o")})
    assert (await vw.wait_error(mark))["code"] == "forbidden"
