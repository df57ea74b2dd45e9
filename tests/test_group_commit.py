"""Group commit of durable ops (gateway/gw_commit.c): many ops per JetStream
atomic batch, one fsync per batch, every op keeping its own seq.

- Under load the gateway really sends batches, and every ack's seq is the seq
  the op is delivered with (the batch's seqs are contiguous).
- kill -9 of nats-server while batches are in flight: nothing acked is lost,
  nothing is stored twice; ops resent after the restart (same op ids, some
  already stored inside a batch whose ack was lost) are answered with their
  one seq.
"""
from __future__ import annotations

import asyncio
import collections
import re
import time

import pytest
import websockets

from wbclient import make_stroke, stroke_key
from wbstack import http_get

pytestmark = [pytest.mark.timeout(120)]


def metric(stack, gw: str, name: str) -> float:
    text = http_get(stack.gw_url(gw) + "/metrics").text
    m = re.search(rf"^{name}{{[^}}]*}} (\S+)$", text, re.M)
    assert m, f"{name} missing from {gw}'s /metrics"
    return float(m.group(1))


async def wait_metric_above(stack, gw: str, name: str, value: float, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while True:
        v = await asyncio.to_thread(metric, stack, gw, name)
        if v > value:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} on {gw} stayed at {v} (want > {value}) for {timeout}s")
        await asyncio.sleep(0.1)


async def draw_burst(c, n: int) -> list:
    """n strokes in one frame (an array), each kept until acked."""
    msgs = []
    for _ in range(n):
        m = {"t": "stroke", "op": f"o{time.monotonic_ns():x}{len(c.unacked)}{len(msgs)}",
             "stroke": make_stroke()}
        c.unacked[m["op"]] = m
        msgs.append(m)
    await c.send(msgs)
    return [m["op"] for m in msgs]


def check_acks(drawers, sent) -> dict:
    """Every op sent got an ack; repeated acks of one op agree. Returns op -> seq."""
    acks = {}
    for c in drawers:
        seen = collections.defaultdict(set)
        for m in c.ack_list:
            seen[m["op"]].add(m["seq"])
        bad = {op: s for op, s in seen.items() if len(s) > 1}
        assert not bad, f"{c.label}: an op was stored twice: {list(bad.items())[:5]}"
        never = set(sent[c.label]) - set(seen)
        assert not never, f"{c.label}: {len(never)} ops never acked"
        acks.update({op: min(s) for op, s in seen.items()})
    return acks


async def test_batches_keep_each_ops_seq(wb_stack, wb_connect, wb_board):
    drawers = [await wb_connect("gw-1", wb_board, name=f"d{i}", wait_snapshot=True) for i in range(4)]
    watcher = await wb_connect("gw-2", wb_board, name="watch", wait_snapshot=True)
    before = await asyncio.to_thread(metric, wb_stack, "gw-1", "wb_gateway_commit_batched_ops_total")
    sent = collections.defaultdict(list)
    for _ in range(10):
        for c in drawers:
            sent[c.label] += await draw_burst(c, 30)
        await asyncio.sleep(0.2)   # under the rate limit (200/s per connection)
    for c in drawers:
        for op in sent[c.label]:
            await c.wait_ack(op, timeout=30)
    after = await asyncio.to_thread(metric, wb_stack, "gw-1", "wb_gateway_commit_batched_ops_total")
    assert after > before, "no op went through an atomic batch"
    acks = check_acks(drawers, sent)
    top = max(acks.values())
    await watcher.wait_seq(top, timeout=30)
    got = {e["op"]: e["seq"] for e in watcher.evs}
    assert {op: got.get(op) for op in acks} == acks, "an ack's seq differs from the op's ev seq"
    assert watcher.problems == [] and all(c.problems == [] for c in drawers)


@pytest.mark.destructive
async def test_kill9_nats_mid_batch(wb_stack, wb_connect, wb_board):
    if wb_stack.attached:
        pytest.skip("attach mode: cannot kill nats-server")
    drawers = [await wb_connect("gw-1", wb_board, name=f"d{i}", wait_snapshot=True) for i in range(6)]
    watcher = await wb_connect("gw-2", wb_board, name="watch", wait_snapshot=True)
    sent = collections.defaultdict(list)
    stop = asyncio.Event()

    async def draw(c):
        while not stop.is_set():
            if c.closed.is_set():
                await c.reconnect(wb_stack.ws_url("gw-1", wb_board))
                continue
            if len(c.unacked) < 48:
                try:
                    sent[c.label] += await draw_burst(c, 8)
                except websockets.ConnectionClosed:
                    await c.wait_closed(5)
                    continue
            await asyncio.sleep(0.05)

    base = await asyncio.to_thread(metric, wb_stack, "gw-1", "wb_gateway_commit_batches_total")
    tasks = [asyncio.create_task(draw(c)) for c in drawers]
    # kill while batches are flowing
    await wait_metric_above(wb_stack, "gw-1", "wb_gateway_commit_batches_total", base + 3)
    assert await asyncio.to_thread(wb_stack.kill, "nats") == -9
    await asyncio.sleep(0.5)
    await asyncio.to_thread(wb_stack.start, "nats")
    deadline = time.monotonic() + 30
    while http_get(wb_stack.gw_url("gw-1") + "/healthz").status != 200:
        assert time.monotonic() < deadline, "gw-1 did not reconnect to NATS"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)   # drawing goes on after the restart
    stop.set()
    await asyncio.gather(*tasks)
    # The clients resend what was not acked (refused while NATS was down, or
    # its answer lost in the crash) with the same op ids until all is acked.
    deadline = time.monotonic() + 60
    while any(c.unacked for c in drawers):
        assert time.monotonic() < deadline, f"unacked: {[len(c.unacked) for c in drawers]}"
        for c in drawers:
            if c.closed.is_set():
                await c.reconnect(wb_stack.ws_url("gw-1", wb_board))
            else:
                pending = list(c.unacked.values())
                for i in range(0, len(pending), 50):
                    await c.send(pending[i:i + 50])
                    await asyncio.sleep(0.3)
        await asyncio.sleep(1.0)
    acks = check_acks(drawers, sent)
    top = max(acks.values())
    await watcher.wait_seq(top, timeout=30)
    w = {e["op"]: e["seq"] for e in watcher.evs}
    missing = [op for op in acks if op not in w]
    assert not missing, f"{len(missing)} acked ops lost, e.g. {missing[:5]}"
    assert all(w[op] == s for op, s in acks.items()), "an ack's seq differs from the op's ev seq"
    assert set(w) == set(acks), "the board has ops nobody got an ack for"
    ops = [e["op"] for e in watcher.evs]
    assert len(ops) == len(set(ops)), "an op was delivered twice"
    assert watcher.problems == [], watcher.problems[:5]
    # a fresh joiner (snapshot from the worker + stream) sees each stroke once
    fresh = await wb_connect("gw-2", wb_board, wait_snapshot=True)
    await fresh.wait_seq(top, timeout=30)
    ids = [s["id"] for s in fresh.visible()]
    assert len(ids) == len(set(ids)) == len(acks)
    assert [stroke_key(s) for s in fresh.visible()] == [stroke_key(s) for s in watcher.visible()]
