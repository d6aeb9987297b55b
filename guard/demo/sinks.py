"""Loopback stand-ins for the alert channels, so the demo sends alerts through the real code.

``SlackWebhookSink`` is an HTTP server that answers like a Slack incoming webhook ("ok") and
keeps the JSON it was sent; ``MailSink`` is a minimal SMTP server that accepts any message and
keeps its bytes. Both listen on 127.0.0.1 only, use the standard library only (the demo must
work from a plain ``pip install``), and are no use outside the demo and tests.

``blocks_as_text`` shows a Block Kit message the way a terminal can: links as "label (url)",
buttons as "[label] url", Slack's ``&amp;``/``&lt;``/``&gt;`` escapes undone.
"""

from __future__ import annotations

import json
import re
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["SlackWebhookSink", "MailSink", "blocks_as_text"]


class _SlackHandler(BaseHTTPRequestHandler):
    server: _SlackServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            payload = json.loads(body.decode("utf-8"))
        except ValueError:
            self._answer(400, b"invalid_payload")
            return
        with self.server.lock:
            self.server.received.append(payload)
        self._answer(200, b"ok")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the demo's output is the story, not an access log


class _SlackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SlackHandler)
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []


class _Sink:
    """Runs one loopback server in a daemon thread for the length of a ``with`` block."""

    _name = "sink"

    def __init__(self) -> None:
        self._server: Any = None

    def _make_server(self) -> Any:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._server = self._make_server()
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self._name} is not started")
        return int(self._server.server_address[1])

    @property
    def received(self) -> list[Any]:
        if self._server is None:
            return []
        with self._server.lock:
            return list(self._server.received)

    def take(self) -> list[Any]:
        """Return and forget what was received so far (long runs keep memory flat)."""
        if self._server is None:
            return []
        with self._server.lock:
            out, self._server.received = self._server.received, []
        return out


class SlackWebhookSink(_Sink):
    """A fake Slack incoming webhook at ``url``; ``received`` holds the posted payloads."""

    _name = "SlackWebhookSink"

    def _make_server(self) -> _SlackServer:
        return _SlackServer()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T0DEMO/B0DEMO/demo"


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for ``smtplib``: EHLO, MAIL, RCPT, DATA (dot-unstuffed), RSET, QUIT."""

    server: _SmtpServer

    def handle(self) -> None:
        self._say("220 localhost comment-guard demo mail sink")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-localhost", "250-8BITMIME", "250 SMTPUTF8")
            elif verb == "HELO":
                self._say("250 localhost")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                self._read_data()
                self._say("250 OK: queued")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Command not implemented")

    def _read_data(self) -> None:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line or line in (b".\r\n", b".\n"):
                break
            lines.append(line[1:] if line.startswith(b"..") else line)
        with self.server.lock:
            self.server.received.append(b"".join(lines))

    def _say(self, *lines: str) -> None:
        # One write per reply: a multi-line reply in several small writes meets Nagle's
        # algorithm and the client's delayed ACK, and every EHLO would cost 40 ms.
        self.wfile.write(b"".join(line.encode("ascii") + b"\r\n" for line in lines))


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.lock = threading.Lock()
        self.received: list[bytes] = []


class MailSink(_Sink):
    """A loopback SMTP server at ``127.0.0.1:port``; ``received`` holds raw messages."""

    _name = "MailSink"

    def _make_server(self) -> _SmtpServer:
        return _SmtpServer()


_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>")


def _mrkdwn(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text).replace("```", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_as_text(blocks: list[dict[str, Any]]) -> list[str]:
    """One Block Kit message as terminal lines (the reader sees what Slack would show)."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = str(block.get("text", {}).get("text", ""))
            lines += [title, "=" * min(len(title), 80)]
        elif kind == "section":
            lines += _mrkdwn(str(block.get("text", {}).get("text", ""))).splitlines()
        elif kind == "context":
            lines.append(" · ".join(_mrkdwn(str(e.get("text", ""))) for e in block.get("elements", [])))
        elif kind == "actions":
            lines += [
                f"[{e.get('text', {}).get('text', 'button')}] {e.get('url', '')}".rstrip()
                for e in block.get("elements", [])
            ]
        elif kind == "divider":
            lines.append("-" * 40)
        lines.append("")
    while lines and not lines[-1]:
        lines.pop()
    return lines
