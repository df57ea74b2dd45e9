"""The board-state rule (docs/protocol.md §4), written once for Python.

Used by the end-to-end tests (tests/wbclient.py, tests/test_worker.py, the
vector tests) and by scripts/drill.py. It keeps the order-independent form of
the rule, like common/wb_fold.c and the worker's SQL: per element (stroke,
shape, text) the first add (`add`), the newest erase/restore (`vis`,
`hidden`), per field group the newest update (`upd`); per board the newest
clear.
Fed in seq order it is the sequential reducer a client needs; fed in any order
(worker snapshot records plus a stream replay) it gives the same board.

Seqs are kept as (seq, sub) keys so that the elements of a client `snapshot`
(which carry no seqs) sort before every later op and keep their order.

Import it as `import wbfold`: scripts/drill.py finds it next to itself, pytest
through `pythonpath` in pytest.ini. Checked against tests/vectors/*.json by
tests/test_vectors.py, like the C, SQL and TypeScript implementations.
"""
from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent.parent / "tests" / "vectors"
KINDS = ("stroke", "shape", "text", "update", "erase", "restore", "clear")
ADDS = {"stroke": "stroke", "shape": "shape", "text": "text"}   # ev kind -> field holding the element

# Field groups of an update's "set" (docs/protocol.md §3 "Updates"), and the
# element types each applies to (a stroke has no "type" field).
GROUPS = {
    "points": ("points",),
    "box": ("x1", "y1", "x2", "y2"),
    "pos": ("x", "y"),
    "size": ("size",),
    "text": ("text",),
    "color": ("color",),
    "width": ("width",),
    "fill": ("fill",),
}
APPLIES = {
    "stroke": {"points", "color", "width"},
    "shape": {"box", "color", "width", "fill"},
    "text": {"pos", "size", "text", "color"},
}


def element_type(el: dict) -> str:
    return el.get("type", "stroke")


def set_groups(set_: dict) -> dict:
    """Splits an update's SET into {group: {key: value}} (the groups present).
    Raises ValueError for an unknown key or a partial group."""
    out, seen = {}, set()
    for g, keys in GROUPS.items():
        present = [k for k in keys if k in set_]
        if present and len(present) != len(keys):
            raise ValueError(f"partial group {g}: {sorted(set_)}")
        if present:
            out[g] = {k: set_[k] for k in keys}
            seen.update(keys)
    if set(set_) - seen:
        raise ValueError(f"unknown keys in set: {sorted(set(set_) - seen)}")
    return out


class _Rec:
    __slots__ = ("add", "stroke", "vis", "hidden", "upd")

    def __init__(self):
        self.add = None          # key of the first add; None: only named by erase/restore/update so far
        self.stroke = None       # the element of that add (its base; a stroke, shape or text)
        self.vis = (0, 0)        # key of the newest erase/restore naming it
        self.hidden = False      # ... and whether that one was an erase
        self.upd = {}            # group -> (key, {field: value}) of the newest update with that group


class Fold:
    """A board: elements (strokes, shapes, texts) in drawing order, each
    visible or hidden, with the newest value of every updated field group."""

    def __init__(self, strokes=(), seq: int = 0):
        """Starts from a client `snapshot` (its elements, all visible, and its seq)."""
        self.seq = seq                 # highest seq applied
        self._recs: dict = {}          # element id -> _Rec
        self._clear = (0, 0)           # key of the newest clear
        self._ops: set = set()         # op ids applied (each applies once)
        strokes = list(strokes)
        for i, s in enumerate(strokes):
            self._add((seq, i - len(strokes)), s)

    def _rec(self, sid: str) -> _Rec:
        r = self._recs.get(sid)
        if r is None:
            r = self._recs[sid] = _Rec()
        return r

    def _add(self, key, stroke: dict):
        r = self._rec(stroke["id"])
        if r.add is None or key < r.add:       # the first add wins
            r.add, r.stroke = key, deepcopy(stroke)

    def _set_vis(self, key, sid: str, hidden: bool):
        r = self._rec(sid)
        if key > r.vis:                        # the newest erase/restore wins
            r.vis, r.hidden = key, hidden

    def _update(self, key, sid: str, groups: dict):
        r = self._rec(sid)
        for g, val in groups.items():          # per group, the newest update wins
            if g not in r.upd or key > r.upd[g][0]:
                r.upd[g] = (key, deepcopy(val))

    def apply(self, ev: dict) -> bool:
        """Applies one durable op (an `ev` message, or any dict with seq, op,
        kind, stroke/shape/text/id+set/ids). An op id seen before changes
        nothing. Returns whether the op was new. Raises ValueError for an
        unknown kind."""
        kind = ev.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown op kind {kind!r}: {ev}")
        op = ev.get("op")
        if op is not None:
            if op in self._ops:
                return False
            self._ops.add(op)
        seq = ev["seq"]
        key = (seq, 0)
        if kind in ADDS:
            self._add(key, ev[ADDS[kind]])
        elif kind == "update":
            self._update(key, ev["id"], set_groups(ev["set"]))
        elif kind in ("erase", "restore"):
            for sid in ev.get("ids", []):
                self._set_vis(key, sid, kind == "erase")
        else:
            self.clear_at(seq)
        self.seq = max(self.seq, seq)
        return True

    def add_record(self, stroke: dict, add_seq: int, vis_seq: int, vis_hidden: bool,
                   upd: dict | None = None):
        """Merges one element record of a worker snapshot (SnapStroke): its
        base, seqs, and optionally {group: (upd_seq, {field: value})}."""
        if add_seq:
            self._add((add_seq, 0), stroke)
        if vis_seq:
            self._set_vis((vis_seq, 0), stroke["id"], vis_hidden)
        for g, (q, val) in (upd or {}).items():
            self._update((q, 0), stroke["id"], {g: val})

    def clear_at(self, seq: int):
        self._clear = max(self._clear, (seq, 0))

    @property
    def max_clear_seq(self) -> int:
        return self._clear[0]

    def records(self):
        """The state as a worker snapshot holds it: (element, add_seq, vis_seq,
        vis_hidden, upd) per element id, hidden and placeholder records
        included (add_seq 0: named by an erase/restore/update only); upd is
        {group: (upd_seq, {field: value})}."""
        for sid, r in self._recs.items():
            upd = {g: (k[0], deepcopy(v)) for g, (k, v) in r.upd.items()}
            yield (r.stroke or {"id": sid}, r.add[0] if r.add else 0, r.vis[0], r.hidden, upd)

    def _visible(self, r: _Rec) -> bool:
        if r.add is None:
            return False
        hidden, at = False, (0, 0)
        if r.vis > r.add:                      # an erase/restore before the add never applied
            hidden, at = r.hidden, r.vis
        if self._clear > r.add and self._clear > at:
            hidden = True
        return not hidden

    def _current(self, r: _Rec) -> dict:
        """The element's base with every applying group updated after its add."""
        el = deepcopy(r.stroke)
        applies = APPLIES.get(element_type(el), set())
        for g, (k, val) in r.upd.items():
            if g in applies and k > r.add:     # an update before the add never applied
                for f, v in val.items():
                    if v is None:              # "fill": null removes the fill
                        el.pop(f, None)
                    else:
                        el[f] = deepcopy(v)
        if "by" in el:                         # keep the wire's field order: "by" last
            el["by"] = el.pop("by")
        return el

    def visible(self) -> list:
        """The visible elements with their current values, in drawing order."""
        recs = sorted((r for r in self._recs.values() if self._visible(r)), key=lambda r: r.add)
        return [self._current(r) for r in recs]

    def visible_ids(self) -> list:
        return [s["id"] for s in self.visible()]

    def has(self, sid: str) -> bool:
        """Whether an element with this id was added (visible or hidden)."""
        r = self._recs.get(sid)
        return r is not None and r.add is not None


def reduce_evs(evs, upto=None) -> Fold:
    """The board after the given ops (sorted by seq), optionally only seq <= upto."""
    f = Fold()
    for ev in sorted(evs, key=lambda e: e["seq"]):
        if upto is None or ev["seq"] <= upto:
            f.apply(ev)
    return f


def load_vectors(directory: Path | None = None) -> list:
    """The shared board-state vectors: dicts with name, about, ops (ev
    messages in seq order), visible (elements) and orders (delivery plans:
    lists of batches of seqs, redelivery allowed)."""
    d = Path(directory or VECTORS_DIR)
    vecs = [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))]
    if not vecs:
        raise FileNotFoundError(f"no vectors in {d}")
    return vecs
