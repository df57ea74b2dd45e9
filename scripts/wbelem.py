"""Shapes, texts and updates (docs/protocol.md §3, §4, §7) for the Python
tests and benchmarks: an `ev` as the wb.v1.Op a gateway publishes for it, and
the visible elements PostgreSQL holds (migrations/0005_elements.sql,
wb_board_elements) in the vectors' JSON form. Used by tests/test_worker.py
(and so bench/worker_bench.py) and tests/test_shapes.py; next to wbfold.py so
that PYTHONPATH=scripts finds both."""
from __future__ import annotations

from wblib import load_pb2

pb = load_pb2()

KINDS = {"stroke": pb.KIND_STROKE, "erase": pb.KIND_ERASE, "restore": pb.KIND_RESTORE,
         "clear": pb.KIND_CLEAR, "shape": pb.KIND_SHAPE, "text": pb.KIND_TEXT,
         "update": pb.KIND_UPDATE}
KIND_NAMES = {v: k for k, v in KINDS.items()}
SHAPE_KINDS = {"rect": 1, "ellipse": 2, "line": 3, "arrow": 4}
SHAPE_NAMES = {v: k for k, v in SHAPE_KINDS.items()}


def tenths(v: float) -> int:
    return int(round(v * 10))


def color(c: str) -> int:
    return int(c[1:], 16)


def delta(points: list) -> list:
    """JSON points -> Stroke.points (tenths, delta-coded)."""
    t = [tenths(v) for v in points]
    return t[:2] + [x - t[i] for i, x in enumerate(t[2:])]


def undelta(deltas) -> list:
    t = list(deltas[:2])
    for i, d in enumerate(list(deltas)[2:]):
        t.append(t[i] + d)
    return [num(v) for v in t]


def num(t: int):
    """Tenths as the gateway writes the number (10, not 10.0)."""
    return t // 10 if t % 10 == 0 else t / 10


def update_pb(eid: str, set_: dict):
    u = pb.Update(id=eid)
    if "points" in set_:
        u.has_points = True
        u.points.extend(delta(set_["points"]))
    if "x1" in set_:
        u.has_box = True
        u.x1, u.y1, u.x2, u.y2 = (tenths(set_[k]) for k in ("x1", "y1", "x2", "y2"))
    if "x" in set_:
        u.has_pos = True
        u.x, u.y = tenths(set_["x"]), tenths(set_["y"])
    if "size" in set_:
        u.has_size, u.size = True, set_["size"]
    if "text" in set_:
        u.has_text, u.text = True, set_["text"]
    if "color" in set_:
        u.has_color, u.color = True, color(set_["color"])
    if "width" in set_:
        u.has_width, u.width = True, set_["width"]
    if "fill" in set_:
        u.has_fill = True
        if set_["fill"] is None:
            u.no_fill = True
        else:
            u.fill = color(set_["fill"])
    return u


def ev_to_op(board: str, op_id: str, ev: dict):
    """A vector's `ev` as the wb.v1.Op a gateway would publish for it."""
    kind = KINDS[ev["kind"]]
    op = pb.Op(board=board, op_id=op_id, client_id=ev.get("from", "c1"), kind=kind, gateway="test")
    if kind == pb.KIND_STROKE:
        s = ev["stroke"]
        op.stroke.CopyFrom(pb.Stroke(id=s["id"], color=color(s["color"]), width=s["width"],
                                     points=delta(s["points"]), by=s["by"]))
    elif kind == pb.KIND_SHAPE:
        s = ev["shape"]
        sh = pb.Shape(id=s["id"], kind=SHAPE_KINDS[s["kind"]], x1=tenths(s["x1"]), y1=tenths(s["y1"]),
                      x2=tenths(s["x2"]), y2=tenths(s["y2"]), color=color(s["color"]),
                      width=s["width"], by=s["by"])
        if "fill" in s:
            sh.has_fill, sh.fill = True, color(s["fill"])
        op.shape.CopyFrom(sh)
    elif kind == pb.KIND_TEXT:
        t = ev["text"]
        op.text.CopyFrom(pb.Text(id=t["id"], x=tenths(t["x"]), y=tenths(t["y"]), size=t["size"],
                                 color=color(t["color"]), text=t["text"], by=t["by"]))
    elif kind == pb.KIND_UPDATE:
        op.update.CopyFrom(update_pb(ev["id"], ev["set"]))
    elif kind in (pb.KIND_ERASE, pb.KIND_RESTORE):
        op.ids.extend(ev["ids"])
    return op


def _varint(n: int) -> bytes:
    b = bytearray()
    while True:
        b.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(b)


def pack_points(deltas) -> bytes:
    """Stroke.points as strokes.points stores them: packed zig-zag varints."""
    return b"".join(_varint(((v << 1) ^ (v >> 31)) & 0xFFFFFFFF) for v in deltas)


def stored_points(packed: bytes) -> list:
    """strokes.points (packed sint32 varints) -> JSON numbers."""
    deltas = pb.Stroke.FromString(b"\x22" + _varint(len(packed)) + packed).points
    return undelta(deltas)


def _f32(v: float):
    """A float4 as the gateway writes it (shortest form that round-trips as a float)."""
    for digits in range(1, 10):
        s = f"{v:.{digits}g}"
        if abs(float(s) - v) <= abs(v) * 1e-7:
            f = float(s)
            return int(f) if f.is_integer() else f
    return v


def db_elements(conn, board: str) -> list:
    """The visible elements of a board as PostgreSQL holds them (updates
    applied by wb_board_elements), in drawing order, as vector JSON."""
    rows = conn.execute(
        "SELECT id, elem_kind, shape_kind, x1, y1, x2, y2, x, y, size, body, color, width, fill,"
        " points, author FROM wb_board_elements(%s)", (board,)).fetchall()
    out = []
    for (eid, ek, sk, x1, y1, x2, y2, x, y, size, body, col, width, fill, pts, by) in rows:
        c = f"#{col:06x}"
        if ek == pb.KIND_SHAPE:
            d = {"type": "shape", "id": eid, "kind": SHAPE_NAMES[sk], "x1": num(x1), "y1": num(y1),
                 "x2": num(x2), "y2": num(y2), "color": c, "width": _f32(width)}
            if fill is not None:
                d["fill"] = f"#{fill:06x}"
            d["by"] = by
        elif ek == pb.KIND_TEXT:
            d = {"type": "text", "id": eid, "x": num(x), "y": num(y), "size": _f32(size), "color": c,
                 "text": body, "by": by}
        else:
            d = {"id": eid, "color": c, "width": _f32(width), "points": stored_points(bytes(pts)), "by": by}
        out.append(d)
    return out
