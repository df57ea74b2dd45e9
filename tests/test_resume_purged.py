"""docs/protocol.md §5: a resume from a seq the stream no longer holds gets a
snapshot instead.

Purging the stream changes what every later test would find: a gateway with
no worker builds a board from the stream only while the stream still starts
at seq 1 (tests/test_outage.py tests that fallback). So this module runs on
its own stack, not the session's, and stops it afterwards.
"""
from __future__ import annotations

import asyncio
import os
import time

import nats
import pytest

from wbclient import make_stroke
from wbstack import BACKEND, Stack

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wb_stack():
    """A private nats, postgres, worker, gw-1, gw-2 (overrides the session's)."""
    if os.environ.get("WB_TEST_BASE_URL"):
        pytest.fail("test_resume_purged needs its own stack: it cannot run attached")
    st = Stack.create()
    try:
        st.start_reaper()
        st.start(*BACKEND)
        yield st
    finally:
        problems = st.discard()
    assert not problems, "stack teardown:\n" + "\n".join(problems)


async def _drain_worker(nc, timeout=15):
    """Wait until the worker's durable consumer has acked everything."""
    js = nc.jetstream()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await js.consumer_info("WB_OPS", "wb-worker")
        si = await js.stream_info("WB_OPS")
        if info.num_pending == 0 and info.num_ack_pending == 0 and \
                info.ack_floor.stream_seq >= si.state.last_seq:
            return si.state.last_seq
        await asyncio.sleep(0.1)
    raise TimeoutError(f"worker consumer not drained: {info}")


@pytest.mark.destructive
async def test_since_older_than_stream_gets_snapshot(wb_stack, wb_connect, wb_board):
    """Once the stream no longer holds seq since+1, the server sends a snapshot.
    The stream is purged below the current head AFTER the worker has stored
    everything."""
    a = await wb_connect("gw-1", wb_board, wait_snapshot=True)
    s = [make_stroke() for _ in range(5)]
    seqs = [await a.wait_ack(await a.stroke(x)) for x in s]
    await a.wait_ack(await a.erase([s[1]["id"]]))
    nc = await nats.connect(wb_stack.nats_url)
    try:
        head = await _drain_worker(nc)
        await nc.jetstream().purge_stream("WB_OPS", seq=head)   # keeps only seq >= head
        si = await nc.jetstream().stream_info("WB_OPS")
        assert si.state.first_seq >= head
    finally:
        await nc.close()
    r = await wb_connect("gw-2", wb_board, since=seqs[1])
    assert r.welcome["resumed"] is False
    snap = await r.wait_for("snapshot")
    assert [x["id"] for x in snap["strokes"]] == [s[0]["id"], s[2]["id"], s[3]["id"], s[4]["id"]]
    assert r.problems == []
    last = await a.wait_applied(await a.stroke())
    await r.wait_seq(last)
    assert r.visible_keys() == a.visible_keys()


