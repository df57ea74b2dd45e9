"""docs/protocol.md §5: resume by `since`, snapshot + live ops without gaps."""
from __future__ import annotations

import asyncio
import random

import pytest

from wbclient import reduce_evs, stroke_key

pytestmark = pytest.mark.timeout(60)


async def draw(c, n):
    ops = [await c.stroke() for _ in range(n)]
    seqs = [await c.wait_ack(op) for op in ops]
    await c.wait_seq(max(seqs))  # and applied here (wbclient.wait_applied)
    return seqs


@pytest.mark.parametrize("gw", ["gw-1", "gw-2"])
async def test_resume_gets_exactly_ops_after_since_then_live(wb_stack, wb_connect, wb_board, gw):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    seqs = await draw(a, 10)
    since = seqs[4]
    r = await wb_connect(gw, wb_board, since=since)
    assert r.welcome["resumed"] is True
    assert r.welcome["seq"] == seqs[-1]
    await r.wait_seq(seqs[-1])
    assert r.snapshot is None and r.find("snapshot") == [], "a resumed client must not get a snapshot"
    assert r.ev_seqs() == seqs[5:]
    assert [e["op"] for e in r.evs] == [e["op"] for e in a.evs[5:]]
    # then live ops, from both gateways
    b = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    more = await draw(a, 2) + await draw(b, 2)
    await r.wait_seq(max(more))
    assert r.ev_seqs() == seqs[5:] + sorted(more)
    assert r.problems == []


async def test_resume_at_head_gets_nothing_then_live(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    seqs = await draw(a, 3)
    r = await wb_connect("gw-1", wb_board, since=seqs[-1])
    assert r.welcome["resumed"] is True
    await asyncio.sleep(0.3)
    assert r.evs == [] and r.find("snapshot") == []
    s = await draw(a, 1)
    await r.wait_seq(s[0])
    assert r.ev_seqs() == s


async def test_resume_since_zero_replays_everything(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    seqs = await draw(a, 4)
    r = await wb_connect("gw-2", wb_board, since=0)
    await r.wait_seq(seqs[-1])
    if r.welcome["resumed"]:
        assert r.ev_seqs() == seqs
    else:
        assert r.snapshot and r.snapshot["seq"] <= seqs[-1]
    assert [stroke_key(s) for s in r.visible()] == [stroke_key(s) for s in a.visible()]


async def test_since_beyond_end_gets_snapshot(wb_stack, wb_connect, wb_board):
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    seqs = await draw(a, 3)
    r = await wb_connect("gw-2", wb_board, since=seqs[-1] + 1_000_000)
    assert r.welcome["resumed"] is False
    snap = await r.wait_for("snapshot")
    assert snap["seq"] == seqs[-1]
    assert [stroke_key(s) for s in snap["strokes"]] == [stroke_key(s) for s in a.visible()]
    s = await draw(a, 1)
    await r.wait_seq(s[0])
    assert r.ev_seqs() == s


@pytest.mark.timeout(90)
async def test_concurrent_writers_joiners_never_gap(wb_stack, wb_connect, wb_board):
    """Several writers on both gateways while clients join (snapshot) and resume
    (since) over and over: each joiner ends with exactly the ops after its
    starting point, in order, and the same board as the writers."""
    writers = [await wb_connect(gw, wb_board, name=f"w{i}", wait_snapshot=True)
               for i, gw in enumerate(["gw-1", "gw-2", "gw-1", "gw-2"])]
    stop = asyncio.Event()
    acked = {}

    async def write(w):
        n = 0
        while not stop.is_set():
            op = await w.stroke()
            n += 1
            if n % 10 == 0:
                acked[op] = await w.wait_ack(op, timeout=10)
            await asyncio.sleep(random.uniform(0.005, 0.02))

    joiners = []

    async def join():
        i = 0
        while not stop.is_set():
            gw = ("gw-1", "gw-2")[i % 2]
            known = sorted(acked.values())
            if i % 3 == 2 and known:
                since = random.choice(known)
                c = await wb_connect(gw, wb_board, since=since, name=f"r{i}")
                joiners.append((c, since))
            else:
                c = await wb_connect(gw, wb_board, name=f"j{i}", wait_snapshot=True)
                joiners.append((c, None))
            i += 1
            await asyncio.sleep(random.uniform(0.02, 0.1))

    tasks = [asyncio.create_task(write(w)) for w in writers] + [asyncio.create_task(join())]
    await asyncio.sleep(4)
    stop.set()
    await asyncio.gather(*tasks)
    # every op any writer sent is acked; collect the full ordered history
    allseq = {}
    for w in writers:
        for op in list(w.unacked):
            await w.wait_ack(op, timeout=10)
        allseq.update({op: s for op, s in w.acks.items()})
    top = max(allseq.values())
    history = sorted(allseq.values())
    assert len(set(history)) == len(history)
    full = writers[0]
    await full.wait_seq(top, timeout=10)
    assert full.ev_seqs() == history
    truth = reduce_evs(full.evs)
    failures = []
    for c, since in joiners:
        try:
            await c.wait_seq(top, timeout=10)
        except TimeoutError as e:
            failures.append(str(e))
            continue
        if since is not None and c.welcome["resumed"]:
            start = since
        else:
            start = c.snapshot["seq"]
            snap = reduce_evs(full.evs, upto=start)
            if [stroke_key(x) for x in c.snapshot["strokes"]] != [stroke_key(x) for x in snap.visible()]:
                failures.append(f"{c.label}: snapshot at {start} differs from the history")
        want = [s for s in history if s > start]
        got = c.ev_seqs()
        if got != want:
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            failures.append(f"{c.label} (start {start}, resumed {c.welcome['resumed']}): "
                            f"missing {missing[:10]} ({len(missing)}), extra {extra[:10]}")
        if c.problems:
            failures.append(f"{c.label}: {c.problems[:3]}")
        # a resumed client only holds what came after since
        resumed = since is not None and c.welcome["resumed"]
        expect = reduce_evs([e for e in full.evs if e["seq"] > start]) if resumed else truth
        if [stroke_key(x) for x in c.visible()] != [stroke_key(x) for x in expect.visible()]:
            failures.append(f"{c.label}: final board differs")
    assert len(joiners) >= 10
    assert not failures, f"{len(failures)} of {len(joiners)} joiners wrong:\n" + "\n".join(failures[:15])


@pytest.mark.timeout(90)
async def test_simultaneous_joins_during_writes(wb_stack, wb_connect, wb_board):
    """Bursts of clients joining one board at the same instant (joins may be
    batched into one snapshot) while ops keep coming: every joiner ends with
    the full board and a gap-free ev sequence after its snapshot."""
    writers = [await wb_connect(gw, wb_board, wait_snapshot=True) for gw in ("gw-1", "gw-2")]
    stop = asyncio.Event()

    async def write(w):
        while not stop.is_set():
            await w.stroke()
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(write(w)) for w in writers]
    joiners = []
    try:
        for burst in range(4):
            await asyncio.sleep(0.3)
            joiners += await asyncio.gather(*(
                wb_connect(("gw-1", "gw-2")[i % 2], wb_board, name=f"b{burst}-{i}", wait_snapshot=True)
                for i in range(20)))
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    acked = {}
    for w in writers:
        for op in list(w.unacked):
            await w.wait_ack(op, timeout=10)
        acked.update(w.acks)
    history = sorted(acked.values())
    top = history[-1]
    await writers[0].wait_seq(top)
    truth = reduce_evs(writers[0].evs)
    bad = []
    for c in joiners:
        try:
            await c.wait_seq(top, timeout=15)
        except TimeoutError as e:
            bad.append(str(e))
            continue
        start = c.snapshot["seq"]
        if c.ev_seqs() != [s for s in history if s > start] or c.problems:
            bad.append(f"{c.label}: snapshot {start}, evs {len(c.ev_seqs())}, problems {c.problems[:2]}")
        elif [stroke_key(x) for x in c.visible()] != [stroke_key(x) for x in truth.visible()]:
            bad.append(f"{c.label}: board differs")
    assert not bad, f"{len(bad)} of {len(joiners)} joiners wrong:\n" + "\n".join(bad[:10])
