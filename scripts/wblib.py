"""Python helpers shared by the end-to-end tests (tests/) and scripts/drill.py.

Only small, dependency-free helpers live here: ids, strokes, HTTP GET,
Prometheus text, waiting for a condition, sanitizer reports in logs. The
board-state rule (fold) is not here: it has one Python home of its own.

Import it as `import wblib`: scripts/drill.py finds it next to itself, pytest
through `pythonpath` in pytest.ini (no sys.path edits anywhere).
"""
from __future__ import annotations

import base64
import http.client
import importlib.util
import os
import random
import re
import secrets
import socket
import ssl
import string
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ALNUM = string.ascii_letters + string.digits + "_-"


# --------------------------------------------------------------------------
# ids and strokes

def rid(n: int = 12, prefix: str = "") -> str:
    """A random id made of [A-Za-z0-9_-] (valid for boards, ops, strokes)."""
    return prefix + "".join(random.choice(ALNUM) for _ in range(n))


def new_board() -> str:
    """A fresh random board id (22 chars base64url, like the app's)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def make_stroke(points=None, sid=None, color="#1e1e1e", width=4, n=3, by=None) -> dict:
    """A stroke as a client sends it (random short zigzag unless points given)."""
    if points is None:
        x0 = random.randint(0, 1000)
        y0 = random.randint(0, 1000)
        points = []
        for i in range(n):
            points += [x0 + 10 * i, y0 + 5 * i]
    s = {"id": sid or rid(10, "s"), "color": color, "width": width, "points": list(points)}
    if by is not None:
        s["by"] = by
    return s


def stroke_key(s: dict) -> tuple:
    """What must survive a round trip (the server rounds coordinates to 0.1)."""
    return (s["id"], s["color"].lower(), float(s["width"]),
            tuple(round(float(v), 1) for v in s["points"]))


def pct(xs, p):
    """The p-th percentile (nearest rank) of xs, None if empty."""
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def load_pb2():
    """The generated protobuf module (build/gen/py/whiteboard_pb2.py), made
    with `make` first when it is missing or older than proto/whiteboard.proto."""
    if "whiteboard_pb2" in sys.modules:
        return sys.modules["whiteboard_pb2"]
    gen = ROOT / "build" / "gen" / "py" / "whiteboard_pb2.py"
    proto = ROOT / "proto" / "whiteboard.proto"
    if not gen.exists() or gen.stat().st_mtime < proto.stat().st_mtime:
        r = subprocess.run(["make", "-C", str(ROOT), "build/gen/py/whiteboard_pb2.py"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"make build/gen/py/whiteboard_pb2.py failed:\n{r.stdout}\n{r.stderr}")
    spec = importlib.util.spec_from_file_location("whiteboard_pb2", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.modules["whiteboard_pb2"] = mod
    return mod


# --------------------------------------------------------------------------
# HTTP

def ssl_ctx(cafile: str | None = None) -> ssl.SSLContext:
    """Verifying against cafile, or not verifying at all (self-signed test CA)."""
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@dataclass
class Resp:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_get(url: str, timeout: float = 3.0, headers: dict | None = None,
             cafile: str | None = None) -> Resp:
    """GET url; returns Resp for any HTTP status, raises OSError if no answer."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=timeout, context=ssl_ctx(cafile))
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    finally:
        conn.close()


def stack_env(**settings) -> dict:
    """The environment for a stack a test starts: this process's environment
    without any WB_* setting (make test sources scripts/env.sh, whose values
    name the default stack's run dir, secrets and ports) except WB_TEST_*, and
    without proxies (all test traffic is loopback); then `settings`."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("WB_") and not k.startswith("WB_TEST_"))
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update({k: str(v) for k, v in settings.items()})
    return env


def free_port(udp_too: bool = False, taken: set | None = None) -> int:
    """A TCP port on 127.0.0.1 that is free now (and UDP too if asked)."""
    taken = taken if taken is not None else set()
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        try:
            if port in taken:
                continue
            if udp_too:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
                finally:
                    u.close()
            taken.add(port)
            return port
        finally:
            s.close()
    raise OSError("no free port")


# --------------------------------------------------------------------------
# Prometheus text

def metric(text: str, name: str, **labels) -> float:
    """Value of the first sample of `name` whose labels include `labels`."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == str(v) for k, v in labels.items()):
            return float(m.group(3))
    raise KeyError(f"{name}{labels or ''} not in the metrics")


def metric_at(url: str, name: str, **labels) -> float:
    """metric() of GET url (a /metrics endpoint)."""
    r = http_get(url, timeout=5)
    if r.status != 200:
        raise OSError(f"GET {url}: HTTP {r.status}")
    return metric(r.text, name, **labels)


# --------------------------------------------------------------------------
# waiting and logs

def wait_until(cond, timeout: float, what: str, interval: float = 0.05):
    """Poll cond() until it returns something truthy (returned). Exceptions other
    than AssertionError count as "not yet"; after timeout, AssertionError."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last!r})")
        time.sleep(interval)


# Lines that start an AddressSanitizer / LeakSanitizer / UBSan / TSan report.
SANITIZER_RE = re.compile(r"(ERROR: (Address|Leak|Thread|Memory)Sanitizer|"
                          r"SUMMARY: (Address|Leak|Thread|Memory|UndefinedBehavior)Sanitizer|"
                          r"\.c:\d+:\d+: runtime error:|WARNING: ThreadSanitizer)")


def sanitizer_reports(text: str, context: int = 30) -> list:
    """Each sanitizer report in text, with up to `context` lines after its start."""
    lines = text.splitlines()
    out = []
    i = 0
    while i < len(lines):
        if SANITIZER_RE.search(lines[i]):
            out.append("\n".join(lines[i:i + context]))
            i += context
        else:
            i += 1
    return out
