"""Graph API wire format for ``guard.sandbox``: the ``fields`` parser, errors, cursors, params.

``id,message,comments.filter(stream).limit(100){id,from{name},parent}`` becomes a tuple of
:class:`FieldSpec`; :func:`format_fields` turns one back into text so the sandbox can write a
``next`` URL for an embedded edge exactly as the real API does. :class:`GraphError` carries an
error response (status, ``{"error": {...}}`` envelope, headers); the helpers below build the
envelopes the real API sends. :class:`JsonHandler` is the HTTP glue. Private to the sandbox.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "FieldSpec",
    "FieldsSyntaxError",
    "parse_fields",
    "format_fields",
    "GraphError",
    "Failure",
    "missing",
    "bad_path",
    "token_error",
    "unmodelled",
    "failure_headers",
    "canned_message",
    "Key",
    "to_unix",
    "iso",
    "cursor",
    "uncursor",
    "int_param",
    "bool_param",
    "time_param",
    "JsonHandler",
    "POST_DEFAULT",
    "COMMENT_DEFAULT",
    "PAGE_DEFAULT",
    "POST_UNMODELLED",
    "COMMENT_UNMODELLED",
    "PAGE_UNMODELLED",
]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class FieldsSyntaxError(ValueError):
    """The ``fields`` text is malformed; ``str()`` mimics the Graph API's syntax-error message."""


@dataclass(frozen=True)
class FieldSpec:
    """One requested field: ``name``, its ``.modifier(arg)`` calls, and ``{children}`` if any."""

    name: str
    modifiers: tuple[tuple[str, str], ...] = ()
    children: tuple[FieldSpec, ...] | None = None

    def modifier(self, key: str) -> str | None:
        """Return the argument of the last ``.key(...)`` modifier, or None."""
        found = None
        for name, arg in self.modifiers:
            if name == key:
                found = arg
        return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> FieldsSyntaxError:
        got = self.text[self.pos] if self.pos < len(self.text) else "end of string"
        return FieldsSyntaxError(
            f'Syntax error "Expected {expected} instead of "{got}"." at character {self.pos}: {self.text}'
        )

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def name(self) -> str:
        self.peek()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
            self.pos += 1
        if start == self.pos:
            raise self.fail("field name")
        return self.text[start : self.pos]

    def field_list(self, closing: str) -> tuple[FieldSpec, ...]:
        fields = [self.field()]
        while self.peek() == ",":
            self.pos += 1
            if self.peek() in (closing, ""):  # tolerate a trailing comma, as Graph does
                break
            fields.append(self.field())
        if self.peek() != closing:
            raise self.fail("end of string" if closing == "" else f'"{closing}"')
        return tuple(fields)

    def field(self) -> FieldSpec:
        name = self.name()
        modifiers: list[tuple[str, str]] = []
        children: tuple[FieldSpec, ...] | None = None
        while True:
            char = self.peek()
            if char == ".":
                self.pos += 1
                key = self.name()
                if self.peek() != "(":
                    raise self.fail('"("')
                end = self.text.find(")", self.pos)
                if end < 0:
                    self.pos = len(self.text)
                    raise self.fail('")"')
                modifiers.append((key, self.text[self.pos + 1 : end].strip()))
                self.pos = end + 1
            elif char == "{" and children is None:
                self.pos += 1
                children = self.field_list("}")
                self.pos += 1
            else:
                return FieldSpec(name, tuple(modifiers), children)


def parse_fields(text: str) -> tuple[FieldSpec, ...]:
    """Parse a ``fields`` value; an empty or blank value gives an empty tuple."""
    if not text.strip():
        return ()
    return _Parser(text).field_list("")


def format_fields(fields: tuple[FieldSpec, ...]) -> str:
    """Inverse of :func:`parse_fields` (whitespace normalised away)."""
    parts = []
    for spec in fields:
        text = spec.name + "".join(f".{key}({arg})" for key, arg in spec.modifiers)
        if spec.children is not None:
            text += "{" + format_fields(spec.children) + "}"
        parts.append(text)
    return ",".join(parts)


POST_DEFAULT = parse_fields("created_time,message,id")
COMMENT_DEFAULT = parse_fields("created_time,from,message,id")
PAGE_DEFAULT = parse_fields("name,id")
# Real fields we do not model: when requested they are omitted, as Graph omits empty fields.
POST_UNMODELLED = frozenset(
    "story attachments full_picture picture icon shares privacy place message_tags to with_tags "
    "parent_id admin_creator application call_to_action is_expired is_popular properties actions "
    "scheduled_publish_time likes reactions sharedposts insights promotable_id".split()
)
COMMENT_UNMODELLED = frozenset(
    "admin_creator application attachment live_broadcast_timestamp message_tags object "
    "private_reply_conversation reactions likes".split()
)
PAGE_UNMODELLED = frozenset("about category fan_count followers_count link username picture".split())
_TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, *range(80000, 80015)})
_CANNED: dict[int, str] = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    102: "Session key invalid or no longer valid",
    341: "(#341) Application limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try "
    "again. For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
}

Key = tuple[int, int]  # (created unix seconds, insertion sequence): the order of everything


class GraphError(Exception):
    """An error response: HTTP status, the Graph ``{"error": {...}}`` envelope, extra headers."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        kind: str = "OAuthException",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        error: dict[str, Any] = {"message": message, "type": kind, "code": code}
        if code in _TRANSIENT_CODES:
            error["is_transient"] = True
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
        self.status, self.headers = status, dict(headers or {})
        self.body: dict[str, Any] | bytes = {"error": error}

    @classmethod
    def html(cls, status: int, text: str, headers: dict[str, str]) -> GraphError:
        """A non-JSON error page, as a proxy in front of Graph sends on a bad day."""
        exc = cls(status, 1, text, headers={"Content-Type": "text/html; charset=utf-8", **headers})
        exc.body = f"<html><body><h1>Error</h1><p>{text}</p></body></html>".encode()
        return exc


@dataclass
class Failure:
    """One ``Sandbox.fail_next`` rule: the next ``remaining`` matching requests get ``error()``."""

    remaining: int
    status: int | None
    code: int | None
    subcode: int | None
    message: str | None
    headers: dict[str, str]
    path_contains: str | None

    def error(self) -> GraphError:
        if self.code is None:
            return GraphError.html(
                self.status or 500, self.message or "Sorry, something went wrong.", self.headers
            )
        return GraphError(
            self.status or 400,
            self.code,
            self.message or canned_message(self.code),
            subcode=self.subcode,
            headers=self.headers,
        )


def failure_headers(code: int | None, page_id: str) -> dict[str, str]:
    """Usage headers Graph sends with a throttling error: BUC for 80000-80014, app for 4."""
    if code is not None and 80000 <= code <= 80014:
        usage = {
            page_id: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 10,
                    "total_time": 10,
                    "estimated_time_to_regain_access": 5,
                }
            ]
        }
        return {"X-Business-Use-Case-Usage": json.dumps(usage, separators=(",", ":"))}
    if code == 4:
        usage_app = {"call_count": 100, "total_cputime": 10, "total_time": 10}
        return {"X-App-Usage": json.dumps(usage_app, separators=(",", ":"))}
    return {}


def canned_message(code: int) -> str:
    """The message Graph sends with ``code`` (a generic one for codes we have no text for)."""
    return _CANNED.get(code, f"(#{code}) An error occurred")


def missing(method: str, object_id: str) -> GraphError:
    """100/33: deleted, unknown, or not visible to this token -- Graph does not say which."""
    return GraphError(
        400,
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not "
        "exist, cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        kind="GraphMethodException",
    )


def bad_path(path: str) -> GraphError:
    return GraphError(400, 2500, f"Unknown path components: {path}")


def token_error() -> GraphError:
    """190/463 with the ``WWW-Authenticate`` header Graph adds to token errors."""
    now = time.time()
    fmt = "%A, %d-%b-%y %H:%M:%S UTC"
    message = (
        f"Error validating access token: Session has expired on "
        f"{datetime.fromtimestamp(now - 3600, timezone.utc):{fmt}}. "
        f"The current time is {datetime.fromtimestamp(now, timezone.utc):{fmt}}."
    )
    auth = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
    return GraphError(400, 190, message, subcode=463, headers={"WWW-Authenticate": auth})


def unmodelled(name: str, known: frozenset[str], node_type: str) -> None:
    """None for a real field we do not model; Graph's error for a field that does not exist."""
    if name not in known:
        raise GraphError(
            400, 100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
        )
    return None


def to_unix(value: datetime | None) -> int:
    """Unix seconds; None means now, a naive datetime means UTC."""
    if value is None:
        return int(time.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp())


def iso(ts: int) -> str:
    """Graph's timestamp format: ``2026-11-12T18:04:11+0000``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def cursor(key: Key) -> str:
    """An opaque paging cursor for a position in (created, seq) order."""
    return base64.urlsafe_b64encode(f"{key[0]}:{key[1]}".encode()).decode()


def uncursor(text: str) -> Key:
    try:
        ts, seq = base64.urlsafe_b64decode(text.encode()).decode().split(":")
        return int(ts), int(seq)
    except (ValueError, TypeError, UnicodeError):
        raise GraphError(400, 100, f"(#100) Invalid cursor: {text}") from None


def int_param(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise GraphError(400, 100, f"(#100) Param limit must be a number: {raw}") from None


def bool_param(raw: str, name: str) -> bool:
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise GraphError(400, 100, f"(#100) Param {name} must be a boolean")


def time_param(raw: str | None, name: str) -> int | None:
    """``since``/``until``: unix seconds or ISO-8601 (not the full strtotime Graph accepts)."""
    if raw is None or raw == "":
        return None
    try:
        return int(float(raw))
    except ValueError:
        pass
    try:
        return to_unix(datetime.fromisoformat(raw))
    except ValueError:
        raise GraphError(400, 100, f"(#100) The parameter {name} is not a valid time") from None


class _App(Protocol):
    def _handle(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict, bytes]: ...

    def _track(self, conn: Any, open_: bool) -> None: ...


class JsonHandler(BaseHTTPRequestHandler):
    """Decodes one request into (method, path, merged query+form params), asks ``server.app``.

    Keep-alive with Nagle off (so a client session costs no 40 ms per call); no request logging.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    @property
    def app(self) -> _App:
        return self.server.app  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.app._track(self.connection, True)

    def finish(self) -> None:
        self.app._track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Silence the default stderr request log."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            raw = self.rfile.read(length).decode("utf-8", "replace")
            if "json" in self.headers.get("Content-Type", ""):
                try:
                    loaded = json.loads(raw)
                except ValueError:
                    loaded = {}
                if isinstance(loaded, dict):
                    params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in loaded.items()})
            else:
                params.update(parse_qsl(raw, keep_blank_values=True))
        status, headers, body = self.app._handle(method, unquote(split.path), params)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
