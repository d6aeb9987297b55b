"""Test doubles that speak the real protocols on loopback: a Slack webhook and an SMTP server.

Why a loopback HTTP server and not ``responses``: ``slack_sdk``'s ``WebhookClient`` sends with
``urllib.request``, which ``responses`` (a ``requests`` transport mock) does not intercept. A
real socket on 127.0.0.1 exercises slack_sdk's own transport and retry handlers unchanged.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from datetime import datetime, timezone
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlite_utils
from aiosmtpd.controller import Controller

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
WEBHOOK_PATH = "/services/T000/B000/XXXX"

STORY_EVIDENCE = {
    "platform": "facebook",
    "summary": "A question on a corrected post was deleted",
    "comment": {"id": "111_222", "message": "wait, the meeting is TONIGHT?!? <b>& why</b>",
                "author_name": "Pat Reader", "created_time": "2026-11-25T11:40:00+00:00",
                "status": "deleted"},
    "post": {"id": "111", "permalink_url": "https://www.facebook.com/111/posts/333?a=1&b=2",
             "message": "Town meeting on Thirteenth at 7pm",
             "versions": [{"version": 1, "message": "Town meeting on Thursday at 7pm",
                           "seen_at": "2026-11-25T11:00:00+00:00"}]},
    "correction": {"removed": ["Thursday"], "added": ["Thirteenth"],
                   "summary": "Thursday → Thirteenth"},
    "reasons": ["question: ends with '?'", "mentions a corrected word"],
}
STORY_REPLY = (
    "We made a mistake: the meeting is on the 13th, not Thursday. Sorry for the confusion!")


def add_finding(db: sqlite_utils.Database, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """Insert a findings row the way the policy engine writes it; returns the row as a dict."""
    row: dict[str, Any] = {
        "account": "main-page", "kind": "removed-critical", "severity": "critical",
        "state": "open", "dedupe_key": f"removed-critical:111_222:{n}", "post_id": "111",
        "comment_id": "111_222", "opened_at": T0.isoformat(), "updated_at": T0.isoformat(),
        "evidence": json.dumps(STORY_EVIDENCE), "suggested_reply": STORY_REPLY,
    }
    row.update(overrides)
    row_id = db["findings"].insert(row).last_pk
    return dict(db["findings"].get(row_id))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
                    fake.calls.append({"path": self.path, "json": json.loads(raw or b"{}"),
                                       "status": status})
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
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{WEBHOOK_PATH}"

    def add(self, status: int, body: str, headers: dict[str, str] | None = None,
            times: int = 1) -> None:
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


class Collector:
    """aiosmtpd handler that keeps every message and can reject chosen recipients with 550."""

    def __init__(self, reject: tuple[str, ...] = ()) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.reject = reject

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1:``port`` that can be started late (server down, then up)."""

    def __init__(self, port: int, **kwargs: Any) -> None:
        self.port = port
        self.handler = Collector(**kwargs.pop("handler_kwargs", {}))
        self.kwargs = kwargs
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[tuple[str, list[str], EmailMessage]]:
        return self.handler.messages

    def start(self) -> SmtpSink:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     **self.kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
