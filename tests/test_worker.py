"""Persistence worker (build/wb-worker) against real processes.

Each test gets its own nats-server (JetStream, sync_interval always, via
scripts/svc/nats.sh), PostgreSQL (scripts/svc/postgres.sh, temp WB_RUN_DIR)
and worker(s) (scripts/svc/worker.sh), all on free ports. Ops are published
straight to JetStream with nats-py (header Nats-Msg-Id) as wb.v1.Op
protobuf, so these tests do not need the gateway.

Fixtures and helpers are local to this file and prefixed wk_.
WB_WORKER_BIN selects another binary (e.g. build/san/wb-worker);
WB_TEST_KEEP=1 keeps the run dir (it is always kept when a test fails).
"""
from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nats
import psycopg
import pytest

import wbelem
import wbfold
from wblib import free_port, http_get, load_pb2, metric, sanitizer_reports, stack_env, wait_until

ROOT = Path(__file__).resolve().parent.parent
SVC = ROOT / "scripts" / "svc"

pytestmark = pytest.mark.timeout(900) if hasattr(pytest.mark, "timeout") else []


# --------------------------------------------------------------------------
# protobuf module

pb = load_pb2()


# --------------------------------------------------------------------------
# processes

class WkStack:
    """nats + postgres + workers for one test."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="wk-"))
        taken: set = set()
        self.nats_port = free_port(taken=taken)
        self.nats_mon = free_port(taken=taken)
        self.pg_port = free_port(taken=taken)
        self.worker_ports = {}
        self._taken = taken
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = stack_env(WB_BUILD_DIR=os.environ.get("WB_BUILD_DIR", ROOT / "build"))
        self.env.update({
            "WB_RUN_DIR": str(self.dir),
            "WB_NATS_PORT": str(self.nats_port),
            "WB_NATS_MONITOR_PORT": str(self.nats_mon),
            "WB_NATS_URL": f"nats://127.0.0.1:{self.nats_port}",
            "WB_PG_PORT": str(self.pg_port),
            "WB_PG_DB": "whiteboard",
            "WB_PG_URL": f"postgresql://postgres@127.0.0.1:{self.pg_port}/whiteboard",
            "WB_LOG_LEVEL": "info",
        })
        for k in ("WB_BATCH", "WB_BATCH_WAIT_MS", "WB_WORKER_PORT", "WB_WORKER_ID"):
            self.env.pop(k, None)

    @property
    def nats_url(self) -> str:
        from wbstack import nats_url_as
        return nats_url_as(self.env["WB_NATS_URL"], self.dir, "admin")

    @property
    def pg_url(self) -> str:
        from wbstack import pg_url_with_passfile
        return pg_url_with_passfile(self.env["WB_PG_URL"], self.dir)

    def log(self, name: str) -> str:
        p = self.dir / f"{name}.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def _spawn(self, name: str, argv: list, env: dict | None = None):
        e = dict(self.env)
        e.update(env or {})
        logf = open(self.dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(argv, env=e, stdout=logf, stderr=subprocess.STDOUT,
                                            cwd=ROOT, start_new_session=True)
        logf.close()

    def start_nats(self):
        self._spawn("nats", ["bash", str(SVC / "nats.sh")])

        def ready():
            p = self.procs["nats"]
            assert p.poll() is None, f"nats-server exited {p.returncode}:\n{self.log('nats')[-2000:]}"
            socket.create_connection(("127.0.0.1", self.nats_port), 0.2).close()
            return "Server is ready" in self.log("nats")
        wait_until(ready, 15, "nats-server")

    def pg_connect(self, **kw):
        return psycopg.connect(self.pg_url, connect_timeout=2, **kw)

    def start_pg(self):
        self._spawn("postgres", ["bash", str(SVC / "postgres.sh")])

        def ready():
            p = self.procs["postgres"]
            assert p.poll() is None, f"postgres exited {p.returncode}:\n{self.log('postgres')[-2000:]}"
            with self.pg_connect() as c:
                # ours, not another test's server that took the port first
                d = c.execute("SELECT current_setting('data_directory')").fetchone()[0]
            assert Path(d).resolve() == (self.dir / "pg").resolve(), f"port {self.pg_port} is not ours: {d}"
            return True
        wait_until(ready, 60, "postgresql", 0.2)

    def start_worker(self, name: str = "worker", env: dict | None = None, wait: bool = True):
        if name not in self.worker_ports:
            self.worker_ports[name] = free_port(taken=self._taken)
        e = {"WB_WORKER_PORT": str(self.worker_ports[name]), "WB_WORKER_ID": name}
        bin_ = os.environ.get("WB_WORKER_BIN")
        if bin_:
            e["WB_WORKER_BIN"] = str(Path(bin_).resolve())
        e.update(env or {})
        self._spawn(name, ["bash", str(SVC / "worker.sh")], e)
        if wait:
            self.wait_healthy(name)

    def worker_url(self, name: str = "worker") -> str:
        return f"http://127.0.0.1:{self.worker_ports[name]}"

    def wait_healthy(self, name: str = "worker", timeout: float = 30):
        def ok():
            p = self.procs[name]
            assert p.poll() is None, f"{name} exited {p.returncode}:\n{self.log(name)[-3000:]}"
            return http_get(self.worker_url(name) + "/healthz").status == 200
        wait_until(ok, timeout, f"{name} /healthz", 0.1)

    def metrics(self, name: str = "worker") -> str:
        return http_get(self.worker_url(name) + "/metrics").text

    def send(self, name: str, sig: int):
        self.procs[name].send_signal(sig)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        p = self.procs[name]
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        return p.returncode

    def kill(self, name: str) -> int:
        p = self.procs[name]
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
        return p.returncode

    def close(self, failed: bool):
        # Workers first (they hold PostgreSQL sessions), then PostgreSQL (fast
        # shutdown), then nats.
        order = [n for n in self.procs if n not in ("postgres", "nats")] + ["postgres", "nats"]
        unclean = []  # a graceful stop must exit 0
        for n in order:
            if n in self.procs:
                alive = self.procs[n].poll() is None
                rc = self.stop(n, signal.SIGINT if n == "postgres" else signal.SIGTERM, timeout=15)
                if alive and rc != 0:
                    unclean.append(f"{n} exit status {rc}")
        sanitizer = [n for n in self.procs if sanitizer_reports(self.log(n))]
        if failed or sanitizer or unclean:
            for n in self.procs:
                sys.stderr.write(f"\n----- {n}.log -----\n{self.log(n)[-4000:]}\n")
        if os.environ.get("WB_TEST_KEEP") != "1" and not failed and not sanitizer and not unclean:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            sys.stderr.write(f"kept {self.dir} (logs, data)\n")
        assert not sanitizer, f"sanitizer reports in {sanitizer}"
        assert not unclean, f"unclean exit after SIGTERM/SIGINT: {unclean}"


@pytest.fixture
def wk_stack(request):
    st = WkStack()
    failed = True
    before = request.session.testsfailed
    try:
        st.start_nats()
        st.start_pg()
        yield st
        failed = request.session.testsfailed > before  # the call report is counted before teardown
    finally:
        st.close(failed)


# --------------------------------------------------------------------------
# ops

def wk_stroke(board, op_id, sid, npts=4, client="c1"):
    pts = [random.randint(-500, 500) for _ in range(npts)]
    return pb.Op(board=board, op_id=op_id, client_id=client, kind=pb.KIND_STROKE,
                 stroke=pb.Stroke(id=sid, color=0x1E1E1E, width=4.0, points=pts, by=client),
                 time_ms=int(time.time() * 1000), gateway="test")


def wk_vis(board, op_id, kind, ids, client="c1"):
    return pb.Op(board=board, op_id=op_id, client_id=client, kind=kind, ids=list(ids),
                 time_ms=int(time.time() * 1000), gateway="test")


def wk_clear(board, op_id, client="c1"):
    return pb.Op(board=board, op_id=op_id, client_id=client, kind=pb.KIND_CLEAR,
                 time_ms=int(time.time() * 1000), gateway="test")


async def wk_publish(url: str, ops: list, concurrency: int = 256, stamp: bool = False) -> list:
    """Publishes ops in order-independent groups; returns [(op, seq, duplicate)]."""
    nc = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    js = nc.jetstream(timeout=20)
    out = [None] * len(ops)

    async def one(i, op):
        if stamp:
            op.time_ms = int(time.time() * 1000)
        for attempt in range(50):
            try:
                ack = await js.publish(f"wb.board.{op.board}.ev", op.SerializeToString(),
                                       headers={"Nats-Msg-Id": op.op_id})
                out[i] = (op, ack.seq, bool(ack.duplicate))
                return
            except Exception:  # noqa: BLE001 - retried (nats restarting)
                await asyncio.sleep(0.2)
        raise AssertionError(f"could not publish {op.op_id}")

    for start in range(0, len(ops), concurrency):
        await asyncio.gather(*(one(i, ops[i]) for i in range(start, min(len(ops), start + concurrency))))
    await nc.close()
    return out


async def wk_ensure_stream(url: str):
    """Stream as the lead's wb_nats_stream_ensure defines it (for publishing before a worker runs)."""
    from nats.js.api import StreamConfig, RePublish, StorageType
    nc = await nats.connect(url)
    js = nc.jetstream()
    from nats.js.errors import BadRequestError, NotFoundError
    try:
        await js.stream_info("WB_OPS")
    except NotFoundError:
        try:
            await js.add_stream(StreamConfig(name="WB_OPS", subjects=["wb.board.*.ev"],
                                             storage=StorageType.FILE, duplicate_window=600,
                                             allow_direct=True,
                                             republish=RePublish(src="wb.board.*.ev",
                                                                 dest="wb.rp.{{wildcard(1)}}")))
        except BadRequestError as e:
            # A worker started by the test created it meanwhile (10058: its config,
            # with allow_atomic, differs from this one): the stream is there.
            if e.err_code != 10058:
                raise
            await js.stream_info("WB_OPS")
    await nc.close()


async def wk_consumer_state(url: str):
    nc = await nats.connect(url)
    js = nc.jetstream()
    ci = await js.consumer_info("WB_OPS", "wb-worker")
    await nc.close()
    return ci


class WkDead(AssertionError):
    pass


def wk_wait_drained(st: WkStack, last_seq: int, timeout: float = 300):
    """Until the consumer has acked everything up to last_seq."""
    seen = {}

    def done():
        for n in st.worker_ports:  # a crashed worker fails the wait at once
            p = st.procs[n]
            if p.poll() is not None:
                raise WkDead(f"{n} exited {p.returncode}:\n{st.log(n)[-3000:]}")
        ci = asyncio.run(wk_consumer_state(st.nats_url))
        seen["state"] = (f"ack_floor={ci.ack_floor.stream_seq} pending={ci.num_pending} "
                         f"ack_pending={ci.num_ack_pending} redelivered={ci.num_redelivered} "
                         f"waiting={ci.num_waiting}")
        return ci.ack_floor.stream_seq >= last_seq and ci.num_pending == 0 and ci.num_ack_pending == 0
    try:
        wait_until(done, timeout, f"consumer ack floor >= {last_seq}", 0.2)
    except AssertionError as e:
        metrics = {}
        for n in st.worker_ports:
            try:
                metrics[n] = [ln for ln in st.metrics(n).splitlines()
                              if ln.startswith("wb_worker_") and "_bucket" not in ln]
            except Exception as m:  # noqa: BLE001
                metrics[n] = str(m)
        raise AssertionError(f"{e}; consumer {seen.get('state')}; worker metrics {metrics}") from None


def wk_rows(st: WkStack, board: str):
    with st.pg_connect() as c:
        return c.execute("SELECT seq, op_id, kind FROM ops WHERE board = %s ORDER BY seq",
                         (board,)).fetchall()


def wk_visible_db(st: WkStack, board: str) -> list:
    with st.pg_connect() as c:
        rows = c.execute(
            "SELECT s.stroke_id FROM strokes s JOIN boards b ON b.id = s.board "
            "WHERE s.board = %s AND wb_stroke_visible(s.add_seq, s.vis_seq, s.vis_hidden, b.max_clear_seq) "
            "ORDER BY s.add_seq", (board,)).fetchall()
    return [r[0] for r in rows]


_KIND_NAME = {pb.KIND_STROKE: "stroke", pb.KIND_ERASE: "erase", pb.KIND_RESTORE: "restore",
              pb.KIND_CLEAR: "clear"}


def wk_ev(op, seq: int) -> dict:
    """A wb.v1.Op at seq as the `ev` dict the board-state fold takes."""
    ev = {"seq": seq, "op": op.op_id, "kind": _KIND_NAME[op.kind]}
    if op.kind == pb.KIND_STROKE:
        ev["stroke"] = {"id": op.stroke.id}
    elif op.kind in (pb.KIND_ERASE, pb.KIND_RESTORE):
        ev["ids"] = list(op.ids)
    return ev


def wk_reference(ops_with_seq: list) -> list:
    """docs/protocol.md §4 "Board state": apply in seq order, once per op_id (scripts/wbfold.py)."""
    return wbfold.reduce_evs([wk_ev(o, s) for o, s in ops_with_seq]).visible_ids()


def wk_random_ops(board: str, n: int, rnd: random.Random, prefix: str = "o") -> list:
    ops, ids = [], []
    for k in range(n):
        r = rnd.random()
        if r < 0.45 or not ids:
            sid = rnd.choice(ids) if ids and rnd.random() < 0.1 else f"s{len(ids)}"  # sometimes a re-add
            ids.append(sid)
            ops.append(wk_stroke(board, f"{prefix}{k}", sid))
        elif r < 0.7:
            pick = rnd.sample(ids, min(len(ids), rnd.randint(1, 3))) + (["ghost"] if rnd.random() < 0.1 else [])
            ops.append(wk_vis(board, f"{prefix}{k}", pb.KIND_ERASE, pick))
        elif r < 0.93:
            pick = rnd.sample(ids, min(len(ids), rnd.randint(1, 3)))
            ops.append(wk_vis(board, f"{prefix}{k}", pb.KIND_RESTORE, pick))
        else:
            ops.append(wk_clear(board, f"{prefix}{k}"))
    # erase/restore naming strokes that are only added later
    ops.insert(0, wk_vis(board, f"{prefix}early-e", pb.KIND_ERASE, [f"s{len(ids) - 1}", "s0"]))
    return ops


# --------------------------------------------------------------------------
# tests

def test_migrations_idempotent_and_recorded(wk_stack):
    st = wk_stack
    env = dict(st.env, WB_MIGRATIONS_DIR=str(ROOT / "migrations"))
    bin_ = os.environ.get("WB_WORKER_BIN")
    if bin_:
        env["WB_WORKER_BIN"] = str(Path(bin_).resolve())
    for _ in range(2):
        r = subprocess.run(["bash", str(SVC / "worker.sh"), "migrate"], env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (ROOT / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))
    with st.pg_connect() as c:
        rows = c.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [f"{v:04d}_{n}.sql" for v, n in rows] == files
    assert "0 applied" in r.stderr


def test_ops_persisted_once_in_order(wk_stack):
    st = wk_stack
    st.start_worker()
    board = "wkBoard1"
    ops = [wk_stroke(board, f"op{i}", f"s{i}") for i in range(300)]
    ops += [wk_vis(board, "e1", pb.KIND_ERASE, ["s1", "s2"]), wk_vis(board, "r1", pb.KIND_RESTORE, ["s2"]),
            wk_clear(board, "c1"), wk_stroke(board, "after", "s-after")]
    res = asyncio.run(wk_publish(st.nats_url, ops))
    # A resend inside the duplicate window is deduplicated by JetStream.
    again = asyncio.run(wk_publish(st.nats_url, [ops[5]]))
    assert again[0][2] and again[0][1] == res[5][1]
    wk_wait_drained(st, max(s for _, s, _ in res))
    rows = wk_rows(st, board)
    assert [r[0] for r in rows] == sorted(s for _, s, _ in res)
    assert [r[1] for r in rows] == [op.op_id for op, _, _ in sorted(res, key=lambda x: x[1])]
    assert wk_visible_db(st, board) == ["s-after"] == wk_reference([(o, s) for o, s, _ in res])
    m = st.metrics()
    assert metric(m, "wb_worker_ops_persisted_total") == len(ops)
    assert metric(m, "wb_worker_batch_size_count") >= 1
    assert metric(m, "wb_worker_persist_lag_seconds_count") == len(ops)
    with st.pg_connect() as c:
        assert c.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0


def wk_vector_op(board: str, ev: dict):
    """A vector's ev as the wb.v1.Op a gateway would publish for it (op ids
    made unique per board: JetStream de-duplicates Nats-Msg-Id stream-wide)."""
    op_id = f"{board}-{ev['op']}"
    if ev["kind"] in ("shape", "text", "update"):  # docs/protocol.md §3 "Shapes and texts"
        return wbelem.ev_to_op(board, op_id, ev)
    kind = {v: k for k, v in _KIND_NAME.items()}[ev["kind"]]
    if kind == pb.KIND_STROKE:
        s = ev["stroke"]
        tenths = [int(round(v * 10)) for v in s["points"]]
        pts = tenths[:2] + [t - tenths[i] for i, t in enumerate(tenths[2:])]  # delta-coded
        return pb.Op(board=board, op_id=op_id, client_id=ev["from"], kind=kind, gateway="test",
                     stroke=pb.Stroke(id=s["id"], color=int(s["color"][1:], 16), width=s["width"],
                                      points=pts, by=s["by"]))
    return pb.Op(board=board, op_id=op_id, client_id=ev["from"], kind=kind, gateway="test",
                 ids=ev.get("ids", []))


def wk_db_strokes(st: WkStack, board: str) -> list:
    """The visible elements of a board as stored, by the SQL's own rule
    (wb_board_elements: updates applied), as vector elements."""
    with st.pg_connect() as c:
        return wbelem.db_elements(c, board)


def wk_db_strokes_only(st: WkStack, board: str) -> list:
    """The visible strokes of a board as stored, read from the stroke columns."""
    with st.pg_connect() as c:
        rows = c.execute(
            "SELECT s.stroke_id, s.color, s.width, s.points, s.author FROM strokes s"
            " JOIN boards b ON b.id = s.board WHERE s.board = %s"
            " AND wb_stroke_visible(s.add_seq, s.vis_seq, s.vis_hidden, b.max_clear_seq)"
            " ORDER BY s.add_seq", (board,)).fetchall()
    out = []
    for sid, color, width, points, author in rows:
        out.append({"id": sid, "color": f"#{color:06x}", "width": width,
                    "points": wbelem.stored_points(bytes(points)), "by": author})
    return out


def test_vectors_through_worker(wk_stack):
    """The shared board-state vectors (tests/vectors, docs/protocol.md §4),
    published to JetStream in seq order and persisted by the real worker: the
    visible strokes in PostgreSQL (content and order) are the expected ones."""
    st = wk_stack
    st.start_worker(env={"WB_BATCH": "3"})  # several batches per vector
    vecs = wbfold.load_vectors()
    run = wk_run_id()
    ops = [wk_vector_op(f"wkV{run}{i}", ev) for i, v in enumerate(vecs) for ev in v["ops"]]
    res = asyncio.run(wk_publish(st.nats_url, ops, concurrency=1))
    assert not any(dup for _, _, dup in res)
    wk_wait_drained(st, max(s for _, s, _ in res))
    for i, v in enumerate(vecs):
        assert wk_db_strokes(st, f"wkV{run}{i}") == v["visible"], v["name"]


def test_vectors_sql_any_order(wk_stack):
    """The same vectors through wb_apply_batch directly, batches committed in
    each delivery plan the vector lists (out of order, redelivered)."""
    st = wk_stack
    st.start_worker()  # applies the migrations
    run = wk_run_id()
    for i, v in enumerate(wbfold.load_vectors()):
        for p, plan in enumerate([[[ev["seq"] for ev in v["ops"]]]] + v["orders"]):
            board = f"wkS{run}{i}p{p}"
            by_seq = {ev["seq"]: wk_vector_op(board, ev) for ev in v["ops"]}
            with st.pg_connect(autocommit=True) as c:
                for batch in plan:
                    wk_apply_py(c, [(by_seq[q], q) for q in batch])
            want = [s["id"] for s in v["visible"]]
            assert wk_visible_db(st, board) == want, (v["name"], plan)


def wk_run_id() -> str:
    return "".join(random.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(6))


def test_random_ops_match_reference(wk_stack):
    st = wk_stack
    st.start_worker(env={"WB_BATCH": "37"})
    rnd = random.Random(7)
    boards = [f"wkRand{i}" for i in range(4)]
    ops = []
    for b in boards:
        ops += wk_random_ops(b, 400, rnd, prefix=f"{b}-")
    rnd.shuffle(ops)  # interleave boards (per-board order is random too)
    res = asyncio.run(wk_publish(st.nats_url, ops, concurrency=1))
    wk_wait_drained(st, max(s for _, s, _ in res))
    for b in boards:
        mine = [(o, s) for o, s, _ in res if o.board == b]
        assert wk_visible_db(st, b) == wk_reference(mine), b


def test_apply_batch_order_independent(wk_stack):
    """wb_apply_batch directly: batches committed in any order, redelivered,
    and late resends of an op id give the in-order state."""
    st = wk_stack
    st.start_worker()  # applies the migrations
    rnd = random.Random(11)
    for trial in range(6):
        board = f"wkPerm{trial}"
        ops = wk_random_ops(board, 250, rnd)
        seqd = [(op, 1000 + i * 3) for i, op in enumerate(ops)]
        # a late resend (after the dedup window): same op id, higher seq
        late = [(ops[k], 100000 + k) for k in rnd.sample(range(len(ops)), 10)]
        expected = wk_reference(seqd)
        allops = list(seqd)
        rnd.shuffle(allops)
        batches, i = [], 0
        while i < len(allops):
            n = rnd.randint(1, 60)
            batches.append(allops[i:i + n])
            i += n
        # redeliveries, then the late resends (ops logged long before them)
        batches += rnd.sample(batches, 3) + [late[:5], late[5:]]
        with st.pg_connect(autocommit=True) as c:
            for bt in batches:
                wk_apply_py(c, bt)
        assert wk_visible_db(st, board) == expected, trial
        with st.pg_connect() as c:
            n = c.execute("SELECT count(*) FROM ops WHERE board = %s", (board,)).fetchone()[0]
        assert n == len(ops)  # every op id once: late resends logged nowhere


def wk_apply_py(conn, batch):
    """Calls wb_apply_batch like the worker does (one statement per batch)."""
    P = {k: [] for k in ("b", "q", "o", "c", "k", "t", "p")}
    S = {k: [] for k in ("b", "q", "i", "col", "w", "pts", "a")}
    V = {k: [] for k in ("b", "q", "i", "h")}
    for op, seq in batch:
        P["b"].append(op.board); P["q"].append(seq); P["o"].append(op.op_id); P["c"].append(op.client_id)
        P["k"].append(op.kind); P["t"].append(op.time_ms); P["p"].append(op.SerializeToString())
        if op.kind == pb.KIND_STROKE:
            S["b"].append(op.board); S["q"].append(seq); S["i"].append(op.stroke.id)
            S["col"].append(op.stroke.color); S["w"].append(op.stroke.width); S["pts"].append(b"")
            S["a"].append(op.stroke.by)
        elif op.kind in (pb.KIND_ERASE, pb.KIND_RESTORE):
            for i in op.ids:
                V["b"].append(op.board); V["q"].append(seq); V["i"].append(i)
                V["h"].append(op.kind == pb.KIND_ERASE)
    E, U = wk_elem_columns(batch)
    if E[0] or U[0]:  # shapes, texts, updates: the full form (migrations/0005_elements.sql)
        types = ("text bigint text text smallint bigint bytea text bigint text integer real bytea"
                 " text text bigint text boolean bigint text bytea text"
                 " text bigint text smallint smallint integer integer integer integer integer integer"
                 " integer real text integer real text"
                 " text bigint text smallint bytea integer integer integer integer integer integer"
                 " real text integer real integer").split()
        conn.execute(
            "SELECT wb_apply_batch(" + ", ".join(f"%s::{t}[]" for t in types) + ")",
            (P["b"], P["q"], P["o"], P["c"], P["k"], P["t"], P["p"],
             S["b"], S["q"], S["i"], S["col"], S["w"], S["pts"], S["a"],
             V["b"], V["q"], V["i"], V["h"], [], [], [], []) + tuple(E) + tuple(U))
        return
    conn.execute(
        "SELECT wb_apply_batch(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::smallint[], %s::bigint[],"
        " %s::bytea[], %s::text[], %s::bigint[], %s::text[], %s::integer[], %s::real[], %s::bytea[],"
        " %s::text[], %s::text[], %s::bigint[], %s::text[], %s::boolean[], %s::bigint[], %s::text[],"
        " %s::bytea[], %s::text[])",
        (P["b"], P["q"], P["o"], P["c"], P["k"], P["t"], P["p"],
         S["b"], S["q"], S["i"], S["col"], S["w"], S["pts"], S["a"],
         V["b"], V["q"], V["i"], V["h"], [], [], [], []))


def wk_elem_columns(batch):
    """The e_* (shape/text adds) and u_* (one row per update field group)
    arrays of wb_apply_batch, as the worker builds them (worker/wk_batch.c)."""
    E = [[] for _ in range(17)]
    U = [[] for _ in range(16)]
    for op, seq in batch:
        if op.kind == pb.KIND_SHAPE:
            s = op.shape
            row = [op.board, seq, s.id, op.kind, s.kind, s.x1, s.y1, s.x2, s.y2,
                   s.fill if s.has_fill else None, None, None, None, None, s.color, s.width, s.by]
        elif op.kind == pb.KIND_TEXT:
            t = op.text
            row = [op.board, seq, t.id, op.kind, None, None, None, None, None, None, t.x, t.y,
                   t.size, t.text, t.color, None, t.by]
        elif op.kind == pb.KIND_UPDATE:
            u = op.update
            groups = [(0, u.has_points), (1, u.has_box), (2, u.has_pos), (3, u.has_size),
                      (4, u.has_text), (5, u.has_color), (6, u.has_width), (7, u.has_fill)]
            for g, present in groups:
                if not present:
                    continue
                r = [op.board, seq, u.id, g] + [None] * 12
                if g == 0:
                    r[4] = wbelem.pack_points(u.points)
                elif g == 1:
                    r[5:9] = [u.x1, u.y1, u.x2, u.y2]
                elif g == 2:
                    r[9:11] = [u.x, u.y]
                elif g == 3:
                    r[11] = u.size
                elif g == 4:
                    r[12] = u.text
                elif g == 5:
                    r[13] = u.color
                elif g == 6:
                    r[14] = u.width
                elif not u.no_fill:
                    r[15] = u.fill
                for col, v in zip(U, r):
                    col.append(v)
            continue
        else:
            continue
        for col, v in zip(E, row):
            col.append(v)
    return E, U


def test_bad_message_dead_lettered(wk_stack):
    st = wk_stack
    st.start_worker()

    async def pub():
        await wk_ensure_stream(st.nats_url)
        nc = await nats.connect(st.nats_url)
        js = nc.jetstream()
        a = await js.publish("wb.board.wkBad.ev", b"\xff\xff\xff not protobuf")
        op = wk_stroke("wkBad", "bad id!", "s1")
        b = await js.publish("wb.board.wkBad.ev", op.SerializeToString())
        c = await js.publish("wb.board.wkBad.ev", wk_stroke("wkBad", "ok1", "s1").SerializeToString())
        await nc.close()
        return a.seq, b.seq, c.seq
    a, b, c = asyncio.run(pub())
    wk_wait_drained(st, c)
    with st.pg_connect() as conn:
        dead = conn.execute("SELECT stream_seq FROM dead_letters ORDER BY 1").fetchall()
    assert [r[0] for r in dead] == [a, b]
    assert [r[0] for r in wk_rows(st, "wkBad")] == [c]


def test_kill9_worker_mid_stream(wk_stack):
    st = wk_stack
    st.start_worker(env={"WB_BATCH": "100"})
    board = "wkKill"
    ops = [wk_stroke(board, f"k{i}", f"s{i}") for i in range(6000)]

    async def run():
        task = asyncio.create_task(wk_publish(st.nats_url, ops, concurrency=64))
        # kill -9 once some ops are in PostgreSQL
        for _ in range(400):
            await asyncio.sleep(0.05)
            with st.pg_connect() as c:
                if c.execute("SELECT count(*) FROM ops").fetchone()[0] > 500:
                    break
        st.kill("worker")
        await asyncio.sleep(0.5)
        st.start_worker(env={"WB_BATCH": "100"}, wait=False)
        return await task
    res = asyncio.run(run())
    st.wait_healthy()
    wk_wait_drained(st, max(s for _, s, _ in res))
    rows = wk_rows(st, board)
    assert [r[0] for r in rows] == sorted(s for _, s, _ in res)
    assert len(rows) == len(ops) == len({r[1] for r in rows})
    with st.pg_connect() as c:
        assert c.execute("SELECT count(*) FROM strokes WHERE board = %s AND add_seq IS NOT NULL",
                         (board,)).fetchone()[0] == len(ops)


@pytest.mark.parametrize("pg_signal", [signal.SIGINT, signal.SIGKILL], ids=["fast", "kill9"])
def test_postgres_restart_mid_stream(wk_stack, pg_signal):
    st = wk_stack
    st.start_worker(env={"WB_BATCH": "100"})
    board = "wkPgRestart"
    ops = [wk_stroke(board, f"p{i}", f"s{i}") for i in range(5000)]

    async def run():
        for _ in range(4):  # snapshot threads now hold PostgreSQL connections
            await wk_snapshot(st.nats_url, board)
        task = asyncio.create_task(wk_publish(st.nats_url, ops, concurrency=64))
        for _ in range(400):
            await asyncio.sleep(0.05)
            with st.pg_connect() as c:
                if c.execute("SELECT count(*) FROM ops").fetchone()[0] > 500:
                    break
        if pg_signal == signal.SIGKILL:
            st.kill("postgres")
        else:
            st.stop("postgres", pg_signal)
        # The worker notices (health 503) while PostgreSQL is away.
        await asyncio.to_thread(wait_until, lambda: http_get(st.worker_url() + "/healthz").status == 503,
                                60, "worker /healthz 503 while PostgreSQL is down", 0.1)
        st.start_pg()
        return await task
    res = asyncio.run(run())
    wk_wait_drained(st, max(s for _, s, _ in res))
    rows = wk_rows(st, board)
    assert [r[0] for r in rows] == sorted(s for _, s, _ in res)
    assert len({r[1] for r in rows}) == len(ops)
    st.wait_healthy()
    assert metric(st.metrics(), "wb_worker_errors_total", kind="pg") >= 1
    # Snapshots work at once after the restart (stale connections are replaced).
    for _ in range(4):
        chunks = asyncio.run(wk_snapshot(st.nats_url, board))
        assert not any(c.error for c, _ in chunks)
        assert sum(len(c.strokes) for c, _ in chunks) == len(ops)


def test_nats_restart(wk_stack):
    st = wk_stack
    st.start_worker()
    board = "wkNatsRestart"
    first = asyncio.run(wk_publish(st.nats_url, [wk_stroke(board, f"a{i}", f"a{i}") for i in range(200)]))
    wk_wait_drained(st, max(s for _, s, _ in first))
    st.stop("nats")
    time.sleep(1.0)
    st.start_nats()
    second = asyncio.run(wk_publish(st.nats_url, [wk_stroke(board, f"b{i}", f"b{i}") for i in range(200)]))
    wk_wait_drained(st, max(s for _, s, _ in second), timeout=60)
    rows = wk_rows(st, board)
    assert [r[0] for r in rows] == sorted(s for _, s, _ in first + second)
    st.wait_healthy()


def test_two_workers_each_op_once(wk_stack):
    st = wk_stack
    st.start_worker("w1", env={"WB_BATCH": "50"})
    st.start_worker("w2", env={"WB_BATCH": "50"})
    rnd = random.Random(3)
    boards = [f"wkTwo{i}" for i in range(3)]
    ops = []
    for b in boards:
        ops += wk_random_ops(b, 1500, rnd, prefix=f"{b}-")
    rnd.shuffle(ops)
    res = asyncio.run(wk_publish(st.nats_url, ops, concurrency=32))
    wk_wait_drained(st, max(s for _, s, _ in res))
    for b in boards:
        mine = [(o, s) for o, s, _ in res if o.board == b]
        assert [r[0] for r in wk_rows(st, b)] == sorted(s for _, s in mine)
        assert wk_visible_db(st, b) == wk_reference(mine), b
    p1 = metric(st.metrics("w1"), "wb_worker_ops_persisted_total")
    p2 = metric(st.metrics("w2"), "wb_worker_ops_persisted_total")
    assert p1 + p2 == len(ops)
    print(f"w1 persisted {p1:.0f}, w2 persisted {p2:.0f}")


async def wk_snapshot(url: str, board: str, max_chunk: int = 0, timeout: float = 30):
    nc = await nats.connect(url, max_reconnect_attempts=2)
    inbox = nc.new_inbox()
    chunks = []
    done = asyncio.get_running_loop().create_future()

    async def cb(msg):
        ch = pb.SnapshotChunk()
        ch.ParseFromString(msg.data)
        chunks.append((ch, len(msg.data)))
        if ch.last and not done.done():
            done.set_result(True)
    sub = await nc.subscribe(inbox, cb=cb, pending_msgs_limit=100000, pending_bytes_limit=512 * 1024 * 1024)
    await nc.flush()
    await nc.publish("wb.snapshot", pb.SnapshotRequest(board=board, max_chunk_bytes=max_chunk).SerializeToString(),
                     reply=inbox)
    await asyncio.wait_for(done, timeout)
    await sub.unsubscribe()
    await nc.close()
    return chunks


def test_snapshot_20000_strokes(wk_stack):
    st = wk_stack
    st.start_worker()
    board = "wkBig"
    ops = [wk_stroke(board, f"o{i}", f"s{i}", npts=40) for i in range(20000)]
    ops.append(wk_vis(board, "erase-some", pb.KIND_ERASE, ["s1", "s2", "s3"]))
    ops.append(wk_vis(board, "restore-one", pb.KIND_RESTORE, ["s2"]))
    res = asyncio.run(wk_publish(st.nats_url, ops, concurrency=512))
    last = max(s for _, s, _ in res)
    wk_wait_drained(st, last)
    t0 = time.monotonic()
    chunks = asyncio.run(wk_snapshot(st.nats_url, board))
    took = time.monotonic() - t0
    assert all(not c.error for c, _ in chunks)
    assert [c.index for c, _ in chunks] == list(range(len(chunks)))
    assert chunks[-1][0].last and not any(c.last for c, _ in chunks[:-1])
    assert all(size < 512 * 1024 for _, size in chunks)
    assert len(chunks) > 1
    strokes = [s for c, _ in chunks for s in c.strokes]
    assert len(strokes) == 20000
    assert [s.add_seq for s in strokes] == sorted(s.add_seq for s in strokes)
    assert chunks[0][0].seq >= last  # ack floor: everything acked
    by_id = {s.stroke.id: s for s in strokes}
    src = {op.stroke.id: op for op, _, _ in res if op.kind == pb.KIND_STROKE}
    for sid in ("s0", "s777", "s19999"):
        assert list(by_id[sid].stroke.points) == list(src[sid].stroke.points)
        assert by_id[sid].stroke.color == src[sid].stroke.color and by_id[sid].stroke.by == "c1"
    assert by_id["s1"].vis_hidden and not by_id["s2"].vis_hidden and by_id["s2"].vis_seq > by_id["s2"].add_seq
    print(f"snapshot of 20000 strokes: {len(chunks)} chunks in {took:.2f}s")
    # A small max_chunk_bytes is honoured (clamped to >= 4096).
    small = asyncio.run(wk_snapshot(st.nats_url, board, max_chunk=8192))
    assert len(small) > len(chunks) and all(size <= 8192 for _, size in small)
    # Unknown board: one empty last chunk; bad id: an error chunk.
    empty = asyncio.run(wk_snapshot(st.nats_url, "nothingHere"))
    assert len(empty) == 1 and empty[0][0].last and not empty[0][0].strokes and not empty[0][0].error
    bad = asyncio.run(wk_snapshot(st.nats_url, "bad.board"))
    assert bad[0][0].error and bad[0][0].last


def test_sigterm_exits_zero(wk_stack):
    st = wk_stack
    st.start_worker()
    assert st.stop("worker", signal.SIGTERM) == 0
    assert "exit 0" in st.log("worker")


def wk_merge(chunks, later_ops) -> list:
    """What a gateway does: snapshot records + the ops after S, order-independent."""
    f = wbfold.Fold()
    for ch, _ in chunks:
        f.clear_at(ch.max_clear_seq)
        for r in ch.strokes:
            f.add_record({"id": r.stroke.id}, r.add_seq, r.vis_seq, r.vis_hidden)
    for op, seq in sorted(later_ops, key=lambda x: x[1]):
        f.apply(wk_ev(op, seq))
    return f.visible_ids()


def test_snapshot_during_writes_merges_to_reference(wk_stack):
    """Snapshots taken while ops stream in: snapshot (<= S, maybe more) merged
    with the ops after S equals the in-order state, every time."""
    st = wk_stack
    st.start_worker(env={"WB_BATCH": "20"})
    board = "wkLive"
    rnd = random.Random(5)
    ops = wk_random_ops(board, 1500, rnd)

    async def run():
        task = asyncio.create_task(wk_publish(st.nats_url, ops, concurrency=8))
        snaps = []
        while not task.done():
            snaps.append(await wk_snapshot(st.nats_url, board))
            await asyncio.sleep(0.05)
        return await task, snaps
    res, snaps = asyncio.run(run())
    assert len(snaps) >= 3
    allops = [(o, s) for o, s, _ in res]
    expected = wk_reference(allops)
    for chunks in snaps:
        assert not chunks[0][0].error
        S = chunks[0][0].seq
        assert wk_merge(chunks, [(o, s) for o, s in allops if s > S]) == expected


def test_health_follows_nats_and_sigterm_with_pg_down(wk_stack):
    st = wk_stack
    st.start_worker()
    st.stop("nats")
    wait_until(lambda: http_get(st.worker_url() + "/healthz").status == 503, 10, "503 while nats is down")
    st.start_nats()
    st.wait_healthy(timeout=20)
    # PostgreSQL down with ops pending: SIGTERM still exits 0, and nothing is acked.
    res = asyncio.run(wk_publish(st.nats_url, [wk_stroke("wkTerm", "t0", "s0")]))
    wk_wait_drained(st, res[0][1])
    st.stop("postgres", signal.SIGINT)
    res = asyncio.run(wk_publish(st.nats_url, [wk_stroke("wkTerm", f"t{i}", f"s{i}") for i in range(1, 50)]))
    time.sleep(1.0)
    assert st.stop("worker", signal.SIGTERM) == 0
    ci = asyncio.run(wk_consumer_state(st.nats_url))
    assert ci.ack_floor.stream_seq < min(s for _, s, _ in res)
    st.start_pg()
    st.start_worker()
    wk_wait_drained(st, max(s for _, s, _ in res))
    assert len(wk_rows(st, "wkTerm")) == 50
