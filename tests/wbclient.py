"""A small asyncio WebSocket client that speaks the whiteboard protocol (v1).

    c = await WBClient.open(url)                  # waits for `welcome`
    op = await c.stroke(points=[0, 0, 10, 10])    # sends, remembers it until acked
    await c.wait_ack(op)
    await c.wait_seq(seq)                         # until every op <= seq is applied
    c.visible()                                   # board state (docs/protocol.md §4 reducer)

What it does for every test:
- frames that are JSON arrays are flattened into messages (`c.msgs`, in order);
- `welcome`, `snapshot`, `ev`, `ack`, `error`, `presence`... are recorded;
- durable ops are applied to a `BoardState` in seq order; anything that breaks
  the ordering contract (an ev with a seq not greater than the last one, an ev
  at or below the snapshot's seq, a first message that is not `welcome`) is
  appended to `c.problems`; tests/conftest.py fails the test if any client
  recorded a problem, unless it was opened with `expect_problems=True`;
- ops sent with `send_op` are kept in `c.unacked` until acked and re-sent by
  `reconnect()` with the same op ids (the client duties of docs/protocol.md §5).

`RawWS` is a blocking minimal WebSocket client on a plain socket, for tests that
must NOT read (slow reader) or must send frames the library refuses.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import socket
import struct
import time
import urllib.parse

import websockets
from websockets.asyncio.client import connect as ws_connect

from wbfold import Fold as BoardState  # noqa: F401 - the board-state rule (scripts/wbfold.py)
from wbfold import reduce_evs  # noqa: F401
from wblib import make_stroke, new_board, rid, stroke_key  # noqa: F401 - re-exported for the tests

SUBPROTOCOL = "wb.v1"

# Every client opened during a test; conftest closes them before the loop ends
# and fails the test if any of them recorded a problem (unless it was opened
# with expect_problems=True).
OPEN_CLIENTS: list = []



class WBClient:
    def __init__(self, url: str, *, subprotocol: str | None = SUBPROTOCOL, label: str = "",
                 expect_problems: bool = False):
        self.url = url
        self.subprotocol = subprotocol
        self.label = label or url
        self.ws = None
        self.msgs: list = []           # every message, flattened, arrival order (all connections)
        self.frames = 0                # frames received (arrays count once)
        self.array_frames = 0
        self.welcome: dict | None = None
        self.welcomes: list = []
        self.snapshot: dict | None = None
        self.state = BoardState()
        self.seq = 0                   # highest durable seq applied
        self.evs: list = []            # every ev applied (all connections)
        self.acks: dict = {}           # op -> seq
        self.ack_list: list = []       # every ack message
        self.errors: list = []
        self.presence: dict | None = None
        self.unacked: dict = {}        # op -> message, until acked
        self.problems: list = []
        # False: any recorded problem fails the test (tests/conftest.py); only a
        # test that provokes protocol violations on purpose sets it.
        self.expect_problems = expect_problems
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.closed = asyncio.Event()
        self.closed_at: float | None = None
        self._cond = asyncio.Condition()
        self._reader: asyncio.Task | None = None
        self._conn_msgs = 0
        OPEN_CLIENTS.append(self)

    # ---- connection -----------------------------------------------------
    @classmethod
    async def open(cls, url: str, *, subprotocol: str | None = SUBPROTOCOL, wait_welcome: bool = True,
                   wait_snapshot: bool = False, timeout: float = 10, label: str = "",
                   expect_problems: bool = False) -> "WBClient":
        c = cls(url, subprotocol=subprotocol, label=label, expect_problems=expect_problems)
        await c._connect(url, timeout)
        if wait_welcome:
            await c.wait_for("welcome", timeout=timeout)
        if wait_snapshot:
            await c.wait_for("snapshot", timeout=timeout)
        return c

    async def _connect(self, url: str, timeout: float = 10):
        self.url = url
        self.closed = asyncio.Event()
        self.close_code = self.close_reason = None
        self._conn_msgs = 0
        self._conn_start = len(self.msgs)
        kw = dict(subprotocols=[self.subprotocol] if self.subprotocol else None,
                  compression=None, max_size=None, max_queue=None, ping_interval=None,
                  open_timeout=timeout, close_timeout=2, proxy=None)
        if url.startswith("wss:"):
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            kw["ssl"] = ctx
        self.ws = await ws_connect(url, **kw)
        self._reader = asyncio.create_task(self._read_loop(self.ws))

    async def reconnect(self, url: str, since: int | None = -1, resend: bool = True,
                        timeout: float = 10) -> None:
        """Connect again (to url, a /ws/{board} URL WITHOUT since) resuming from
        self.seq (since=-1: automatic; None: no since), then re-send unacked ops."""
        await self.abort()
        if since == -1:
            since = self.seq
        if since is not None:
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}since={since}"
        await self._connect(url, timeout)
        await self.wait_for("welcome", start=self._conn_start, timeout=timeout)
        if resend:
            for msg in list(self.unacked.values()):
                await self.send(msg)

    async def _read_loop(self, ws):
        try:
            async for frame in ws:
                await self._on_frame(frame)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # noqa: BLE001
            self.problems.append(f"reader crashed: {e!r}")
        finally:
            try:
                rcvd = ws.protocol.close_rcvd
                self.close_code = rcvd.code if rcvd else 1006
                self.close_reason = rcvd.reason if rcvd else None
            except Exception as e:  # noqa: BLE001
                self.problems.append(f"close state unreadable: {e!r}")
                self.close_code = 1006
            self.closed_at = time.monotonic()
            self.closed.set()
            async with self._cond:
                self._cond.notify_all()

    async def _on_frame(self, frame):
        self.frames += 1
        if isinstance(frame, bytes):
            self.problems.append(f"binary frame received ({len(frame)} bytes)")
            return
        try:
            data = json.loads(frame)
        except ValueError:
            self.problems.append(f"non-JSON frame: {frame[:200]!r}")
            return
        if isinstance(data, list):
            self.array_frames += 1
            items = data
        else:
            items = [data]
        for m in items:
            if not isinstance(m, dict) or "t" not in m:
                self.problems.append(f"message without t: {str(m)[:200]}")
                continue
            self._on_msg(m)
        async with self._cond:
            self._cond.notify_all()

    def _on_msg(self, m: dict):
        t = m["t"]
        m["_rx"] = time.monotonic()
        self._conn_msgs += 1
        if self._conn_msgs == 1 and t != "welcome":
            self.problems.append(f"first message is {t!r}, not welcome")
        self.msgs.append(m)
        if t == "welcome":
            self.welcome = m
            self.welcomes.append(m)
        elif t == "snapshot":
            self.snapshot = m
            self.state = BoardState(m.get("strokes", []), m["seq"])
            if m["seq"] < self.seq and self.welcome and self.welcome.get("resumed"):
                self.problems.append(f"snapshot seq {m['seq']} < applied {self.seq}")
            self.seq = m["seq"]
        elif t == "ev":
            s = m.get("seq")
            if not isinstance(s, int):
                self.problems.append(f"ev without integer seq: {m}")
                return
            if s <= self.seq:
                self.problems.append(f"ev seq {s} not above {self.seq} (duplicate or out of order) op={m.get('op')}")
                return
            self.seq = s
            self.evs.append(m)
            try:
                self.state.apply(m)
            except (KeyError, ValueError) as e:
                self.problems.append(f"bad ev {m}: {e!r}")
        elif t == "ack":
            self.acks[m["op"]] = m["seq"]
            self.ack_list.append(m)
            self.unacked.pop(m["op"], None)
        elif t == "error":
            self.errors.append(m)
        elif t == "presence":
            self.presence = m

    # ---- sending ------------------------------------------------------------
    async def send(self, msg) -> None:
        """Send a dict/list as JSON, or a str/bytes as is."""
        if isinstance(msg, (dict, list)):
            msg = json.dumps(msg)
        try:
            await self.ws.send(msg)
        except websockets.ConnectionClosed:
            # send() on a dead connection raises without suspending: yield so
            # the reader can record the close (a retry loop must not spin).
            await asyncio.sleep(0.01)
            raise

    async def send_op(self, msg: dict) -> str:
        """Send a durable op (adds an op id if missing) and keep it until acked."""
        msg = dict(msg)
        msg.setdefault("op", rid(12, "o"))
        self.unacked[msg["op"]] = msg
        await self.send(msg)
        return msg["op"]

    async def stroke(self, stroke: dict | None = None, op: str | None = None, wait: bool = False,
                     **kw) -> str:
        m = {"t": "stroke", "stroke": stroke or make_stroke(**kw)}
        if op:
            m["op"] = op
        op = await self.send_op(m)
        if wait:
            await self.wait_ack(op)
        return op

    async def erase(self, ids, op=None, wait=False) -> str:
        return await self._ids_op("erase", ids, op, wait)

    async def restore(self, ids, op=None, wait=False) -> str:
        return await self._ids_op("restore", ids, op, wait)

    async def clear(self, op=None, wait=False) -> str:
        m = {"t": "clear"}
        if op:
            m["op"] = op
        op = await self.send_op(m)
        if wait:
            await self.wait_ack(op)
        return op

    async def _ids_op(self, t, ids, op, wait):
        m = {"t": t, "ids": list(ids)}
        if op:
            m["op"] = op
        op = await self.send_op(m)
        if wait:
            await self.wait_ack(op)
        return op

    # ---- waiting ----------------------------------------------------------------
    def mark(self) -> int:
        """Index to pass as start= to wait_for: only messages after this point."""
        return len(self.msgs)

    def find(self, t: str, pred=None, start: int = 0) -> list:
        return [m for m in self.msgs[start:] if m["t"] == t and (pred is None or pred(m))]

    async def wait_until(self, cond, timeout: float = 5, what: str = "condition"):
        """Wait until cond() is truthy (re-checked on every message); returns its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._cond:
            while True:
                v = cond()
                if v:
                    return v
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise TimeoutError(f"[{self.label}] timeout after {timeout}s waiting for {what}; "
                                       f"closed={self.closed.is_set()} code={self.close_code} "
                                       f"last msgs={[_short(m) for m in self.msgs[-5:]]}")
                try:
                    await asyncio.wait_for(self._cond.wait(), left)
                except asyncio.TimeoutError:
                    pass

    async def wait_for(self, t: str, pred=None, timeout: float = 5, start: int = 0) -> dict:
        """First message of type t (matching pred) at index >= start."""
        def cond():
            for m in self.msgs[start:]:
                if m["t"] == t and (pred is None or pred(m)):
                    return m
            if self.closed.is_set():
                raise ConnectionError(f"[{self.label}] closed ({self.close_code} {self.close_reason!r}) "
                                      f"while waiting for {t}")
            return None
        return await self.wait_until(cond, timeout, f"{t!r}")

    async def wait_ack(self, op: str, timeout: float = 5) -> int:
        def cond():
            if op in self.acks:
                return True
            for e in self.errors:
                if e.get("op") == op:
                    raise AssertionError(f"[{self.label}] op {op} refused: {e}")
            if self.closed.is_set():
                raise ConnectionError(f"[{self.label}] closed ({self.close_code}) waiting for ack of {op}")
            return False
        await self.wait_until(cond, timeout, f"ack {op}")
        return self.acks[op]

    async def wait_applied(self, op: str, timeout: float = 5) -> int:
        """The op's ack AND its ev here: the two travel separately and either
        may come first (docs/protocol.md §5), so a test that reads this
        client's own board after its op waits for both. Returns the seq."""
        seq = await self.wait_ack(op, timeout)
        await self.wait_seq(seq, timeout)
        return seq

    async def wait_seq(self, seq: int, timeout: float = 5) -> None:
        await self.wait_until(lambda: self.seq >= seq, timeout, f"seq >= {seq} (have {self.seq})")

    async def wait_error(self, start: int, timeout: float = 3) -> dict:
        return await self.wait_for("error", timeout=timeout, start=start)

    async def wait_closed(self, timeout: float = 5) -> int:
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"[{self.label}] not closed after {timeout}s") from None
        return self.close_code

    async def ping(self, timeout: float = 3) -> dict:
        ts = random.randint(1, 2**40)
        start = self.mark()
        await self.send({"t": "ping", "ts": ts})
        return await self.wait_for("pong", lambda m: m.get("ts") == ts, timeout, start)

    # ---- state --------------------------------------------------------------
    def visible(self) -> list:
        return self.state.visible()

    def visible_keys(self) -> list:
        return [stroke_key(s) for s in self.visible()]

    def ev_seqs(self) -> list:
        return [e["seq"] for e in self.evs]

    @property
    def client_id(self) -> str:
        return self.welcome["client"]

    # ---- closing ------------------------------------------------------------
    async def close(self):
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:  # noqa: BLE001
                pass
        if self._reader:
            try:
                await asyncio.wait_for(self._reader, 3)
            except Exception:  # noqa: BLE001
                self._reader.cancel()

    async def abort(self):
        """Drop the TCP connection without a close handshake (like a crash)."""
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()
        if self._reader:
            try:
                await asyncio.wait_for(self._reader, 3)
            except Exception:  # noqa: BLE001
                self._reader.cancel()


def _short(m: dict) -> str:
    s = json.dumps({k: v for k, v in m.items() if k != "_rx"})
    return s if len(s) < 160 else s[:160] + "..."


async def close_all() -> list:
    """Close every client opened since the last call; returns them."""
    cs = list(OPEN_CLIENTS)
    OPEN_CLIENTS.clear()
    await asyncio.gather(*(c.close() for c in cs), return_exceptions=True)
    return cs


def unexpected_problems(clients) -> list:
    """"label: problem" for every problem of a client that did not expect any."""
    return [f"{c.label}: {p}" for c in clients if not c.expect_problems for p in c.problems]


# --------------------------------------------------------------------------
# RawWS: blocking, minimal, for slow readers and malformed frames


class RawWS:
    def __init__(self, url: str, subprotocol: str | None = SUBPROTOCOL, rcvbuf: int | None = None,
                 timeout: float = 5):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((u.hostname, u.port))
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        req = (f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if subprotocol:
            req += f"Sec-WebSocket-Protocol: {subprotocol}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed during handshake: {buf!r}")
            buf += chunk
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split()[1])
        self.head = head.decode("latin-1")
        if self.status != 101:
            raise ConnectionError(f"upgrade refused: {self.head}")

    def send_frame(self, payload: bytes, opcode: int = 1, fin: bool = True) -> None:
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        m = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, mask)
        self.sock.sendall(hdr + mask + m)

    def send_text(self, s) -> None:
        if not isinstance(s, (bytes, str)):
            s = json.dumps(s)
        self.send_frame(s.encode() if isinstance(s, str) else s)

    def _need(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("eof")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        """(opcode, payload, fin) of the next frame (fragments are not joined)."""
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        if b1 & 0x80:
            mask = self._need(4)
            p = _mask_fast(self._need(n), mask)
        else:
            p = self._need(n)
        return b0 & 0x0F, p, bool(b0 & 0x80)

    def read_until_close(self, timeout: float = 10):
        """Read everything until a close frame or EOF. Returns (messages, close_code)
        where messages are flattened JSON objects; close_code None on EOF/timeout."""
        msgs = []
        deadline = time.monotonic() + timeout
        parts = []
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                op, p, fin = self.recv_frame()
            except (ConnectionError, socket.timeout, OSError):
                return msgs, None
            if op == 8:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                return msgs, code
            if op in (0, 1, 2):
                parts.append(p)
                if not fin:
                    continue
                d = json.loads(b"".join(parts))
                parts = []
                msgs.extend(d if isinstance(d, list) else [d])
            # ping/pong frames ignored
        return msgs, None

    def frame_bytes(self, payload, opcode: int = 1) -> bytes:
        """A complete masked client frame (for pre-building bursts)."""
        if not isinstance(payload, (bytes, str)):
            payload = json.dumps(payload)
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        b0 = 0x80 | opcode
        if n < 126:
            hdr = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        return hdr + mask + _mask_fast(payload, mask)

    def read_messages(self, until, timeout: float = 10):
        """Read and flatten messages until until(msgs) is true, a close frame,
        EOF or the timeout. Returns (messages, close_code or None)."""
        msgs = []
        deadline = time.monotonic() + timeout
        parts = []
        while time.monotonic() < deadline and not until(msgs):
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                op, p, fin = self.recv_frame()
            except (ConnectionError, socket.timeout, OSError):
                return msgs, None
            if op == 8:
                return msgs, (struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005)
            if op in (0, 1, 2):
                parts.append(p)
                if fin:
                    d = json.loads(b"".join(parts))
                    parts = []
                    msgs.extend(d if isinstance(d, list) else [d])
        return msgs, None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _mask_fast(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    k = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")
