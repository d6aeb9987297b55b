"""The Slack app fake: the Web API and the Socket Mode websocket, on loopback sockets.

Why not ``responses``: slack_sdk's ``WebClient`` and its built-in Socket Mode client use
``urllib`` and a raw socket, which a ``requests`` mock cannot see. These are real servers on
127.0.0.1, so slack_sdk's own transport, websocket framing and acknowledgements run unchanged.

- ``calls``: every Web API call (method name, form/JSON arguments), in order.
- ``apps.connections.open`` answers ``ws://127.0.0.1:PORT/link``; the websocket sends
  ``hello``, then whatever the test ``deliver``s, and records the client's acks in ``acks``.
- ``chat.postMessage`` gets ``ts`` values "1000.000001", "1000.000002", ...; ``script`` answers
  it otherwise first: raw (status, headers, body) triples, as Slack or a proxy in between sends
  them (``tests/fixtures/slack/chat_postMessage.json``), taken in order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

__all__ = ["FakeSlackApp", "BOT_TOKEN", "APP_TOKEN"]

BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSlackApp:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.script: list[tuple[int, dict[str, str], str]] = []
        self.open_errors: list[str] = []  # apps.connections.open answers ok=false with these first
        self.acks: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._ts = 0
        self._clients: list[socket.socket] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                token = self.headers.get("Authorization", "")
                scripted = fake.scripted(method, args)
                if scripted is None:
                    answer = json.dumps(fake.answer(method, args, token))
                    scripted = (200, {"Content-Type": "application/json"}, answer)
                status, headers, body = scripted
                data = body.encode()
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(data))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.ws = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ws.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ws.bind(("127.0.0.1", 0))
        self.ws.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    # -- the Web API ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/api/"

    def answer(self, method: str, args: dict[str, Any], token: str) -> dict[str, Any]:
        with self.lock:
            self.calls.append((method, args))
        if method == "apps.connections.open":
            if token != f"Bearer {APP_TOKEN}":
                return {"ok": False, "error": "invalid_auth"}
            with self.lock:
                if self.open_errors:
                    return {"ok": False, "error": self.open_errors.pop(0)}
            return {"ok": True, "url": f"ws://127.0.0.1:{self.ws.getsockname()[1]}/link"}
        if token != f"Bearer {BOT_TOKEN}":
            return {"ok": False, "error": "invalid_auth"}
        if method == "chat.postMessage":
            with self.lock:
                self._ts += 1
                ts = f"1000.{self._ts:06d}"
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method in ("chat.update", "views.open", "chat.postEphemeral"):
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        return {"ok": False, "error": "unknown_method"}

    def add(self, status: int, headers: dict[str, str], body: str, times: int = 1) -> None:
        """Answer the next ``times`` chat.postMessage calls with this raw response."""
        with self.lock:
            self.script.extend([(status, headers, body)] * times)

    def scripted(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, str], str] | None:
        with self.lock:
            if method != "chat.postMessage" or not self.script:
                return None
            self.calls.append((method, args))
            return self.script.pop(0)

    def called(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [args for m, args in self.calls if m == method]

    # -- the Socket Mode websocket -------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.ws.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        key = next(
            line.split(":", 1)[1].strip()
            for line in request.decode().split("\r\n")
            if line.lower().startswith("sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        with self.lock:
            self._clients.append(conn)
        self._send(conn, {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        buffer = b""
        while True:
            try:
                frame, buffer = _read_frame(conn, buffer)
            except OSError:
                return
            if frame is None:
                return
            opcode, payload = frame
            if opcode == 0x9:  # ping -> pong
                conn.sendall(_frame(0xA, payload))
            elif opcode == 0x1:
                with self.lock:
                    self.acks.append(json.loads(payload))
            elif opcode == 0x8:
                return

    def _send(self, conn: socket.socket, message: dict[str, Any]) -> None:
        conn.sendall(_frame(0x1, json.dumps(message).encode()))

    def wait_connected(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not self._clients:
            if time.monotonic() > deadline:
                raise AssertionError("the Socket Mode client never connected")
            time.sleep(0.01)

    def deliver(self, payload: dict[str, Any], *, envelope_id: str | None = None, retry: int = 0) -> str:
        """Send one interactive payload over the websocket, as Slack does; returns its envelope id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        message = {
            "envelope_id": envelope_id,
            "type": "interactive",
            "accepts_response_payload": payload.get("type") == "view_submission",
            "retry_attempt": retry,
            "retry_reason": "timeout" if retry else "",
            "payload": payload,
        }
        with self.lock:
            conn = self._clients[-1]
        self._send(conn, message)
        return envelope_id

    def wait_acks(self, envelope_ids: list[str], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                seen = {a.get("envelope_id") for a in self.acks}
            if set(envelope_ids) <= seen:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"no ack for {set(envelope_ids) - seen}")
            time.sleep(0.01)

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        with self.lock:
            for conn in self._clients:
                try:
                    conn.close()
                except OSError:
                    pass
        self.ws.close()


def _frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload


def _read_frame(conn: socket.socket, buffer: bytes) -> tuple[tuple[int, bytes] | None, bytes]:
    def need(n: int) -> bool:
        nonlocal buffer
        while len(buffer) < n:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            buffer += chunk
        return True

    if not need(2):
        return None, buffer
    opcode = buffer[0] & 0x0F
    masked = buffer[1] & 0x80
    n = buffer[1] & 0x7F
    offset = 2
    if n == 126:
        if not need(4):
            return None, buffer
        n = struct.unpack(">H", buffer[2:4])[0]
        offset = 4
    elif n == 127:
        if not need(10):
            return None, buffer
        n = struct.unpack(">Q", buffer[2:10])[0]
        offset = 10
    mask_len = 4 if masked else 0
    if not need(offset + mask_len + n):
        return None, buffer
    mask = buffer[offset : offset + mask_len]
    data = buffer[offset + mask_len : offset + mask_len + n]
    if masked:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return (opcode, data), buffer[offset + mask_len + n :]
