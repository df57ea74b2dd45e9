"""docs/protocol.md §7: observers on NATS see and decode every durable op."""
from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time

import nats
import pytest

from wbclient import make_stroke
from wbstack import BUILD_DIR, ROOT

pytestmark = pytest.mark.timeout(60)

NATS_CLI = ROOT / ".tools" / "bin" / "nats"
DECODE = BUILD_DIR / "wb-decode"


def decode_points(p) -> list:
    """Inverse of the delta coding in proto/whiteboard.proto (tenths)."""
    out = []
    for i, v in enumerate(p):
        out.append(v + (out[i - 2] if i >= 2 else 0))
    return [v / 10 for v in out]


def test_generated_python_imports_with_this_protobuf(wb_pb2):
    import google.protobuf
    op = wb_pb2.Op(board="b", op_id="o", client_id="c", kind=wb_pb2.KIND_ERASE, ids=["x", "y"])
    again = wb_pb2.Op.FromString(op.SerializeToString())
    assert again == op and again.kind == wb_pb2.KIND_ERASE
    assert int(google.protobuf.__version__.split(".")[0]) >= 7
    live = wb_pb2.Live(board="b", cursor=wb_pb2.Cursor(x=1, y=2))
    assert wb_pb2.Live.FromString(live.SerializeToString()).WhichOneof("body") == "cursor"


async def test_nats_subscriber_decodes_ops(wb_stack, wb_connect, wb_board, wb_pb2):
    got = []
    nc = await nats.connect(wb_stack.nats_url)
    try:
        sub = await nc.subscribe("wb.board.*.ev", cb=None)
        await nc.flush()
        a = await wb_connect("gw-1", wb_board, name="ann", wait_snapshot=True)
        s = make_stroke(points=[10, 10, 20.5, 15, 30, 25, -4.5, 1e6], color="#a0b1c2", width=2.5)
        ops = [await a.stroke(s), await a.erase([s["id"]]), await a.restore([s["id"]]), await a.clear()]
        for op in ops:
            await a.wait_ack(op)
        deadline = time.monotonic() + 5
        while len(got) < len(ops) and time.monotonic() < deadline:
            try:
                msg = await sub.next_msg(timeout=deadline - time.monotonic())
            except nats.errors.TimeoutError:
                break
            if msg.subject == f"wb.board.{wb_board}.ev":
                got.append(wb_pb2.Op.FromString(msg.data))
    finally:
        await nc.close()
    assert [o.op_id for o in got] == ops
    K = wb_pb2
    assert [o.kind for o in got] == [K.KIND_STROKE, K.KIND_ERASE, K.KIND_RESTORE, K.KIND_CLEAR]
    for o in got:
        assert o.board == wb_board and o.client_id == a.client_id and o.gateway == "gw-1"
        assert abs(o.time_ms / 1000 - time.time()) < 60
    st = got[0].stroke
    assert st.id == s["id"] and st.color == 0xA0B1C2 and st.width == 2.5 and st.by == a.client_id
    assert decode_points(list(st.points)) == [10, 10, 20.5, 15, 30, 25, -4.5, 1e6]
    assert list(got[1].ids) == [s["id"]] and list(got[2].ids) == [s["id"]]


async def test_live_subject_carries_drafts_and_cursors(wb_stack, wb_connect, wb_board, wb_pb2):
    nc = await nats.connect(wb_stack.nats_url)
    try:
        sub = await nc.subscribe(f"wb.board.{wb_board}.live")
        await nc.flush()
        a = await wb_connect("gw-2", wb_board, name="ann")
        await a.send({"t": "cursor", "x": 3.5, "y": 4})
        await a.send({"t": "draft", "stroke": {"id": "d1", "color": "#000000", "width": 1, "points": [1, 2]}})
        kinds = {}
        deadline = time.monotonic() + 5
        while not {"cursor", "draft"} <= set(kinds) and time.monotonic() < deadline:
            try:
                msg = await sub.next_msg(timeout=deadline - time.monotonic())
            except nats.errors.TimeoutError:
                break
            live = wb_pb2.Live.FromString(msg.data)
            kinds.setdefault(live.WhichOneof("body"), live)
    finally:
        await nc.close()
    assert "cursor" in kinds and "draft" in kinds, list(kinds)
    c = kinds["cursor"]
    assert (c.cursor.x, c.cursor.y) == (3.5, 4)
    assert getattr(c, "from") == a.client_id and c.name == "ann" and c.gateway == "gw-2"
    assert kinds["draft"].draft.id == "d1"


async def test_nats_cli_sub_translate(wb_stack, wb_connect, wb_board):
    assert NATS_CLI.exists(), f"{NATS_CLI} missing (make deps)"
    assert DECODE.exists(), f"{DECODE} missing: `make` must build it"
    n = 3
    proc = subprocess.Popen([str(NATS_CLI), "-s", wb_stack.nats_url, "sub", f"wb.board.{wb_board}.ev",
                             "--translate", str(DECODE), "--count", str(n)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(ROOT))
    lines = []
    ready = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "Subscribing" in line:
                ready.set()

    th = threading.Thread(target=read, daemon=True)
    th.start()
    try:
        await asyncio.to_thread(ready.wait, 5)
        await asyncio.sleep(0.3)
        a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
        s = make_stroke()
        ops = [await a.stroke(s), await a.erase([s["id"]]), await a.clear()]
        for op in ops:
            await a.wait_ack(op)
        rc = await asyncio.to_thread(proc.wait, 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    th.join(2)
    out = "\n".join(lines)
    assert rc == 0, out
    decoded = []
    for line in lines:
        line = line.strip()
        if line.startswith("{"):
            decoded.append(json.loads(line))
    assert len(decoded) == n, f"expected {n} JSON lines:\n{out}"

    def values(d):
        for v in d.values():
            if isinstance(v, dict):
                yield from values(v)
            else:
                yield v

    for d, op in zip(decoded, ops):
        vals = list(values(d))
        assert op in vals, f"op id {op} not in decoded line {d}"
        assert wb_board in vals, d
    assert s["id"] in list(values(decoded[0])), decoded[0]
