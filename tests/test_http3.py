"""HTTP/3 through Traefik (DESIGN.md section 8).

- aioquic (an HTTP/3 client; Debian's curl has none) fetches `/` and
  `/api/boards/{board}` over QUIC through Traefik, verifying the certificate
  against the stack's own CA, and gets the same bodies as over HTTPS/TCP;
- HTTPS responses advertise HTTP/3 (Alt-Svc: h3=":PORT");
- headless Chromium (Debian's, driven by Playwright) forced onto QUIC loads the
  app, reports nextHopProtocol == "h3", Traefik's access log shows HTTP/3.0 for
  that navigation, and a WebSocket to /ws/{board} works alongside (WebSockets
  stay on HTTP/1.1 over TCP: tested for working, not for being on h3);
- the open question of section 8: with the local CA trusted in an NSS store and
  no force flags, does Chromium upgrade through Alt-Svc alone? Reported, not
  asserted (the answer depends on Chromium's policy, not on our stack).

Uses the whole-stack fixtures of tests/conftest.py (wb_traefik).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aioquic.asyncio.client import connect as quic_connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration

import wbclient
from wbstack import http_get

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_BASE_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                       "--disable-component-update", "--disable-sync", "--no-first-run"]


# --------------------------------------------------------------------------
# helpers

def _https_port(stack) -> int:
    return urlsplit(stack.base_url).port


def _tls_dir(stack) -> Path:
    if stack.attached:
        pytest.skip("attach mode: the stack's TLS dir and access log are not known here")
    return Path(stack.run_dir) / "tls"


def _access_log(stack) -> Path:
    return Path(stack.run_dir) / "traefik" / "access.log"


def _access_entries(stack, offset: int = 0) -> list:
    p = _access_log(stack)
    if not p.exists():
        return []
    with open(p, "rb") as f:
        f.seek(offset)
        data = f.read().decode("utf-8", "replace")
    out = []
    for line in data.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def _log_size(stack) -> int:
    p = _access_log(stack)
    return p.stat().st_size if p.exists() else 0


class H3Client(QuicConnectionProtocol):
    """Minimal HTTP/3 GET client on aioquic."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._h3 = H3Connection(self._quic)
        self._pending: dict = {}

    def quic_event_received(self, event):
        for ev in self._h3.handle_event(event):
            sid = getattr(ev, "stream_id", None)
            if sid not in self._pending:
                continue
            fut, resp = self._pending[sid]
            if isinstance(ev, HeadersReceived):
                resp["headers"].extend(ev.headers)
            elif isinstance(ev, DataReceived):
                resp["body"] += ev.data
            if getattr(ev, "stream_ended", False) and not fut.done():
                fut.set_result(resp)

    async def get(self, authority: str, path: str, timeout: float = 10) -> tuple:
        sid = self._quic.get_next_available_stream_id()
        fut = asyncio.get_running_loop().create_future()
        self._pending[sid] = (fut, {"headers": [], "body": b""})
        self._h3.send_headers(sid, [
            (b":method", b"GET"), (b":scheme", b"https"),
            (b":authority", authority.encode()), (b":path", path.encode()),
            (b"user-agent", b"wb-test-aioquic"),
        ], end_stream=True)
        self.transmit()
        resp = await asyncio.wait_for(fut, timeout)
        headers = {k.decode(): v.decode() for k, v in resp["headers"]}
        return int(headers[":status"]), headers, resp["body"]


async def h3_get_many(host: str, port: int, paths: list, cafile: Path) -> list:
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name="localhost")
    cfg.load_verify_locations(str(cafile))          # real verification against the stack CA
    async with quic_connect(host, port, configuration=cfg, create_protocol=H3Client,
                            wait_connected=True) as client:
        out = []
        for p in paths:
            out.append(await client.get(f"localhost:{port}", p))
        return out


def _wait_rest_board(stack, board: str, want_ids: set, timeout: float = 10) -> dict:
    """GET /api/boards/{board} over HTTPS/TCP until every stroke id in want_ids is in it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        r = http_get(f"{stack.base_url}/api/boards/{board}")
        if r.status == 200:
            last = json.loads(r.body)
            if want_ids <= {s["id"] for s in last.get("strokes", [])}:
                return last
        time.sleep(0.2)
    raise AssertionError(f"/api/boards/{board} never showed {want_ids}; last: {last}")


async def _draw_through_traefik(stack, board: str, n: int = 3) -> set:
    c = await wbclient.WBClient.open(stack.ws_url("traefik", board, name="h3"), wait_snapshot=True)
    ids = set()
    for _ in range(n):
        s = wbclient.make_stroke()
        ids.add(s["id"])
        await c.stroke(s, wait=True)
    await c.close()
    return ids


# --------------------------------------------------------------------------
# aioquic

async def test_h3_fetch_app_and_board_via_aioquic(wb_traefik):
    st = wb_traefik
    board = wbclient.new_board()
    ids = await _draw_through_traefik(st, board)
    rest = _wait_rest_board(st, board, ids)                      # HTTPS over TCP, for comparison
    index_tcp = http_get(st.base_url + "/")
    assert index_tcp.status == 200

    off = _log_size(st)
    results = await h3_get_many("127.0.0.1", _https_port(st), ["/", f"/api/boards/{board}"],
                                _tls_dir(st) / "ca.pem")
    (s1, h1, b1), (s2, h2, b2) = results
    assert s1 == 200, (s1, h1, b1[:200])
    assert "text/html" in h1.get("content-type", "")
    assert b1 == index_tcp.body, "the app over HTTP/3 differs from the app over HTTPS/TCP"
    static = Path(os.environ.get("WB_STATIC_DIR", Path(__file__).resolve().parent.parent / "client" / "dist"))
    if (static / "index.html").exists():
        assert b1 == (static / "index.html").read_bytes()
    assert s2 == 200, (s2, h2, b2[:200])
    snap = json.loads(b2)
    assert snap["board"] == board
    assert {s["id"] for s in snap["strokes"]} >= ids
    assert [s["id"] for s in snap["strokes"]] == [s["id"] for s in rest["strokes"]]

    # server side: Traefik logged both requests as HTTP/3.0
    await asyncio.sleep(0.3)
    h3_lines = [e for e in _access_entries(st, off)
                if e.get("request_User-Agent") == "wb-test-aioquic"]
    assert {e["RequestPath"] for e in h3_lines} >= {"/", f"/api/boards/{board}"}, h3_lines
    assert all(e["RequestProtocol"] == "HTTP/3.0" for e in h3_lines), h3_lines


async def test_h3_on_ipv6_loopback(wb_traefik):
    """Traefik's UDP listener is dual-stack, so QUIC to [::1] works too (Chromium
    tries ::1 first for localhost and does not fall back for QUIC)."""
    st = wb_traefik
    (status, _, body), = await h3_get_many("::1", _https_port(st), ["/healthz"], _tls_dir(st) / "ca.pem")
    assert status == 200 and body.strip() == b"ok", (status, body)


def test_alt_svc_advertised_on_https(wb_traefik):
    st = wb_traefik
    port = _https_port(st)
    for path in ("/", "/healthz", f"/api/boards/{wbclient.new_board()}"):
        r = http_get(st.base_url + path)
        alt = r.headers.get("alt-svc", "")
        assert f'h3=":{port}"' in alt, (path, r.status, r.headers)


def test_http_redirects_to_https(wb_traefik):
    st = wb_traefik
    if st.attached:
        pytest.skip("attach mode: plain HTTP port unknown")
    r = http_get(f"http://127.0.0.1:{st.ports['http']}/b/x")
    assert r.status in (301, 308), r.status
    assert r.headers["location"].startswith("https://"), r.headers


# --------------------------------------------------------------------------
# Chromium

def _chromium_or_fail():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install chromium (scripts/deps.sh does)")
    from playwright.sync_api import sync_playwright  # noqa: F401
    return sync_playwright


NAV_PROTO_JS = "() => performance.getEntriesByType('navigation')[0].nextHopProtocol"

WS_JS = """async (url) => {
  return await new Promise((resolve) => {
    const ws = new WebSocket(url, ['wb.v1']);
    const got = [];
    const t = setTimeout(() => resolve({ok: false, got, why: 'timeout'}), 8000);
    ws.onmessage = (e) => {
      let m = JSON.parse(e.data);
      for (const x of (Array.isArray(m) ? m : [m])) got.push(x.t);
      if (got.includes('welcome') && got.includes('snapshot')) {
        ws.send(JSON.stringify({t: 'ping', ts: 42}));
      }
      if (got.includes('pong')) { clearTimeout(t); ws.close(); resolve({ok: true, got, protocol: ws.protocol}); }
    };
    ws.onerror = () => { clearTimeout(t); resolve({ok: false, got, why: 'error'}); };
  });
}"""


def test_chromium_loads_app_over_h3_and_websocket_works(wb_traefik):
    sync_playwright = _chromium_or_fail()
    st = wb_traefik
    port = _https_port(st)
    spki = (_tls_dir(st) / "spki.txt").read_text().strip()
    board = wbclient.new_board()
    flags = CHROMIUM_BASE_FLAGS + [
        f"--origin-to-force-quic-on=localhost:{port}",
        f"--ignore-certificate-errors-spki-list={spki}",
        "--host-resolver-rules=MAP localhost 127.0.0.1",
    ]
    off = _log_size(st)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        try:
            ctx = browser.new_context(ignore_https_errors=True, user_agent="wb-test-chromium-h3")
            page = ctx.new_page()
            resp = page.goto(f"https://localhost:{port}/b/{board}", wait_until="load", timeout=20000)
            assert resp is not None and resp.status == 200
            proto = page.evaluate(NAV_PROTO_JS)
            ws = page.evaluate(WS_JS, f"wss://localhost:{port}/ws/{board}?name=chromium")
        finally:
            browser.close()
    print(f"\nchromium nextHopProtocol={proto} websocket={ws}")
    assert proto == "h3", f"navigation went over {proto!r}, not h3"
    assert ws["ok"], ws
    assert ws["got"][0] == "welcome", ws

    time.sleep(0.3)
    mine = [e for e in _access_entries(st, off) if e.get("request_User-Agent") == "wb-test-chromium-h3"]
    nav = [e for e in mine if e["RequestPath"] == f"/b/{board}"]
    assert nav and nav[0]["RequestProtocol"] == "HTTP/3.0", nav
    wsl = [e for e in mine if e["RequestPath"].startswith(f"/ws/{board}")]
    assert wsl, "the WebSocket upgrade is not in Traefik's access log"
    assert wsl[0]["RequestProtocol"] == "HTTP/1.1", wsl   # WebSockets stay on HTTP/1.1 (section 8)


def test_chromium_alt_svc_with_trusted_ca_open_question(wb_traefik):
    """DESIGN.md section 8, open question: with the stack CA trusted in the NSS
    store (what `mkcert -install` does) and NO force flags, does Chromium switch
    to h3 through Alt-Svc alone? Prints what happened; asserts that the page
    loads without certificate errors (the CA is trusted, errors are not
    ignored), that the first load of a fresh profile is h2 (nothing told the
    browser about h3 yet) and that later loads are h2 or h3."""
    sync_playwright = _chromium_or_fail()
    st = wb_traefik
    if not shutil.which("certutil"):
        pytest.fail("certutil missing: apt-get install libnss3-tools")
    port = _https_port(st)
    home = Path(tempfile.mkdtemp(prefix="wb-nss-"))
    try:
        nss = home / ".pki" / "nssdb"
        nss.mkdir(parents=True)
        subprocess.run(["certutil", "-d", f"sql:{nss}", "-N", "--empty-password"], check=True)
        subprocess.run(["certutil", "-d", f"sql:{nss}", "-A", "-t", "C,,", "-n", "wb-dev-ca",
                        "-i", str(_tls_dir(st) / "ca.pem")], check=True)
        flags = CHROMIUM_BASE_FLAGS + ["--host-resolver-rules=MAP localhost 127.0.0.1"]
        protos = []
        with sync_playwright() as p:
            # A persistent profile: Chromium stores the Alt-Svc it saw ("Network
            # Persistent State") and uses it for NEW connections, so the browser is
            # restarted between loads (a live h2 connection would just be reused).
            for _ in range(3):
                ctx = p.chromium.launch_persistent_context(
                    str(home / "profile"), executable_path=CHROMIUM, headless=True, args=flags,
                    env={**os.environ, "HOME": str(home)}, ignore_https_errors=False)
                try:
                    page = ctx.new_page()
                    for _ in range(2):
                        r = page.goto(f"https://localhost:{port}/", wait_until="load", timeout=20000)
                        assert r is not None and r.status == 200
                        protos.append(page.evaluate(NAV_PROTO_JS))
                        page.wait_for_timeout(300)
                finally:
                    ctx.close()
                if protos[-1] == "h3":
                    break
        print(f"\nALT-SVC OPEN QUESTION: trusted local CA, no force flags -> nextHopProtocol per load: {protos}")
        assert protos and protos[0] == "h2", f"first load of a fresh profile over {protos[0]!r}, not h2"
        assert all(p in ("h2", "h3") for p in protos), protos
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(150)
async def test_websocket_through_traefik_survives_idle(wb_traefik):
    """A WebSocket through Traefik stays open while idle for longer than the
    websecure readTimeout (60 s, traefik.template.yml: it bounds plain HTTP
    requests, not upgraded connections) and still works afterwards."""
    st = wb_traefik
    board = wbclient.new_board()
    c = await wbclient.WBClient.open(st.ws_url("traefik", board, name="idle"), wait_snapshot=True)
    idle = float(os.environ.get("WB_TEST_WS_IDLE_S", "65"))
    await asyncio.sleep(idle)
    assert not c.closed.is_set(), f"closed after idling {idle}s: code {c.close_code}"
    await c.ping(timeout=5)  # fails unless the pong with our ts arrives
    await c.stroke(wait=True)
