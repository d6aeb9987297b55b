"""The webhook receiver: Meta's signed change notifications become targeted scans, seconds
after a comment changes instead of up to ``poll_every`` later.

Facebook pushes Page ``feed`` changes (``item: comment``, verbs ``add``/``edited``/``remove``/
``hide``/``unhide``) and Instagram pushes ``comments``. A notification is a *hint*, never
evidence: Meta drops and repeats deliveries, and a ``remove`` verb does not say the comment is
gone for good. So the receiver only checks the signature, names the post, and queues a scan of
that post; the scan runs on the daemon's one worker through the ordinary poll path
(``guard.runtime.pipeline.run_poll(post_id=...)``), where the deletion rule stays what it is:
absent from a complete scan, then a by-id read and a control read confirm it.

The receiver never touches the archive: the daemon's worker thread owns the one SQLite
connection. It answers Meta at once whatever the worker is doing (queue, then work), and a
burst of events for one post inside ``[webhooks] coalesce`` makes one scan (``ScanQueue``).

Server: uvicorn (already installed with Datasette, which ``comment-guard serve`` runs on) with
a plain ASGI callable: two routes do not need a framework. HTTPS belongs to a reverse proxy in
front (Caddy or nginx); Meta only calls ``https://`` callback URLs.

Security: every POST must carry ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body
keyed with the app secret>``, compared in constant time before the body is parsed; a missing or
wrong signature is 403 and counted, a body over ``max_body`` is 413 before it is read, and one
still arriving after ``BODY_TIMEOUT`` is 408, so slow clients cannot hold every slot. The
secret and the verify token are never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import structlog

__all__ = [
    "CALLBACK_PATH",
    "Change",
    "ScanQueue",
    "WebhookApp",
    "WebhookServer",
    "sign",
    "signature_ok",
    "parse_changes",
]

log = structlog.get_logger("guard.webhooks")

CALLBACK_PATH = "/webhooks/meta"
# Meta sends a notification in one go; a body still arriving after this is a client holding
# one of the server's slots (a proxy such as Caddy streams bodies through as they come).
BODY_TIMEOUT = 10.0  # seconds
# Feed items that are a post's own text (a change may be a correction); others (like, reaction,
# share...) say nothing the archive keeps.
POST_ITEMS = frozenset({"post", "status", "photo", "video", "link", "note", "share"})
COMMENT_VERBS = frozenset({"add", "edited", "edit", "remove", "delete", "hide", "unhide"})

Scope = tuple[str, str | None]  # (account name, post id); None: poll the whole account


@dataclass(frozen=True)
class Change:
    """One change Meta reported, reduced to what decides a scan."""

    platform: str  # facebook | instagram
    page_id: str  # the entry id: Page id, or Instagram business account id
    field: str  # feed | comments
    item: str | None  # comment | status | photo ... (Facebook feed)
    verb: str | None  # add | edited | remove | hide | unhide ...
    post_id: str | None
    comment_id: str | None

    @property
    def whole_account(self) -> bool:
        """A post itself removed: only a complete list of posts can show it, so poll it all."""
        return self.item in POST_ITEMS and self.verb in ("remove", "delete")


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` over the raw body."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def parse_changes(payload: Any) -> list[Change]:
    """The changes in a Page ``feed`` or Instagram ``comments`` notification that name a post;
    anything else (other fields, other items, odd shapes) is skipped, never an error."""
    if not isinstance(payload, dict):
        return []
    platform = {"page": "facebook", "instagram": "instagram"}.get(str(payload.get("object")))
    entries = payload.get("entry")
    if platform is None or not isinstance(entries, list):
        return []
    out: list[Change] = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        changes = entry.get("changes")
        for change in changes if isinstance(changes, list) else ():
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                continue
            found = _change(platform, str(entry["id"]), str(change.get("field")), change["value"])
            if found is not None:
                out.append(found)
    return out


def _change(platform: str, page_id: str, field: str, value: dict[str, Any]) -> Change | None:
    if platform == "facebook" and field == "feed":
        item, verb = _str(value.get("item")), _str(value.get("verb"))
        post_id = _own_id(value.get("post_id"), rf"{re.escape(page_id)}_[0-9]+", page_id)
        if item == "comment" and verb in COMMENT_VERBS and post_id:
            return Change(platform, page_id, field, item, verb, post_id, _str(value.get("comment_id")))
        if item in POST_ITEMS and verb in ("add", "edited", "edit", "remove", "delete") and post_id:
            return Change(platform, page_id, field, item, verb, post_id, None)
        return None
    if platform == "instagram" and field == "comments":
        media = value.get("media")
        media_id = _own_id(media.get("id"), "[0-9]+", page_id) if isinstance(media, dict) else None
        if media_id:
            return Change(platform, page_id, field, "comment", "add", media_id, _str(value.get("id")))
    return None


def _own_id(value: Any, pattern: str, page_id: str) -> str | None:
    """``value`` when it has the shape of one of this account's posts (Facebook:
    ``{page id}_{digits}``, Instagram: digits). It becomes a Graph API path read with the
    page's token, so another page's post, a path or odd characters are dropped, and logged."""
    found = _str(value)
    if found is None or re.fullmatch(pattern, found):
        return found
    log.warning("webhook_ignored", reason="post id is not one of this account's posts", page_id=page_id)
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, bool):  # an int to Python, never an id to Meta
        return None
    return str(value) if isinstance(value, (str, int)) and str(value) else None


class ScanQueue:
    """Posts waiting for a targeted scan, each once however many events name it.

    ``put`` returns True when the queue was empty, i.e. when the caller must schedule a drain;
    ``take`` empties it. An event that arrives while a drain runs starts a new queue (and so a
    new scan): it may describe a change the running scan read too early to see.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Scope, int] = {}
        self.events = 0
        self.coalesced = 0

    def put(self, scope: Scope) -> bool:
        with self._lock:
            self.events += 1
            first = not self._pending
            if scope in self._pending:
                self.coalesced += 1
            self._pending[scope] = self._pending.get(scope, 0) + 1
            return first

    def take(self) -> list[Scope]:
        with self._lock:
            scopes, self._pending = list(self._pending), {}
            return scopes

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class WebhookApp:
    """The ASGI application: ``GET`` handshake and signed ``POST`` on ``CALLBACK_PATH``.

    ``accounts`` maps (platform, page id) to an account name; ``on_scope`` is called (on the
    server's thread) for each post to scan and must only queue.
    """

    def __init__(
        self,
        *,
        app_secret: str,
        verify_token: str,
        accounts: Mapping[tuple[str, str], str],
        on_scope: Callable[[Scope, Change], None],
        max_body: int,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        self._secret = app_secret.encode()
        self._verify_token = verify_token.encode()
        self._accounts = dict(accounts)
        self._on_scope = on_scope
        self.max_body = max_body
        self.body_timeout = body_timeout
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def count(self, key: str) -> int:
        with self._lock:
            self.counts[key] = n = self.counts.get(key, 0) + 1
            return n

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not served
        if scope["path"] != CALLBACK_PATH:
            await _respond(send, 404, b"not found")
        elif scope["method"] == "GET":
            await self._handshake(scope, send)
        elif scope["method"] == "POST":
            await self._notification(scope, receive, send)
        else:
            await _respond(send, 405, b"method not allowed")

    async def _handshake(self, scope: dict[str, Any], send: Send) -> None:
        """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        mode = (query.get("hub.mode") or [""])[0]
        token = (query.get("hub.verify_token") or [""])[0].encode()
        challenge = (query.get("hub.challenge") or [""])[0]
        if not hmac.compare_digest(token, self._verify_token):
            reason = "wrong verify token"
        elif mode != "subscribe":
            reason = "hub.mode is not subscribe"
        elif not challenge:
            reason = "no hub.challenge"
        else:
            log.info("webhook_subscribed")
            await _respond(send, 200, challenge.encode())
            return
        log.warning("webhook_refused", reason=f"handshake: {reason}", count=self.count("handshake"))
        await _respond(send, 403, b"forbidden")

    async def _notification(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            log.warning(
                "webhook_refused", reason="body too large", bytes=int(declared), count=self.count("too_large")
            )
            await _respond(send, 413, b"payload too large", close=True)
            return
        body = bytearray()
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), deadline - asyncio.get_running_loop().time())
            except asyncio.TimeoutError:
                log.warning("webhook_refused", reason="body too slow", count=self.count("too_slow"))
                await _respond(send, 408, b"request timeout", close=True)
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                log.warning("webhook_refused", reason="body too large", count=self.count("too_large"))
                await _respond(send, 413, b"payload too large", close=True)
                return
            if not message.get("more_body"):
                break
        if not signature_ok(self._secret, bytes(body), headers.get("x-hub-signature-256")):
            reason = "missing signature" if "x-hub-signature-256" not in headers else "bad signature"
            log.warning("webhook_refused", reason=reason, count=self.count("bad_signature"))
            await _respond(send, 403, b"forbidden")
            return
        try:
            payload = json.loads(bytes(body))
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            log.warning("webhook_refused", reason="signed body is not JSON", count=self.count("not_json"))
            await _respond(send, 400, b"bad request")
            return
        self.count("accepted")
        for change in parse_changes(payload):
            name = self._accounts.get((change.platform, change.page_id))
            if name is None:
                log.info("webhook_ignored", reason="not a configured account", page_id=change.page_id)
                continue
            target: Scope = (name, None if change.whole_account else change.post_id)
            self._on_scope(target, change)
        await _respond(send, 200, b"ok")


async def _respond(send: Send, status: int, body: bytes, *, close: bool = False) -> None:
    """``close``: the request's body was not read to its end, so the connection cannot carry
    another request; closing it now frees its slot instead of at the keep-alive timeout."""
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers + [(b"connection", b"close")] if close else headers,
        }
    )
    await send({"type": "http.response.body", "body": body})


class WebhookServer:
    """uvicorn serving a ``WebhookApp`` on its own thread; ``start`` returns once it listens."""

    def __init__(self, app: WebhookApp, host: str, port: int) -> None:
        import uvicorn

        self.app = app
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._host = host
        self._port = port
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                lifespan="off",
                log_config=None,
                log_level="warning",
                access_log=False,
                timeout_keep_alive=5,
                limit_concurrency=200,
                server_header=False,
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def start(self, timeout: float = 10.0) -> WebhookServer:
        try:
            self._sock.bind((self._host, self._port))
        except OSError as exc:
            from guard.errors import ConfigError

            self._sock.close()
            raise ConfigError(
                f"webhooks.listen = {self._host}:{self._port}: cannot listen there ({exc.strerror}); "
                "pick a free port"
            ) from None
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="webhooks", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        log.info("webhooks_listening", host=self._host, port=self.port, path=CALLBACK_PATH)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._sock.close()


def accounts_by_page(accounts: Iterable[Any]) -> dict[tuple[str, str], str]:
    """(platform, page id) → account name for the platforms Meta notifies."""
    return {(a.platform, str(a.page_id)): a.name for a in accounts if a.platform in ("facebook", "instagram")}
