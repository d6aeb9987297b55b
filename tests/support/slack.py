"""The Slack fake: an incoming-webhook endpoint on a loopback socket.

Why a loopback HTTP server and not ``responses``: ``slack_sdk``'s ``WebhookClient`` sends with
``urllib.request``, which ``responses`` (a ``requests`` transport mock) does not intercept. A
real socket on 127.0.0.1 exercises slack_sdk's own transport and retry handlers unchanged.

The demo has its own always-"ok" webhook (``guard.demo.sinks.SlackWebhookSink``, standard
library only); tests need scripted answers (429 with Retry-After, 404 ``no_service``, 500), so
they use this one.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeSlack", "WEBHOOK_PATH"]

WEBHOOK_PATH = "/services/T000/B000/XXXX"


class FakeSlack:
    """A Slack incoming-webhook endpoint: scripted (status, body, headers) answers, recorded calls.

    Unknown paths answer 404 ``no_service`` like a revoked webhook; when the script runs out it
    answers ``default`` (200 ``ok``).
    """

    def __init__(self) -> None:
        self.script: list[tuple[int, str, dict[str, str]]] = []
        self.default: tuple[int, str, dict[str, str]] = (200, "ok", {})
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake.lock:
                    if self.path != WEBHOOK_PATH:
                        status, body, headers = 404, "no_service", {}
                    elif fake.script:
                        status, body, headers = fake.script.pop(0)
                    else:
                        status, body, headers = fake.default
                    fake.calls.append({"path": self.path, "json": json.loads(raw or b"{}"), "status": status})
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{WEBHOOK_PATH}"

    def add(self, status: int, body: str, headers: dict[str, str] | None = None, times: int = 1) -> None:
        with self.lock:
            self.script.extend([(status, body, headers or {})] * times)

    def accepted(self) -> list[dict[str, Any]]:
        """Bodies of the messages Slack answered 200 to, in arrival order."""
        return [c["json"] for c in self.calls if c["status"] == 200]

    def replies(self) -> list[str]:
        """The suggested public reply of each accepted message, in arrival order."""
        out = []
        for message in self.accepted():
            for block in message["blocks"]:
                text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
                if text.startswith("*Suggested public reply:*\n>"):
                    out.append(text.split("\n>", 1)[1])
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
