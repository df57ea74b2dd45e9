"""Real-process test stack for the whiteboard (used by tests/conftest.py).

A `Stack` owns REAL server processes started through the project's own
scripts (scripts/svc/<service>.sh), each on a free port chosen at start and
with its own temporary WB_RUN_DIR. Nothing is mocked.

    stack = Stack.create()            # picks ports, makes the run dir
    stack.start("nats", "postgres", "worker", "gw-1", "gw-2")
    stack.kill("gw-1")                # kill -9 (the whole process group)
    rc = stack.terminate("gw-2")      # SIGTERM, returns the exit status
    stack.restart("gw-2", extra_env={"WB_SENDQ_MAX": "64"})
    stack.ensure_up()                 # restart whatever should run but died
    stack.stop_all()                  # SIGTERM, then SIGKILL, no orphans

Scaled stacks: `Stack.create(nats_nodes=3, gateways=4, workers=2)` names the
services nats-1..nats-3 (a JetStream cluster, WB_OPS with 3 replicas),
gw-1..gw-4 and worker-1, worker-2 (`stack.order` lists them in start order;
`stack.backend` is everything but Traefik). The defaults are the names above.

Every service logs to <run dir>/logs/<service>.log; `log_since()` returns what
was written after an offset (conftest prints it when a test fails).

Attach mode (`AttachedStack`): if WB_TEST_BASE_URL is set, the tests use an
already running stack instead (URLs from WB_TEST_* variables, falling back to
the WB_* ports of scripts/env.sh). Process control then raises pytest.skip
with an explicit reason.

A missing script or binary is an error, never a silent skip.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from wblib import Resp, free_port, http_get, sanitizer_reports, stack_env  # noqa: F401 - Resp, http_get re-exported

ROOT = Path(__file__).resolve().parent.parent
SVC_DIR = ROOT / "scripts" / "svc"
BUILD_DIR = Path(os.environ.get("WB_BUILD_DIR", ROOT / "build"))

# Start order (dependencies first). Traefik only when asked for.
ORDER = ["nats", "postgres", "worker", "gw-1", "gw-2", "traefik"]
BACKEND = ["nats", "postgres", "worker", "gw-1", "gw-2"]

START_TIMEOUT = float(os.environ.get("WB_TEST_START_TIMEOUT", "40"))


class StackError(RuntimeError):
    """A service could not be started / is not ready. The message has its log."""


# --------------------------------------------------------------------------
def nats_url_as(url: str, run_dir: Path, user: str) -> str:
    """url (or a comma-separated list of URLs) with the credentials of NATS
    user `user` of the stack in run_dir (its password is made by
    scripts/svc/nats.sh in run_dir/secrets)."""
    pw = (Path(run_dir) / "secrets" / f"nats-{user}").read_text().strip()
    out = []
    for one in url.split(","):
        u = urllib.parse.urlsplit(one.strip())
        out.append(urllib.parse.urlunsplit((u.scheme, f"{user}:{pw}@{u.hostname}:{u.port}", u.path, "", "")))
    return ",".join(out)


def pg_url_with_passfile(url: str, run_dir: Path) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}passfile={Path(run_dir) / 'secrets' / 'pgpass'}"


# services


@dataclass
class Service:
    name: str
    argv: list
    ready: Callable[["Stack"], bool]   # True when ready; may raise (treated as not ready)
    what: str                          # readiness description for messages
    proc: subprocess.Popen | None = None
    want_up: bool = False              # the stack considers it should be running
    extra_env: dict = field(default_factory=dict)
    starts: int = 0
    env: dict = field(default_factory=dict)   # this instance's own settings (worker id, port)
    stop_sig: int | None = None        # the signal the stack (or a test) last sent to stop it
    exit_seen: bool = False            # its exit has been reported (crashed() / bad_exits())

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _ok(url: str, status: int = 200, timeout: float = 1.0) -> bool:
    return http_get(url, timeout=timeout).status == status


def _pg_ready(st: "Stack") -> bool:
    import psycopg
    with psycopg.connect(host="127.0.0.1", port=st.ports["pg"], user=st.env["WB_PG_USER"],
                         dbname="postgres", connect_timeout=1,
                         passfile=str(Path(st.run_dir) / "secrets" / "pgpass")):
        return True


# A tiny watchdog (own session, no stack marker in its environment): when the
# owning pytest process disappears without tearing the stack down (killed by a
# CI timeout, SIGKILL...), it kills every process carrying the stack's marker
# and removes the run dir, so a killed test run never leaves servers behind.
_REAPER = r"""
import os, signal, sys, time, shutil
owner, marker, run_dir, keep = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], sys.argv[4] == "1"
def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b")")[-1].split()[0] != b"Z"
    except OSError:
        return False
def marked():
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out
while alive(owner):
    time.sleep(1)
for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 1)):
    pids = marked()
    for p in pids:
        try: os.kill(p, sig)
        except OSError: pass
    t = time.time() + wait
    while pids and time.time() < t and marked():
        time.sleep(0.2)
if not keep:
    shutil.rmtree(run_dir, ignore_errors=True)
"""


class Stack:
    attached = False
    reaper: subprocess.Popen | None = None

    def __init__(self, run_dir: Path, ports: dict, extra_env: dict | None = None,
                 nats_nodes: int = 1, gateways: int = 2, workers: int = 1):
        self.nats_nodes, self.n_gateways, self.n_workers = nats_nodes, gateways, workers
        self.run_dir = run_dir
        self.log_dir = run_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.ports = ports
        self.stack_id = uuid.uuid4().hex
        # Never inherit another stack's settings from the caller's environment.
        env = stack_env()
        env.update({
            "WB_ROOT": str(ROOT),
            "WB_RUN_DIR": str(run_dir),
            "WB_BUILD_DIR": str(BUILD_DIR),
            "WB_HOST": "127.0.0.1",
            "WB_HTTPS_PORT": str(ports["https"]),
            "WB_HTTP_PORT": str(ports["http"]),
            "WB_DASHBOARD_PORT": str(ports["dashboard"]),
            "WB_GW1_PORT": str(ports["gw-1"]),
            "WB_GW2_PORT": str(ports["gw-2"]),
            "WB_NATS_PORT": str(ports["nats"]),
            "WB_NATS_MONITOR_PORT": str(ports["nats_mon"]),
            "WB_PG_PORT": str(ports["pg"]),
            "WB_WORKER_PORT": str(ports["worker"]),
            "WB_PG_DB": "whiteboard",
            "WB_PG_USER": "postgres",
            "WB_NATS_URL": f"nats://127.0.0.1:{ports['nats']}",
            "WB_PG_URL": f"postgresql://postgres@127.0.0.1:{ports['pg']}/whiteboard",
            "WB_LOG_LEVEL": os.environ.get("WB_TEST_LOG_LEVEL", "info"),
            # marks every process we start (and its children) for orphan hunting
            "WB_TEST_STACK_ID": self.stack_id,
            "WB_NATS_NODES": str(nats_nodes),
            "WB_GATEWAYS": str(gateways),
            "WB_WORKERS": str(workers),
        })
        if nats_nodes > 1:
            for i in range(1, nats_nodes + 1):
                env[f"WB_NATS_PORT_{i}"] = str(ports[f"nats-{i}"])
                env[f"WB_NATS_MONITOR_PORT_{i}"] = str(ports[f"nats_mon-{i}"])
                env[f"WB_NATS_CLUSTER_PORT_{i}"] = str(ports[f"nats_cluster-{i}"])
            host = lambda i: (extra_env or {}).get(f"WB_NATS_HOST_{i}", "127.0.0.1")  # noqa: E731
            env["WB_NATS_URL"] = ",".join(f"nats://{host(i)}:{ports[f'nats-{i}']}"
                                          for i in range(1, nats_nodes + 1))
            env["WB_STREAM_REPLICAS"] = "3" if nats_nodes >= 3 else "1"
        for i in range(3, gateways + 1):
            env[f"WB_GW{i}_PORT"] = str(ports[f"gw-{i}"])
        env.update(extra_env or {})
        self.env = env
        nats = ["nats"] if nats_nodes == 1 else [f"nats-{i}" for i in range(1, nats_nodes + 1)]
        wks = ["worker"] if workers == 1 else [f"worker-{i}" for i in range(1, workers + 1)]
        gws = [f"gw-{i}" for i in range(1, gateways + 1)]
        self.order = nats + ["postgres"] + wks + gws + ["traefik"]
        self.backend = self.order[:-1]
        self.services: dict[str, Service] = {}
        for name in self.order:
            self.services[name] = self._make_service(name)

    # ---- construction -------------------------------------------------
    @classmethod
    def create(cls, extra_env: dict | None = None, nats_nodes: int = 1, gateways: int = 2,
               workers: int = 1) -> "Stack":
        run_dir = Path(tempfile.mkdtemp(prefix="wb-test-"))
        # postgres runs as the postgres user and must traverse the run dir
        os.chmod(run_dir, 0o755)
        taken: set = set()
        ports = {
            "https": free_port(udp_too=True, taken=taken),
            "http": free_port(taken=taken),
            "dashboard": free_port(taken=taken),
            "gw-1": free_port(taken=taken),
            "gw-2": free_port(taken=taken),
            "nats": free_port(taken=taken),
            "nats_mon": free_port(taken=taken),
            "pg": free_port(taken=taken),
            "worker": free_port(taken=taken),
        }
        for i in range(3, gateways + 1):
            ports[f"gw-{i}"] = free_port(taken=taken)
        for i in range(2, workers + 1):
            ports[f"worker-{i}"] = free_port(taken=taken)
        if workers > 1:
            ports["worker-1"] = ports["worker"]
        if nats_nodes > 1:
            for i in range(1, nats_nodes + 1):
                ports[f"nats-{i}"] = ports["nats"] if i == 1 else free_port(taken=taken)
                ports[f"nats_mon-{i}"] = ports["nats_mon"] if i == 1 else free_port(taken=taken)
                ports[f"nats_cluster-{i}"] = free_port(taken=taken)
        return cls(run_dir, ports, extra_env, nats_nodes=nats_nodes, gateways=gateways, workers=workers)

    def _make_service(self, name: str) -> Service:
        sh = lambda script, *a: ["bash", str(SVC_DIR / script), *a]  # noqa: E731
        if name == "nats":
            return Service(name, sh("nats.sh"), lambda s: _ok(s.nats_monitor_url + "/healthz?js-enabled-only=true"),
                           "nats monitor /healthz 200")
        if name.startswith("nats-"):
            i = int(name[5:])
            return Service(name, sh("nats.sh", str(i)),
                           lambda s, i=i: _ok(s.nats_node_monitor_url(i) + "/healthz?js-enabled-only=true"),
                           f"{name} monitor /healthz 200")
        if name.startswith("worker-"):
            i = int(name[7:])
            return Service(name, sh("worker.sh"), lambda s, n=name: _ok(s.worker_node_url(n) + "/healthz"),
                           f"{name} /healthz 200",
                           env={"WB_WORKER_ID": name, "WB_WORKER_PORT": str(self.ports[name])})
        if name == "postgres":
            return Service(name, sh("postgres.sh"), _pg_ready, "postgres accepts connections")
        if name == "worker":
            return Service(name, sh("worker.sh"), lambda s: _ok(s.worker_url + "/healthz"), "worker /healthz 200")
        if name.startswith("gw-"):
            return Service(name, sh("gateway.sh", name), lambda s, n=name: _ok(s.gw_url(n) + "/healthz"),
                           f"{name} /healthz 200")
        if name == "traefik":
            return Service(name, sh("traefik.sh"), lambda s: _ok(s.base_url + "/healthz"),
                           "GET https /healthz through Traefik 200")
        raise KeyError(name)

    def start_reaper(self) -> None:
        """Clean up after this process if it dies without stop_all()."""
        if self.reaper is not None:
            return
        env = {k: v for k, v in os.environ.items() if k != "WB_TEST_STACK_ID"}
        self.reaper = subprocess.Popen(
            [sys.executable, "-c", _REAPER, str(os.getpid()), f"WB_TEST_STACK_ID={self.stack_id}",
             str(self.run_dir), os.environ.get("WB_TEST_KEEP", "0")],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)

    # ---- addresses ------------------------------------------------------
    def nats_node_host(self, i: int) -> str:
        return self.env.get(f"WB_NATS_HOST_{i}", "127.0.0.1")

    def nats_node_monitor_url(self, i: int) -> str:
        return f"http://{self.nats_node_host(i)}:{self.ports[f'nats_mon-{i}']}"

    def nats_node_url(self, i: int) -> str:
        return f"nats://{self.nats_node_host(i)}:{self.ports[f'nats-{i}']}"

    def worker_node_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def gw_url(self, gw: str) -> str:
        return f"http://127.0.0.1:{self.ports[gw]}"

    @property
    def base_url(self) -> str:
        """Traefik HTTPS (needs the wb_traefik fixture)."""
        return f"https://127.0.0.1:{self.ports['https']}"

    @property
    def nats_url(self) -> str:
        """NATS as user admin (scripts/svc/nats.sh: everything but wb.rp.>)."""
        return nats_url_as(self.env["WB_NATS_URL"], self.run_dir, "admin")

    @property
    def nats_monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['nats_mon']}"

    @property
    def pg_url(self) -> str:
        """libpq URL; the password comes from the stack's password file
        (scripts/svc/postgres.sh: scram-sha-256), never from the URL."""
        return pg_url_with_passfile(self.env["WB_PG_URL"], self.run_dir)

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['worker']}"

    def ws_url(self, gw: str, board: str, since=None, name=None) -> str:
        """ws URL of /ws/{board} on gateway gw ('gw-1', 'gw-2' or 'traefik')."""
        if gw == "traefik":
            base = "wss://127.0.0.1:%d" % self.ports["https"]
        else:
            base = "ws://127.0.0.1:%d" % self.ports[gw]
        q = {}
        if since is not None:
            q["since"] = str(since)
        if name is not None:
            q["name"] = name
        url = f"{base}/ws/{board}"
        if q:
            url += "?" + urllib.parse.urlencode(q)
        return url

    def gateways(self) -> list:
        return [f"gw-{i}" for i in range(1, self.n_gateways + 1)]

    # ---- logs -------------------------------------------------------------
    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def log_offsets(self) -> dict:
        out = {}
        for name in self.services:
            p = self.log_path(name)
            out[name] = p.stat().st_size if p.exists() else 0
        return out

    def log_since(self, name: str, offset: int = 0, max_lines: int = 150) -> str:
        p = self.log_path(name)
        if not p.exists():
            return ""
        with open(p, "rb") as f:
            f.seek(offset)
            data = f.read().decode("utf-8", "replace")
        lines = data.splitlines()
        if len(lines) > max_lines:
            lines = [f"... ({len(lines) - max_lines} earlier lines in {p})"] + lines[-max_lines:]
        return "\n".join(lines)

    # ---- process control ----------------------------------------------------
    def _check_prereqs(self, name: str) -> None:
        svc = self.services[name]
        script = Path(next(a for a in svc.argv if a.endswith(".sh")))   # argv may have a prefix (ip netns exec)
        if not script.exists():
            raise StackError(f"{name}: {script.relative_to(ROOT)} does not exist (the project must provide it)")
        need = ("wb-gateway" if name.startswith("gw-") else
                "wb-worker" if name.startswith("worker") else None)
        if need and not (BUILD_DIR / need).exists():
            raise StackError(f"{name}: {BUILD_DIR / need} does not exist: run `make` first")

    def start(self, *names: str, extra_env: dict | None = None, wait: bool = True) -> None:
        for n in names:
            self._spawn(n, extra_env)
            if wait:
                self.wait_ready(n)

    def _spawn(self, name: str, extra_env: dict | None = None) -> None:
        svc = self.services[name]
        if svc.alive():
            raise StackError(f"{name} is already running (pid {svc.pid})")
        self._check_prereqs(name)
        svc.extra_env = dict(extra_env or {})
        env = dict(self.env)
        env.update(svc.env)
        env.update(svc.extra_env)
        log = open(self.log_path(name), "ab", buffering=0)
        log.write(f"\n===== wb-test: start {name} #{svc.starts + 1} at {time.strftime('%H:%M:%S')} "
                  f"extra_env={svc.extra_env} =====\n".encode())
        svc.proc = subprocess.Popen(svc.argv, cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        svc.starts += 1
        svc.want_up = True
        svc.stop_sig = None
        svc.exit_seen = False

    def wait_ready(self, name: str, timeout: float = START_TIMEOUT) -> None:
        svc = self.services[name]
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not svc.alive():
                rc = svc.proc.returncode if svc.proc else None
                raise StackError(f"{name} exited with status {rc} before it was ready ({svc.what})\n"
                                 f"--- {self.log_path(name)} ---\n{self.log_since(name, 0, 60)}")
            try:
                if svc.ready(self):
                    return
            except Exception as e:  # noqa: BLE001 - any failure means "not yet"
                last = e
            time.sleep(0.1)
        raise StackError(f"{name} not ready after {timeout:.0f}s ({svc.what}); last error: {last!r}\n"
                         f"--- {self.log_path(name)} ---\n{self.log_since(name, 0, 60)}")

    def send_signal(self, name: str, sig: int, group: bool = False) -> None:
        """Send sig to the service (its group if asked). SIGTERM/SIGINT/SIGQUIT/
        SIGKILL mark it as expected to exit (not counted as a crash)."""
        svc = self.services[name]
        if not svc.alive():
            raise StackError(f"{name} is not running")
        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            svc.want_up = False
            svc.stop_sig = sig
        if group:
            os.killpg(svc.pid, sig)
        else:
            os.kill(svc.pid, sig)

    def kill(self, name: str, timeout: float = 10) -> int:
        """kill -9 the service (its whole process group); returns the exit status."""
        svc = self.services[name]
        svc.want_up = False
        if not svc.alive():
            return svc.proc.returncode if svc.proc else 0
        svc.stop_sig = signal.SIGKILL
        try:
            os.killpg(svc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        rc = svc.proc.wait(timeout)
        self._reap_stragglers(name)
        return rc

    def terminate(self, name: str, timeout: float = 20, sig: int = signal.SIGTERM) -> int:
        """SIGTERM the service's main process, wait for it, SIGKILL if it hangs.

        Returns the exit status (negative = killed by that signal). A graceful
        stop that does not exit 0 is reported by bad_exits()."""
        svc = self.services[name]
        svc.want_up = False
        if not svc.alive():
            return svc.proc.returncode if svc.proc else 0
        svc.stop_sig = sig
        os.kill(svc.pid, sig)
        try:
            rc = svc.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(svc.pid, signal.SIGKILL)
            svc.proc.wait(5)
            rc = None
            self._reap_stragglers(name)
            raise StackError(f"{name} did not exit within {timeout}s of signal {sig}; killed")
        self._reap_stragglers(name)
        return rc

    def restart(self, name: str, extra_env: dict | None = None, hard: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL if hard) and start again, waiting until ready."""
        if self.services[name].alive():
            (self.kill if hard else self.terminate)(name)
        self.start(name, extra_env=extra_env)

    def crashed(self) -> dict:
        """Services that should be running but exited: name -> exit status."""
        out = {n: s.proc.returncode for n, s in self.services.items()
               if s.want_up and s.proc is not None and s.proc.poll() is not None}
        for n in out:
            self.services[n].exit_seen = True
        return out

    def bad_exits(self) -> list:
        """Services stopped gracefully (SIGTERM/SIGINT, by terminate() or
        send_signal()) that exited with a status other than 0, each reported
        once: "name: exit status rc after SIGTERM"."""
        out = []
        for n, s in self.services.items():
            if s.proc is None or s.exit_seen or s.proc.poll() is None:
                continue
            if s.stop_sig not in (signal.SIGTERM, signal.SIGINT):
                continue
            s.exit_seen = True
            if s.proc.returncode != 0:
                out.append(f"{n}: exit status {s.proc.returncode} after {signal.Signals(s.stop_sig).name} "
                           f"(a graceful stop must exit 0)")
        return out

    def sanitizer_since(self, offsets: dict | None = None) -> dict:
        """name -> sanitizer reports (ASan, LSan, UBSan...) its log has after offsets[name]."""
        out = {}
        for n in self.services:
            reps = sanitizer_reports(self.log_since(n, (offsets or {}).get(n, 0), max_lines=10**9))
            if reps:
                out[n] = reps
        return out

    def ensure_up(self) -> list:
        """Restart (in dependency order) every service that should be up but is
        not running, or that runs with test-specific extra env. Returns names."""
        fixed = []
        for name in self.order:
            svc = self.services[name]
            if not svc.starts:
                continue
            if svc.alive() and not svc.extra_env:
                continue
            if svc.alive():
                self.terminate(name)
            self.start(name)
            fixed.append(name)
        return fixed

    def _reap_stragglers(self, name: str) -> None:
        svc = self.services[name]
        if svc.proc is None:
            return
        try:
            os.killpg(svc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def orphans(self) -> list:
        """pids of live processes that carry this stack's id in their environment."""
        me = os.getpid()
        marker = f"WB_TEST_STACK_ID={self.stack_id}".encode()
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == me:
                continue
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        with open(f"/proc/{d}/stat", "rb") as s:
                            if s.read().split(b")")[-1].split()[0] == b"Z":
                                continue
                        found.append(int(d))
            except OSError:
                continue
        return found

    def stop_all(self) -> list:
        """SIGTERM every service in reverse order, SIGKILL what hangs, then kill
        any process still carrying this stack's id. Returns those orphan pids.
        Afterwards `stop_problems` lists every service that hung, did not exit
        0 or wrote a sanitizer report to its log during the whole session."""
        self.stop_problems = []
        for name in reversed(self.order):
            svc = self.services[name]
            if svc.alive():
                try:
                    self.terminate(name, timeout=15)
                except StackError as e:
                    self.stop_problems.append(str(e))
        self.stop_problems += self.bad_exits()
        for n, reps in self.sanitizer_since(None).items():
            self.stop_problems.append(f"{n}: {len(reps)} sanitizer report(s) in {self.log_path(n)}:\n{reps[0]}")
        orphans = self.orphans()
        for pid in orphans:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.reaper is not None and self.reaper.poll() is None:
            self.reaper.kill()
            self.reaper.wait(5)
        return orphans


    def discard(self) -> list:
        """stop_all(), then remove the run dir unless WB_TEST_KEEP=1 or something
        went wrong. Returns what went wrong, one line each: stop_problems and
        the orphan processes found (and killed)."""
        orphans = self.stop_all()
        problems = list(self.stop_problems)
        if orphans:
            problems.append(f"stack teardown found orphan processes (killed): {orphans}")
        if os.environ.get("WB_TEST_KEEP") == "1" or problems:
            print(f"\nwb stack run dir kept: {self.run_dir}")
        else:
            # postgres leaves files owned by the postgres user: rm as root is fine
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return problems


class AttachedStack(Stack):
    """A stack somebody else runs. Addresses come from WB_TEST_* variables
    (falling back to the WB_* ports of scripts/env.sh); no process control."""

    attached = True

    def __init__(self):  # noqa: D401 - no super().__init__: no processes
        e = os.environ
        d = lambda k, v: int(e.get(k, v))  # noqa: E731
        self.ports = {
            "https": d("WB_HTTPS_PORT", 8443), "http": d("WB_HTTP_PORT", 8080),
            "dashboard": d("WB_DASHBOARD_PORT", 8081), "gw-1": d("WB_GW1_PORT", 9001),
            "gw-2": d("WB_GW2_PORT", 9002), "nats": d("WB_NATS_PORT", 4222),
            "nats_mon": d("WB_NATS_MONITOR_PORT", 8222), "pg": d("WB_PG_PORT", 5433),
            "worker": d("WB_WORKER_PORT", 9101),
        }
        self._base = e["WB_TEST_BASE_URL"].rstrip("/")
        self._gw = {"gw-1": e.get("WB_TEST_GW1_URL", f"http://127.0.0.1:{self.ports['gw-1']}").rstrip("/"),
                    "gw-2": e.get("WB_TEST_GW2_URL", f"http://127.0.0.1:{self.ports['gw-2']}").rstrip("/")}
        self.env = {
            "WB_NATS_URL": e.get("WB_TEST_NATS_URL", f"nats://127.0.0.1:{self.ports['nats']}"),
            "WB_PG_URL": e.get("WB_TEST_PG_URL", f"postgresql://postgres@127.0.0.1:{self.ports['pg']}/whiteboard"),
            "WB_PG_USER": "postgres",
        }
        self._nats_mon = e.get("WB_TEST_NATS_MONITOR_URL", f"http://127.0.0.1:{self.ports['nats_mon']}")
        self._worker = e.get("WB_TEST_WORKER_URL", f"http://127.0.0.1:{self.ports['worker']}")
        self.services = {}
        self.run_dir = None
        self.log_dir = None

    def gw_url(self, gw):
        return self._gw[gw]

    @property
    def base_url(self):
        return self._base

    @property
    def nats_monitor_url(self):
        return self._nats_mon

    @property
    def nats_url(self):
        """WB_TEST_NATS_URL as given (with the admin user's credentials in it)."""
        return self.env["WB_NATS_URL"]

    @property
    def pg_url(self):
        """WB_TEST_PG_URL as given (libpq finds the password through PGPASSFILE)."""
        return self.env["WB_PG_URL"]

    @property
    def worker_url(self):
        return self._worker

    def ws_url(self, gw, board, since=None, name=None):
        base = self._base if gw == "traefik" else self._gw[gw]
        base = base.replace("https://", "wss://").replace("http://", "ws://")
        q = {}
        if since is not None:
            q["since"] = str(since)
        if name is not None:
            q["name"] = name
        return f"{base}/ws/{board}" + ("?" + urllib.parse.urlencode(q) if q else "")

    def _no(self, *a, **k):
        import pytest
        pytest.skip("attach mode (WB_TEST_BASE_URL set): this test needs to control processes")

    start = kill = terminate = restart = send_signal = _no

    def wait_ready(self, name, timeout=START_TIMEOUT):
        pass

    def ensure_up(self):
        return []

    def log_offsets(self):
        return {}

    def log_since(self, *a, **k):
        return ""

    def stop_all(self):
        self.stop_problems = []
        return []

    def orphans(self):
        return []
