"""Shared pytest fixtures for the whiteboard end-to-end tests.

In the style of pgbouncer's test/conftest.py: session-scoped objects own REAL
server processes, started through the project's own scripts/svc/*.sh with
free ports and a temporary WB_RUN_DIR (see tests/wbstack.py).

Fixtures (all prefixed wb_ to stay clear of other plugins' names):

  wb_stack     session  nats + postgres + worker + gw-1 + gw-2, all ready.
                        Methods: kill(name) / terminate(name) / restart(name,
                        extra_env=) / ensure_up(); addresses: gw_url(gw),
                        ws_url(gw, board, since=, name=), nats_url, pg_url,
                        nats_monitor_url, worker_url, base_url (Traefik).
  wb_traefik   session  the same stack with Traefik started too (base_url).
  wb_board     function a fresh random board id.
  wb_connect   function async factory: `c = await wb_connect("gw-1", board,
                        name="ann", since=None)` -> wbclient.WBClient
                        (expect_problems=True: this client may record
                        protocol problems without failing the test).
  wb_pb2       session  the generated Python protobuf module (build/gen/py).
  wb_nats_url  session  the stack's NATS URL (start nats-py connections from it).

Async tests: `async def test_...` functions run under pytest-asyncio
(asyncio_mode = auto, one loop per test). Every WBClient opened during the
test is closed before the loop ends, and any problem a client recorded
(wbclient.WBClient.problems) fails the test unless that client was opened
with expect_problems=True.

After a test that used wb_stack, services the test killed (or restarted with
test-specific env) are restarted, so a destructive test never breaks the next
one. A service that exited WITHOUT the test asking (stack.kill/terminate/
send_signal(SIGTERM...), or `stack.services[name].want_up = False` for
processes stopped by other means) fails that test with its log: crashes are
never hidden by the restart. When a test fails, the log lines every service wrote during that test are
attached to the report ("wb log: <service>" sections).

Attach mode: with WB_TEST_BASE_URL set (and optionally WB_TEST_GW1_URL,
WB_TEST_GW2_URL, WB_TEST_NATS_URL, WB_TEST_PG_URL, WB_TEST_NATS_MONITOR_URL,
WB_TEST_WORKER_URL), no process is started; tests that must kill or restart a
service are skipped with that reason, and a run with skipped tests fails
unless WB_TEST_ALLOW_SKIPS=1 is set (a skip is never counted as a pass).

WB_TEST_KEEP=1 keeps the temporary run dir (logs, data) after the session.
"""
from __future__ import annotations

import inspect
import os
import signal
import threading

import pytest

import wbclient
import wblib
from wbstack import BACKEND, AttachedStack, Stack, StackError

_STACK: Stack | None = None      # the session stack, for the report hook
_STACK_ERROR: str | None = None  # a failed start fails every later test at once


# --------------------------------------------------------------------------
# async tests (pytest-asyncio, asyncio_mode = auto in pytest.ini)

@pytest.fixture
async def _wb_clients():
    """Closes every WBClient an async test opened, then fails the test if any
    of them recorded a protocol problem (wbclient.WBClient.problems: duplicate
    or out-of-order ev, non-JSON frame, first message not welcome, reader
    crash...). A client opened with expect_problems=True is exempt."""
    wbclient.OPEN_CLIENTS.clear()
    yield
    clients = await wbclient.close_all()
    bad = wbclient.unexpected_problems(clients)
    if bad:
        pytest.fail(f"{len(bad)} protocol problem(s) recorded by the test's clients:\n"
                    + "\n".join(bad[:20]), pytrace=False)


@pytest.fixture(autouse=True)
def _wb_async_test(request):
    if inspect.iscoroutinefunction(getattr(request.node, "obj", None)):
        request.getfixturevalue("_wb_clients")


# --------------------------------------------------------------------------
# a skip is not a pass

_SKIPPED: list = []  # (nodeid, reason) of every skipped test


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    """A run that skipped any test fails (exit status 1): a layer that cannot
    run must be fixed, not silently left out. WB_TEST_ALLOW_SKIPS=1 accepts
    skips (attach mode against a stack you run yourself, local work)."""
    if _SKIPPED and exitstatus == 0 and os.environ.get("WB_TEST_ALLOW_SKIPS") != "1":
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _SKIPPED and os.environ.get("WB_TEST_ALLOW_SKIPS") != "1":
        terminalreporter.section("skipped tests fail the run", sep="=", red=True, bold=True)
        for nodeid, reason in _SKIPPED[:50]:
            terminalreporter.line(f"SKIPPED {nodeid}: {reason}")
        terminalreporter.line("Fix what made them skip, or set WB_TEST_ALLOW_SKIPS=1 to accept skips.")


# --------------------------------------------------------------------------
# the stack

def _attach_mode() -> bool:
    return bool(os.environ.get("WB_TEST_BASE_URL"))


@pytest.fixture(scope="session")
def _wb_stack_obj():
    """The Stack object, created lazily, torn down at session end."""
    global _STACK
    if _attach_mode():
        _STACK = AttachedStack()
        yield _STACK
        return
    st = Stack.create()
    _STACK = st
    st.start_reaper()
    # `timeout`/CI send SIGTERM: turn it into KeyboardInterrupt so that pytest
    # reports where it was and this teardown still stops the servers.
    prev = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    try:
        yield st
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, prev)
        problems = st.discard()
        if problems:
            raise RuntimeError("stack teardown:\n" + "\n".join(problems))


def _start(st: Stack, names) -> None:
    global _STACK_ERROR
    if _STACK_ERROR:
        pytest.fail(f"stack failed to start earlier in this session:\n{_STACK_ERROR}", pytrace=False)
    err = None
    try:
        for n in names:
            svc = st.services.get(n) if not st.attached else None
            if svc is not None and not svc.alive():
                st.start(n)
            elif st.attached:
                st.wait_ready(n)
    except StackError as e:
        err = _STACK_ERROR = str(e)
    if err:
        pytest.fail(f"could not start the stack: {err}", pytrace=False)


@pytest.fixture(scope="session")
def wb_stack(_wb_stack_obj):
    """nats, postgres, worker, gw-1, gw-2 running and ready (or an attached stack)."""
    _start(_wb_stack_obj, BACKEND)
    return _wb_stack_obj


@pytest.fixture(scope="session")
def wb_traefik(wb_stack):
    """wb_stack plus Traefik; use wb_traefik.base_url (https, self-signed)."""
    _start(wb_stack, ["traefik"])
    return wb_stack


@pytest.fixture(scope="session")
def wb_nats_url(wb_stack):
    return wb_stack.nats_url


@pytest.fixture
def wb_board():
    return wbclient.new_board()


@pytest.fixture
def wb_connect(wb_stack):
    """async factory for protocol clients on gw-1 / gw-2 / 'traefik'."""
    async def connect(gw: str, board: str, *, name: str | None = None, since=None,
                      subprotocol: str | None = wbclient.SUBPROTOCOL, wait_snapshot: bool = False,
                      timeout: float = 10, expect_problems: bool = False) -> wbclient.WBClient:
        url = wb_stack.ws_url(gw, board, since=since, name=name)
        return await wbclient.WBClient.open(url, subprotocol=subprotocol, wait_snapshot=wait_snapshot,
                                            timeout=timeout, label=f"{name or 'anon'}@{gw}",
                                            expect_problems=expect_problems)
    return connect


@pytest.fixture(scope="session")
def wb_pb2():
    """build/gen/py/whiteboard_pb2.py, generated by `make` (built here if missing)."""
    try:
        return wblib.load_pb2()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


# --------------------------------------------------------------------------
# per-test: restore the stack, remember log offsets, print logs on failure

@pytest.fixture(autouse=True)
def _wb_guard(request):
    if "wb_stack" not in request.fixturenames:
        yield
        return
    st = request.getfixturevalue("wb_stack")
    if st.attached:
        yield
        return
    offsets = request.node._wb_log_offsets = st.log_offsets()
    st.bad_exits()  # only exits from now on count for this test
    yield
    # a service that died without the test asking for it is a bug: report it
    crashed = st.crashed()
    logs = {n: st.log_since(n, offsets.get(n, 0), 40) for n in crashed}
    try:
        st.ensure_up()
    except StackError as e:
        global _STACK_ERROR
        _STACK_ERROR = f"could not restore the stack after {request.node.nodeid}: {e}"
        raise
    # every graceful stop (by the test or by ensure_up) must exit 0, and no log
    # may hold a sanitizer report
    bad = st.bad_exits()
    san = st.sanitizer_since(offsets)
    msgs = []
    if crashed:
        msgs.append("service(s) died during the test (restarted since): "
                    + ", ".join(f"{n} exit status {rc}" for n, rc in crashed.items()) + "\n"
                    + "\n".join(f"--- {n} ---\n{t}" for n, t in logs.items()))
    if bad:
        msgs.append("unclean exit(s): " + "; ".join(bad))
    for n, reps in san.items():
        msgs.append(f"{n}: {len(reps)} sanitizer report(s) in {st.log_path(n)}:\n{reps[0]}")
    if msgs:
        pytest.fail("\n".join(msgs), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed or _STACK is None or _STACK.attached:
        return
    offsets = getattr(item, "_wb_log_offsets", None)
    if offsets is None:
        offsets = {}
    for name in _STACK.services:
        text = _STACK.log_since(name, offsets.get(name, 0), max_lines=80)
        if text.strip():
            rep.sections.append((f"wb log: {name} ({rep.when})", text))
