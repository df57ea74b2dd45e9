"""`make run` under its process supervisor (scripts/run.sh -> supervisord,
configuration from scripts/supervise.sh), as a user runs it: every port from
the environment, its own temporary WB_RUN_DIR.

While clients draw through Traefik, the worker, nats-server and PostgreSQL
are each killed with SIGKILL, one at a time: the supervisor restarts each
(a new pid, healthy again), and nothing acked is lost (scripts/drill.py
compares every client with PostgreSQL). Then SIGINT sent to make's pid alone
(not to its process group: GNU make then waits for its recipe instead of
passing the signal on; scripts/run.sh notices) stops every service, each
exiting cleanly, and leaves no process behind. Timings are printed.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import drill  # scripts/drill.py (pytest.ini pythonpath)
from wbstack import BUILD_DIR, ROOT, free_port, http_get
from wblib import stack_env

pytestmark = [pytest.mark.timeout(600), pytest.mark.destructive, pytest.mark.slow]

CLIENTS = int(os.environ.get("WB_SUPERVISOR_CLIENTS", "60"))


class MakeRun:
    """`make run` in the foreground of a subprocess (its own session)."""

    def __init__(self):
        self.run_dir = Path(tempfile.mkdtemp(prefix="wb-run-"))
        os.chmod(self.run_dir, 0o755)
        taken: set = set()
        p = lambda **k: free_port(taken=taken, **k)  # noqa: E731
        env = stack_env()
        self.env = env
        env.update({
            "WB_RUN_DIR": str(self.run_dir), "WB_BUILD_DIR": str(BUILD_DIR),
            "WB_HTTPS_PORT": str(p(udp_too=True)), "WB_HTTP_PORT": str(p()), "WB_DASHBOARD_PORT": str(p()),
            "WB_GW1_PORT": str(p()), "WB_GW2_PORT": str(p()), "WB_NATS_PORT": str(p()),
            "WB_NATS_MONITOR_PORT": str(p()), "WB_PG_PORT": str(p()), "WB_WORKER_PORT": str(p()),
            "WB_LOG_LEVEL": "info",
        })
        self.log = open(self.run_dir / "make-run.log", "wb")
        # SIGINT at its default in make, as from a terminal: a shell's background
        # job (`pytest ... &`) would otherwise pass on an ignored SIGINT.
        self.proc = subprocess.Popen(["make", "-s", "--no-print-directory", "run"], cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def url(self, what: str) -> str:
        e = self.env
        return {"traefik": f"https://127.0.0.1:{e['WB_HTTPS_PORT']}",
                "gw-1": f"http://127.0.0.1:{e['WB_GW1_PORT']}", "gw-2": f"http://127.0.0.1:{e['WB_GW2_PORT']}",
                "worker": f"http://127.0.0.1:{e['WB_WORKER_PORT']}",
                "nats": f"http://127.0.0.1:{e['WB_NATS_MONITOR_PORT']}"}[what]

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(ROOT / "scripts" / "supervise.sh"), "ctl", *args], env=self.env,
                              capture_output=True, text=True, timeout=60)

    def pid(self, name: str) -> int:
        r = self.ctl("pid", name)
        return int(r.stdout.strip()) if r.stdout.strip().isdigit() else 0

    def output(self) -> str:
        return (self.run_dir / "make-run.log").read_text(errors="replace")[-6000:]

    def healthy(self, what: str) -> bool:
        try:
            path = "/healthz?js-enabled-only=true" if what == "nats" else "/healthz"
            return http_get(self.url(what) + path, timeout=2).status == 200
        except OSError:
            return False

    def pg_ready(self) -> bool:
        import psycopg
        try:
            with psycopg.connect(host="127.0.0.1", port=int(self.env["WB_PG_PORT"]), user="postgres",
                                 dbname="postgres", connect_timeout=2,
                                 passfile=str(self.run_dir / "secrets" / "pgpass")):
                return True
        except psycopg.Error:
            return False

    def wait(self, cond, what: str, timeout: float = 180) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            assert self.proc.poll() is None, f"make run exited {self.proc.returncode}:\n{self.output()}"
            if cond():
                return time.monotonic() - t0
            time.sleep(0.2)
        raise AssertionError(f"{what} not within {timeout}s\n{self.output()}")

    def stop(self) -> int | None:
        """SIGINT to make's pid alone; make's exit status (-SIGINT: killed by
        it, as make re-raises the signal once its recipe has ended)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
                return None
        return self.proc.returncode

    def leftovers(self) -> list:
        """pids of live processes whose environment names this run dir."""
        marker = f"WB_RUN_DIR={self.run_dir}".encode()
        found = []
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) != os.getpid():
                try:
                    with open(f"/proc/{d}/environ", "rb") as f:
                        if marker in f.read().split(b"\0"):
                            found.append(int(d))
                except OSError:
                    pass
        return found


@pytest.fixture(scope="module")
def make_run():
    if not shutil.which("supervisord"):
        pytest.fail("supervisord missing: scripts/deps.sh installs Debian's supervisor")
    mr = MakeRun()
    try:
        mr.wait(lambda: mr.healthy("traefik") and mr.healthy("gw-1") and mr.healthy("gw-2")
                and mr.healthy("worker"), "the stack up and healthy through Traefik", 240)
        yield mr
    finally:
        rc = mr.stop()
        t_end = time.monotonic() + 5   # run.sh's watcher notices supervisord's end within 0.5 s
        while (left := mr.leftovers()) and time.monotonic() < t_end:
            time.sleep(0.2)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        mr.log.close()
        out = mr.output()
        if os.environ.get("WB_TEST_KEEP") != "1":
            shutil.rmtree(mr.run_dir, ignore_errors=True)
    # after the module: a clean stop is part of the contract
    assert rc == -signal.SIGINT, f"make run exited {rc} on SIGINT:\n{out}"
    assert not left, f"processes left after make run stopped: {left}"
    final = out[out.rfind("received SIGINT"):] if "received SIGINT" in out else ""
    stopped = [line for line in final.splitlines() if "stopped: " in line]
    assert final, f"supervisord never got the SIGINT:\n{out}"
    names = {line.split("stopped: ")[1].split()[0] for line in stopped}
    assert names >= {"nats", "postgres", "worker", "gw-1", "gw-2", "traefik"}, final
    assert all("(exit status 0)" in line for line in stopped), \
        "a service did not exit cleanly on stop:\n" + "\n".join(stopped)


@pytest.mark.parametrize("svc", ["worker", "nats", "postgres"])
def test_kill9_under_load_is_restarted_and_loses_nothing(make_run, svc):
    mr = make_run
    old = mr.pid(svc)
    assert old > 0, mr.ctl("status").stdout
    info = {}
    ready = {"worker": lambda: mr.healthy("worker"), "nats": lambda: mr.healthy("nats"),
             "postgres": mr.pg_ready}[svc]

    def take_down():
        t0 = time.monotonic()
        os.kill(old, signal.SIGKILL)
        info["new_pid_s"] = round(mr.wait(lambda: mr.pid(svc) not in (0, old), f"{svc} restarted"), 2)
        info["ready_s"] = round(mr.wait(ready, f"{svc} ready again") + info["new_pid_s"], 2)
        info["total_s"] = round(time.monotonic() - t0, 2)
        return info

    rep = asyncio.run(drill.run_drill(
        mr.url("traefik"), clients=CLIENTS, boards=10, rate=1.0, before=3.0, after=6.0,
        take_down=take_down, cafile=str(mr.run_dir / "tls" / "ca.pem"), balance_probe=0,
        settle_timeout=120.0))
    print(f"\nkill -9 {svc} (pid {old}) under make run: restarted as pid {mr.pid(svc)}: {json.dumps(info)}; "
          f"pause clients saw: ack p50 {rep['ack_p50_ms']} ms, p99 {rep['ack_p99_ms']} ms, "
          f"max {rep['ack_max_ms']} ms\n" + json.dumps(rep, indent=2))
    status = mr.ctl("status").stdout
    assert all(" RUNNING " in line for line in status.splitlines() if line.strip()), status
    assert rep["ops_acked"] > 0
    assert rep["ops_unacked_at_end"] == 0, "some ops were never acked"
    assert rep["acked_ops_lost"] == 0, "acked ops lost"
    assert rep["duplicate_strokes_in_final_board"] == 0, "an op was applied twice"
    assert rep["ops_delivered_twice"] == 0, "an op reached a client twice"
    assert rep["protocol_problem_count"] == 0, rep["protocol_problems"]
    assert rep["clients_converged"] == CLIENTS, rep["clients_diverged"]


def test_takedown_and_bringback_are_supervisor_stop_and_start(make_run):
    mr = make_run
    env = mr.env
    for mode in ("term", "kill"):
        r = subprocess.run(["bash", str(ROOT / "scripts" / "takedown.sh"), "GW=gw-2", f"MODE={mode}"],
                           env=env, capture_output=True, text=True, timeout=90)
        assert r.returncode == 0, r.stdout + r.stderr
        time.sleep(2)   # give a (wrong) restart the chance to happen
        st = mr.ctl("status", "gw-2").stdout
        assert "STOPPED" in st, f"after MODE={mode}: {st}\n{r.stdout}"
        assert not mr.healthy("gw-2")
        r = subprocess.run(["bash", str(ROOT / "scripts" / "bringback.sh"), "GW=gw-2"],
                           env=env, capture_output=True, text=True, timeout=90)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "RUNNING" in mr.ctl("status", "gw-2").stdout
        assert mr.healthy("gw-2")
        pid = int((mr.run_dir / "gw-2.pid").read_text())
        assert pid == mr.pid("gw-2"), "gw-2.pid is not the supervised gateway"
        print(f"\nMODE={mode}: {r.stdout.strip()}")
