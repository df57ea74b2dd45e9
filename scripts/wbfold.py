"""The board-state rule (docs/protocol.md §4), written once for Python.

Used by the end-to-end tests (tests/wbclient.py, tests/test_worker.py, the
vector tests) and by scripts/drill.py. It keeps the order-independent form of
the rule, like common/wb_fold.c and the worker's SQL: per stroke the first add
(`add`), the newest erase/restore (`vis`, `hidden`); per board the newest clear.
Fed in seq order it is the sequential reducer a client needs; fed in any order
(worker snapshot records plus a stream replay) it gives the same board.

Seqs are kept as (seq, sub) keys so that the strokes of a client `snapshot`
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
KINDS = ("stroke", "erase", "restore", "clear")


class _Rec:
    __slots__ = ("add", "stroke", "vis", "hidden")

    def __init__(self):
        self.add = None          # key of the first add; None: only named by erase/restore so far
        self.stroke = None
        self.vis = (0, 0)        # key of the newest erase/restore naming it
        self.hidden = False      # ... and whether that one was an erase


class Fold:
    """A board: strokes in drawing order, each visible or hidden."""

    def __init__(self, strokes=(), seq: int = 0):
        """Starts from a client `snapshot` (its strokes, all visible, and its seq)."""
        self.seq = seq                 # highest seq applied
        self._recs: dict = {}          # stroke id -> _Rec
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

    def apply(self, ev: dict) -> bool:
        """Applies one durable op (an `ev` message, or any dict with seq, op,
        kind, stroke/ids). An op id seen before changes nothing. Returns
        whether the op was new. Raises ValueError for an unknown kind."""
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
        if kind == "stroke":
            self._add(key, ev["stroke"])
        elif kind in ("erase", "restore"):
            for sid in ev.get("ids", []):
                self._set_vis(key, sid, kind == "erase")
        else:
            self.clear_at(seq)
        self.seq = max(self.seq, seq)
        return True

    def add_record(self, stroke: dict, add_seq: int, vis_seq: int, vis_hidden: bool):
        """Merges one stroke record of a worker snapshot (SnapStroke)."""
        if add_seq:
            self._add((add_seq, 0), stroke)
        if vis_seq:
            self._set_vis((vis_seq, 0), stroke["id"], vis_hidden)

    def clear_at(self, seq: int):
        self._clear = max(self._clear, (seq, 0))

    @property
    def max_clear_seq(self) -> int:
        return self._clear[0]

    def records(self):
        """The state as a worker snapshot holds it: (stroke, add_seq, vis_seq,
        vis_hidden) per stroke id, hidden and placeholder records included
        (add_seq 0: named by an erase/restore only)."""
        for sid, r in self._recs.items():
            yield (r.stroke or {"id": sid}, r.add[0] if r.add else 0, r.vis[0], r.hidden)

    def _visible(self, r: _Rec) -> bool:
        if r.add is None:
            return False
        hidden, at = False, (0, 0)
        if r.vis > r.add:                      # an erase/restore before the add never applied
            hidden, at = r.hidden, r.vis
        if self._clear > r.add and self._clear > at:
            hidden = True
        return not hidden

    def visible(self) -> list:
        """The visible strokes, in drawing order."""
        recs = sorted((r for r in self._recs.values() if self._visible(r)), key=lambda r: r.add)
        return [r.stroke for r in recs]

    def visible_ids(self) -> list:
        return [s["id"] for s in self.visible()]

    def has(self, sid: str) -> bool:
        """Whether a stroke with this id was added (visible or hidden)."""
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
    messages in seq order), visible (strokes) and orders (delivery plans:
    lists of batches of seqs, redelivery allowed)."""
    d = Path(directory or VECTORS_DIR)
    vecs = [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))]
    if not vecs:
        raise FileNotFoundError(f"no vectors in {d}")
    return vecs
