"""A gateway that misses live events still gives its clients every op, in order.

gw-2 is stopped (SIGSTOP) while writers on gw-1 keep drawing on two boards,
until nats-server gives up on gw-2's full socket and closes its connection as
a slow consumer: the ops still queued for gw-2 are gone. After SIGCONT, gw-2
must notice the gap (its next op's predecessor is not the last one it has, or
its reconnect), hold the ops that arrive while it fills the gap from the
stream, and deliver a gap-free sequence: each client's `ev` seqs are exactly
the board's acked seqs, in order, each once (tests/wbclient.py records any
repeat or reordering as a problem, which fails the test).
"""
from __future__ import annotations

import asyncio
import collections
import json
import random
import signal
import time

import pytest

from wblib import http_get, metric_at, wait_until

pytestmark = [pytest.mark.destructive, pytest.mark.slow, pytest.mark.timeout(300)]

WRITERS_PER_BOARD = 2
POINTS = 600  # per stroke: ~8 KB of JSON, ~3.5 KB of protobuf (random coordinates)
# A writer keeps up to this many ops unacked and sends one every PACE s, so
# the rate at which gw-2's socket fills does not hang on the ack latency (one
# fsync per op on a slow disk made a writer that waited for each ack too slow
# to fill the socket in 150 s). 100 strokes/s stays under the per-connection
# byte and message rates (2 MiB/s, 200/s).
INFLIGHT = 16
PACE = 0.01


def slow_consumers(st) -> int:
    return json.loads(http_get(st.nats_monitor_url + "/varz", timeout=5).body)["slow_consumers"]


def wait_cut_off(st, slow0: int, tasks: list, acked: list) -> None:
    """Wait (no timing judged) until nats-server has dropped the stopped gw-2
    as a slow consumer; raise a writer's error at once. acked: the lists the
    writers append their seqs to. On timeout the error says how far they got
    and how much nats-server still holds for its connections, so a failure
    shows whether the socket ever filled."""
    def cut_off():
        for t in tasks:
            if t.done():
                t.result()  # a writer failed: raise its error
        return slow_consumers(st) > slow0
    try:
        wait_until(cut_off, 150, "nats-server to drop stopped gw-2 as a slow consumer", 0.5)
    except AssertionError as e:
        conns = json.loads(http_get(st.nats_monitor_url + "/connz", timeout=5).body)["connections"]
        pend = sorted((c.get("pending_bytes", 0) for c in conns), reverse=True)[:3]
        raise AssertionError(f"{e}; {sum(map(len, acked))} ops acked; "
                             f"nats pending bytes (top 3) {pend}") from None


def gap_fills(st, gw: str) -> float:
    return metric_at(st.gw_url(gw) + "/metrics", "wb_gateway_gap_fills_total")


def big_stroke(rnd: random.Random) -> dict:
    pts = [round(rnd.uniform(0, 4000), 1) for _ in range(2 * POINTS)]
    return {"id": "s" + "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12)),
            "color": "#%06x" % rnd.randint(0, 0xFFFFFF), "width": 3, "points": pts}


async def write_until(c, rnd: random.Random, acked: list, stop: asyncio.Event) -> None:
    """Draw big strokes with c until stop is set, up to INFLIGHT unacked, and
    append each op's seq to acked in ack order; on stop, wait for the acks of
    every op sent, so acked names every op the board got from c."""
    pending = collections.deque()
    while not stop.is_set():
        if len(pending) >= INFLIGHT:
            acked.append(await c.wait_ack(pending.popleft(), timeout=60))
            continue
        pending.append(await c.stroke(big_stroke(rnd)))
        await asyncio.sleep(PACE)
    while pending:
        acked.append(await c.wait_ack(pending.popleft(), timeout=60))


async def test_gateway_that_missed_live_events_fills_the_gap(wb_stack, wb_connect, wb_board):
    st = wb_stack
    boards = [wb_board, wb_board + "B"]
    readers = {b: [await wb_connect("gw-2", b, name=f"r{i}", wait_snapshot=True) for i in range(2)]
               + [await wb_connect("gw-1", b, name="r1", wait_snapshot=True)] for b in boards}
    writers = {b: [await wb_connect("gw-1", b, name=f"w{i}", wait_snapshot=True)
                   for i in range(WRITERS_PER_BOARD)] for b in boards}
    acked = {b: [] for b in boards}
    stop = asyncio.Event()

    fills0 = await asyncio.to_thread(gap_fills, st, "gw-2")
    slow0 = await asyncio.to_thread(slow_consumers, st)
    tasks = [asyncio.create_task(write_until(c, random.Random(hash((b, i))), acked[b], stop))
             for b in boards for i, c in enumerate(writers[b])]
    t = {"start": time.monotonic()}
    try:
        await asyncio.sleep(0.5)
        st.send_signal("gw-2", signal.SIGSTOP)
        try:
            await asyncio.to_thread(wait_cut_off, st, slow0, tasks, list(acked.values()))
        finally:
            st.send_signal("gw-2", signal.SIGCONT)
            t["cut off"] = time.monotonic()
        # keep writing while gw-2 reconnects and fills (ops arriving meanwhile are held)
        await asyncio.to_thread(wait_until, lambda: gap_fills(st, "gw-2") > fills0, 60,
                                "gw-2 to fill the gap (wb_gateway_gap_fills_total)", 0.2)
        t["filled"] = time.monotonic()
        seen = {b: len(acked[b]) for b in boards}
        await asyncio.to_thread(wait_until, lambda: all(len(acked[b]) >= seen[b] + 10 for b in boards), 60,
                                "10 more ops per board after the fill", 0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        task.result()
    t["stopped"] = time.monotonic()

    fills = await asyncio.to_thread(gap_fills, st, "gw-2")
    print(f"\nGAP FILL: {sum(len(v) for v in acked.values())} ops acked on {len(boards)} boards; "
          f"nats slow consumers {slow0} -> {await asyncio.to_thread(slow_consumers, st)}; "
          f"gw-2 gap fills {fills0:.0f} -> {fills:.0f}; seconds: "
          + ", ".join(f"{k} {v - t['start']:.1f}" for k, v in t.items()))
    for b in boards:
        want = sorted(acked[b])
        assert len(want) == len(set(want))
        ref = readers[b][-1]  # on gw-1, never cut off
        await ref.wait_seq(want[-1], timeout=60)
        for c in readers[b]:
            await c.wait_seq(want[-1], timeout=60)
            got = c.ev_seqs()
            start = c.snapshot["seq"]
            missing = sorted(set(s for s in want if s > start) - set(got))
            assert got == [s for s in want if s > start], \
                f"{c.label} on {b}: {len(missing)} ops missing (first {missing[:5]}), {len(got)} evs"
            assert c.visible_keys() == ref.visible_keys()


def fill_failures(st, gw: str) -> float:
    return metric_at(st.gw_url(gw) + "/metrics", "wb_gateway_gap_fill_failures_total")


# What a gap fill asks JetStream for: the board's last seq, then an ordered consumer.
FILL_APIS = '"$JS.API.DIRECT.GET.>", "$JS.API.STREAM.MSG.GET.>", "$JS.API.CONSUMER.CREATE.>"'


def deny_fills(st, deny: bool) -> None:
    """Make every gap fill of the gateways fail, or work again: add or remove
    the JetStream APIs a fill uses in the `gateway` NATS user's publish deny
    list, and reload nats-server's configuration (SIGHUP). Publishing ops
    and the stream check the gateway does after a reconnect stay allowed."""
    conf = st.run_dir / "nats" / "nats.conf"
    text = conf.read_text()
    head = text.index("user: gateway")
    at = text.index('deny: [', head) + len('deny: [')   # the gateway user's publish deny list
    extra = FILL_APIS + ", "
    has = text[at:].startswith(extra)
    if deny and not has:
        text = text[:at] + extra + text[at:]
    elif not deny and has:
        text = text[:at] + text[at + len(extra):]
    conf.write_text(text)
    before = st.log_offsets()["nats"]
    st.send_signal("nats", signal.SIGHUP)
    wait_until(lambda: "Reloaded server configuration" in st.log_since("nats", before), 30,
               "nats-server to reload its configuration", 0.1)


async def test_failed_gap_fill_is_retried_with_backoff_until_it_works(wb_stack, wb_connect, wb_board):
    """A gap fill that fails is retried with backoff, the board's feed held
    meanwhile, and completes once JetStream answers again: every acked op
    reaches gw-2's clients once, in order. The failure is made by NATS
    permissions (reloaded live), so the gateway stays connected and ops
    keep being stored."""
    st = wb_stack
    readers = [await wb_connect("gw-2", wb_board, name=f"r{i}", wait_snapshot=True) for i in range(2)]
    writer = await wb_connect("gw-1", wb_board, name="w", wait_snapshot=True)
    acked: list = []
    stop = asyncio.Event()
    slow0 = await asyncio.to_thread(slow_consumers, st)
    fails0 = await asyncio.to_thread(fill_failures, st, "gw-2")
    task = asyncio.create_task(write_until(writer, random.Random(7), acked, stop))
    denied = False
    t0 = time.monotonic()
    try:
        await asyncio.sleep(0.5)
        st.send_signal("gw-2", signal.SIGSTOP)
        try:
            await asyncio.to_thread(wait_cut_off, st, slow0, [task], [acked])
            cut = time.monotonic() - t0
            stop.set()
            await task
            await asyncio.to_thread(deny_fills, st, True)
            denied = True
        finally:
            st.send_signal("gw-2", signal.SIGCONT)
        # gw-2 reconnects and fills every board: each fill fails now
        await asyncio.to_thread(wait_until, lambda: fill_failures(st, "gw-2") >= fails0 + 2, 120,
                                "gw-2 to fail its gap fill twice", 0.2)
        behind = [c.label for c in readers if max(acked) not in c.ev_seqs()]
        assert behind, "gw-2's clients got the missed ops although every fill failed"
        await asyncio.to_thread(deny_fills, st, False)
        denied = False
    finally:
        stop.set()
        if denied:
            await asyncio.to_thread(deny_fills, st, False)
    fails = await asyncio.to_thread(fill_failures, st, "gw-2")
    print(f"\nFILL RETRY: {len(acked)} ops acked; gw-2 cut off after {cut:.1f} s; "
          f"fill failures {fails0:.0f} -> {fails:.0f}")
    assert acked and len(acked) == len(set(acked))
    want = sorted(acked)
    for c in readers:
        await c.wait_seq(want[-1], timeout=90)
        start = c.snapshot["seq"]
        got = c.ev_seqs()
        assert got == [s for s in want if s > start], f"{c.label}: {len(set(want) - set(got))} ops missing"
    # the board works end to end afterwards
    op = await writer.stroke(big_stroke(random.Random(8)))
    seq = await writer.wait_ack(op, timeout=60)
    for c in readers:
        await c.wait_seq(seq, timeout=60)
