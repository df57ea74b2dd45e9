"""kill -9 a gateway while clients draw: nothing acked is lost, nothing doubled.

Clients follow the client duties of docs/protocol.md §5: keep every op until acked;
after a disconnect, reconnect (here: to the other gateway) with
since = highest applied seq and re-send unacked ops with the same op ids.
"""
from __future__ import annotations

import asyncio
import collections

import pytest
import websockets

from wbclient import make_stroke, reduce_evs, stroke_key

pytestmark = [pytest.mark.timeout(90), pytest.mark.destructive]


async def test_kill9_gateway_while_drawing(wb_stack, wb_connect, wb_board):
    if wb_stack.attached:
        pytest.skip("attach mode: cannot kill a gateway")
    drawers = [await wb_connect("gw-1", wb_board, name=f"d{i}", wait_snapshot=True) for i in range(3)]
    watcher = await wb_connect("gw-2", wb_board, name="watch", wait_snapshot=True)
    stop = asyncio.Event()
    sent = collections.defaultdict(list)   # client label -> ops in send order
    reconnects = []

    async def draw(c):
        i = 0
        while not stop.is_set():
            if c.closed.is_set():
                reconnects.append((c.label, c.close_code, c.seq, len(c.unacked)))
                await c.reconnect(wb_stack.ws_url("gw-2", wb_board))
                continue
            try:
                if i % 7 == 6 and c.evs:
                    op = await c.erase([c.evs[-1].get("stroke", {}).get("id", "none")])
                else:
                    op = await c.stroke(make_stroke())
                sent[c.label].append(op)
            except websockets.ConnectionClosed:
                await c.wait_closed(5)   # the reader records it; then reconnect
                continue
            i += 1
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(draw(c)) for c in drawers]
    await asyncio.sleep(1.0)
    before = {c.label: len(sent[c.label]) for c in drawers}
    assert all(n > 0 for n in before.values()), before
    rc = await asyncio.to_thread(wb_stack.kill, "gw-1")
    assert rc == -9
    # every drawer reconnects (to gw-2) and draws a few more ops there; no
    # bound on how fast, only that it happens (generous limit)
    deadline = asyncio.get_running_loop().time() + 30
    while not all(len(c.welcomes) >= 2 and len(sent[c.label]) >= before[c.label] + 5 for c in drawers):
        assert asyncio.get_running_loop().time() < deadline, \
            f"not every drawer reconnected and drew again within 30 s: reconnects {reconnects}"
        assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    assert len(reconnects) == len(drawers), reconnects
    for c in drawers:
        assert c.welcome["gateway"] == "gw-2"
        assert c.welcomes[-1]["resumed"] is True, "resume by since after the crash was refused"
        for op in list(c.unacked):
            await c.wait_ack(op, timeout=15)
        assert not c.unacked
    # acks: every op sent got one, and repeated acks of one op agree on the seq
    acks = {}
    for c in drawers:
        seen = collections.defaultdict(set)
        for m in c.ack_list:
            seen[m["op"]].add(m["seq"])
        bad = {op: s for op, s in seen.items() if len(s) > 1}
        assert not bad, f"an op was stored twice: {bad}"
        assert set(sent[c.label]) <= set(seen), "an op was never acked"
        acks.update({op: min(s) for op, s in seen.items()})
    top = max(acks.values())
    for c in drawers + [watcher]:
        await c.wait_seq(top, timeout=15)
        ops = [e["op"] for e in c.evs]
        dup = [op for op, n in collections.Counter(ops).items() if n > 1]
        assert not dup, f"{c.label}: ops delivered twice: {dup[:5]}"
        assert c.problems == [], c.problems[:5]
    # the watcher (never disconnected) saw every acked op exactly once, at its ack seq
    w = {e["op"]: e["seq"] for e in watcher.evs}
    missing = [op for op in acks if op not in w]
    assert not missing, f"{len(missing)} acked ops lost, e.g. {missing[:5]}"
    assert all(w[op] == s for op, s in acks.items())
    assert set(w) == set(acks), "the board has ops nobody got an ack for"
    # all clients converge, and a fresh joiner sees the same board
    want = [stroke_key(s) for s in reduce_evs(watcher.evs).visible()]
    for c in drawers + [watcher]:
        assert [stroke_key(s) for s in c.visible()] == want, c.label
    fresh = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    await fresh.wait_seq(top)
    assert [stroke_key(s) for s in fresh.visible()] == want
    ids = [s["id"] for s in fresh.visible()]
    assert len(ids) == len(set(ids))
    # the killed gateway comes back and serves the same board
    await asyncio.to_thread(wb_stack.start, "gw-1")
    back = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    await back.wait_seq(top)
    assert [stroke_key(s) for s in back.visible()] == want


async def test_watcher_on_killed_gateway_resumes_without_gap(wb_stack, wb_connect, wb_board):
    """A reader on the crashing gateway resumes on the other one and ends with
    exactly the ops it missed."""
    if wb_stack.attached:
        pytest.skip("attach mode: cannot kill a gateway")
    reader = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    writer = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    seqs = [await writer.wait_ack(await writer.stroke()) for _ in range(5)]
    await reader.wait_seq(seqs[-1])
    await asyncio.to_thread(wb_stack.kill, "gw-2")
    await reader.wait_closed(5)
    seqs += [await writer.wait_ack(await writer.stroke()) for _ in range(5)]
    await reader.reconnect(wb_stack.ws_url("gw-1", wb_board))
    assert reader.welcomes[-1]["resumed"] is True
    seqs += [await writer.wait_ack(await writer.stroke()) for _ in range(2)]
    await reader.wait_seq(seqs[-1])
    assert reader.ev_seqs() == seqs
    assert reader.problems == []


async def test_presence_forgets_clients_of_a_dead_gateway(wb_stack, wb_connect, wb_board):
    """Presence lists expire: after kill -9 of gw-2 its clients leave the list
    seen on gw-1 (no 'leaving' message can come from a dead process)."""
    if wb_stack.attached:
        pytest.skip("attach mode: cannot kill a gateway")

    def ids(c):
        return sorted(x["id"] for x in (c.presence or {}).get("clients", []))

    a = await wb_connect("gw-1", wb_board, name="stay")
    b = await wb_connect("gw-2", wb_board, name="gone")
    await a.wait_until(lambda: ids(a) == sorted([a.client_id, b.client_id]), timeout=5, what="both present")
    await asyncio.to_thread(wb_stack.kill, "gw-2")
    await a.wait_until(lambda: ids(a) == [a.client_id], timeout=10, what="dead gateway's clients expire")
