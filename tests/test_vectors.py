"""The Python board-state fold (scripts/wbfold.py) against the shared vectors
(tests/vectors/*.json, docs/protocol.md §4). The same files are run by the C
unit test (common/wb_fold_test.c), by vitest (client/src/lib/board.test.ts)
and through the worker's SQL and PostgreSQL (tests/test_worker.py)."""
from __future__ import annotations

import random

import pytest

import wbfold

VECTORS = wbfold.load_vectors()


def _by_seq(vec: dict) -> dict:
    return {ev["seq"]: ev for ev in vec["ops"]}


def _fold(evs) -> list:
    f = wbfold.Fold()
    for ev in evs:
        f.apply(ev)
    return f.visible()


def test_vectors_are_well_formed():
    assert len(VECTORS) >= 10
    names = [v["name"] for v in VECTORS]
    assert len(set(names)) == len(names)
    for v in VECTORS:
        seqs = [ev["seq"] for ev in v["ops"]]
        assert seqs == sorted(set(seqs)), v["name"]      # listed in seq order, unique
        assert len({ev["op"] for ev in v["ops"]}) == len(seqs), v["name"]
        for plan in v["orders"]:                         # every plan delivers every op
            assert {q for batch in plan for q in batch} == set(seqs), v["name"]


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: v["name"])
def test_seq_order(vec):
    assert _fold(vec["ops"]) == vec["visible"]
    assert wbfold.reduce_evs(list(reversed(vec["ops"]))).visible() == vec["visible"]


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: v["name"])
def test_delivery_plans_and_shuffles(vec):
    by_seq = _by_seq(vec)
    for plan in vec["orders"]:
        assert _fold(by_seq[q] for batch in plan for q in batch) == vec["visible"], plan
    rnd = random.Random(vec["name"])
    for _ in range(100):
        evs = list(vec["ops"]) * 2
        rnd.shuffle(evs)
        assert _fold(evs) == vec["visible"]


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: v["name"])
def test_snapshot_records_plus_replay(vec):
    """What a gateway does: a worker snapshot's records up to some seq S, then
    the ops after S, gives the same board for every S."""
    ops = vec["ops"]
    for cut in range(len(ops) + 1):
        head = wbfold.reduce_evs(ops[:cut])
        f = wbfold.Fold()
        for rec in head.records():
            f.add_record(*rec)
        f.clear_at(head.max_clear_seq)
        for ev in ops[cut:]:
            f.apply(ev)
        assert f.visible() == vec["visible"], cut


def test_an_op_id_applies_once():
    f = wbfold.Fold()
    s = {"id": "a", "color": "#1e1e1e", "width": 4, "points": [0, 0, 1, 1], "by": "c"}
    assert f.apply({"seq": 1, "op": "o1", "kind": "stroke", "stroke": s})
    assert f.apply({"seq": 2, "op": "o2", "kind": "erase", "ids": ["a"]})
    assert f.apply({"seq": 3, "op": "o3", "kind": "restore", "ids": ["a"]})
    assert not f.apply({"seq": 4, "op": "o2", "kind": "erase", "ids": ["a"]})  # a late resend
    assert f.visible_ids() == ["a"]
    with pytest.raises(ValueError):
        f.apply({"seq": 5, "op": "o5", "kind": "wave"})


def test_set_groups_are_whole():
    """docs/protocol.md §3 "Updates": a group is all of its keys or none; unknown keys are refused."""
    assert wbfold.set_groups({"x1": 1, "y1": 2, "x2": 3, "y2": 4, "fill": None}) == {
        "box": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}, "fill": {"fill": None}}
    for bad in ({"x1": 1, "y1": 2}, {"x": 1}, {"colour": "#000000"}, {"x": 1, "y": 2, "z": 3}):
        with pytest.raises(ValueError):
            wbfold.set_groups(bad)


def test_snapshot_elements_keep_updates():
    """A client snapshot holds current values; updates after it apply per group."""
    r = {"type": "shape", "id": "r", "kind": "rect", "x1": 0, "y1": 0, "x2": 1, "y2": 1,
         "color": "#1e1e1e", "width": 2, "fill": "#ffec99", "by": "c"}
    f = wbfold.Fold([r], seq=10)
    f.apply({"seq": 11, "op": "o11", "kind": "update", "id": "r", "set": {"fill": None}})
    f.apply({"seq": 12, "op": "o12", "kind": "update", "id": "r", "set": {"points": [5, 5]}})
    assert f.visible() == [{k: v for k, v in r.items() if k != "fill"}]


def test_client_snapshot_strokes_come_first():
    snap = [{"id": i, "color": "#1e1e1e", "width": 4, "points": [0, 0], "by": "c"} for i in ("x", "y")]
    f = wbfold.Fold(snap, seq=10)
    f.apply({"seq": 11, "op": "o11", "kind": "stroke", "stroke": dict(snap[0], id="z")})
    f.apply({"seq": 12, "op": "o12", "kind": "stroke", "stroke": dict(snap[0], id="x", color="#e03131")})
    f.apply({"seq": 13, "op": "o13", "kind": "erase", "ids": ["y"]})
    assert f.visible_ids() == ["x", "z"]
    assert f.visible()[0]["color"] == "#1e1e1e"   # the snapshot's x was the first add
    assert f.seq == 13
