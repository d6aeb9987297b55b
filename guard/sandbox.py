"""A local fake of the slice of the Facebook Graph API our connector uses, for demo, tests, benches.

Shapes follow ``/work/shared/PLATFORMS.md`` section 1: cursor paging with ``paging.next`` omitted on
the last page, nested field expansion (``comments.filter(stream).limit(100){...}``), the 100/33
error for deleted or unknown objects, 190/463 for a wrong token, ``X-App-Usage`` on every response,
and injectable failures (rate limits, expired token, plain 5xx) via :meth:`Sandbox.fail_next`.
It runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread; one lock guards all state.

Differences from the real API, on purpose: only Page-token views exist (every comment has ``id``
and ``from``); ``updated_time`` moves only on :meth:`Sandbox.edit_post` (strictly increasing);
``until``/``since`` accept unix seconds or ISO-8601 only; no ``previous`` links, no ``?ids=``.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import zlib
from bisect import bisect_left, bisect_right, insort
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from guard._sandbox_fields import FieldSpec, FieldsSyntaxError, format_fields, parse_fields

__all__ = ["Sandbox"]

_JSON = "application/json; charset=UTF-8"
_SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})
_LOG_LIMIT = 10_000  # requests kept for inspection; benches make many more
_POST_DEFAULT = parse_fields("created_time,message,id")
_COMMENT_DEFAULT = parse_fields("created_time,from,message,id")
_PAGE_DEFAULT = parse_fields("name,id")
# Real fields we do not model: requested, they are omitted as the API omits empty fields.
_POST_UNMODELLED = frozenset(
    "story attachments full_picture picture icon shares privacy place message_tags to with_tags "
    "parent_id admin_creator application call_to_action is_expired is_popular properties actions "
    "scheduled_publish_time likes reactions sharedposts insights promotable_id".split()
)
_COMMENT_UNMODELLED = frozenset(
    "admin_creator application attachment live_broadcast_timestamp message_tags object "
    "private_reply_conversation reactions likes".split()
)
_PAGE_UNMODELLED = frozenset("about category fan_count followers_count link username picture".split())
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


def _ts(value: datetime | None) -> int:
    if value is None:
        return int(time.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(key: Key) -> str:
    return json.dumps(list(key)).encode().hex().upper()  # opaque, URL-safe, like Graph's


def _uncursor(text: str) -> Key:
    try:
        ts, seq = json.loads(bytes.fromhex(text))
        return int(ts), int(seq)
    except (ValueError, TypeError):
        raise _GraphError(400, 100, f"(#100) Invalid cursor: {text}") from None


def _fbtrace() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


class _GraphError(Exception):
    """An error response: HTTP status plus the Graph ``error`` envelope."""

    def __init__(self, status: int, code: int, message: str, *, subcode: int | None = None,
                 kind: str = "OAuthException", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        error: dict[str, Any] = {"message": message, "type": kind, "code": code}
        if code in _TRANSIENT_CODES:
            error["is_transient"] = True
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = _fbtrace()
        self.status, self.body, self.headers = status, {"error": error}, dict(headers or {})


def _missing(method: str, object_id: str) -> _GraphError:
    return _GraphError(
        400, 100, f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not "
        "exist, cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33, kind="GraphMethodException")


def _bad_path(path: str) -> _GraphError:
    return _GraphError(400, 2500, f"Unknown path components: {path}")


@dataclass
class _Post:
    id: str
    number: str
    message: str
    created: int
    updated: int
    seq: int
    hidden: bool = False
    deleted: bool = False
    entries: list[tuple[int, int, str]] = field(default_factory=list)  # all comments, sorted

    @property
    def key(self) -> Key:
        return self.created, self.seq


@dataclass
class _Comment:
    id: str
    post_id: str
    parent_id: str | None
    message: str
    author: str
    author_id: str
    created: int
    seq: int
    hidden: bool = False
    deleted: bool = False
    entries: list[tuple[int, int, str]] = field(default_factory=list)  # replies, sorted

    @property
    def key(self) -> Key:
        return self.created, self.seq


@dataclass
class _Failure:
    remaining: int
    status: int | None
    code: int | None
    subcode: int | None
    message: str | None
    headers: dict[str, str]
    path_contains: str | None


Node = _Post | _Comment


class Sandbox:
    """A fake Graph API for one Page. Mutate it from Python; talk to it over HTTP at ``base_url``."""

    def __init__(self, page_id: str = "100200300", page_name: str = "Riverside Community Center",
                 token: str = "sandbox-token", version: str = "v24.0", page_size: int = 25,
                 comment_page_size: int = 100, *, max_page_size: int = 100) -> None:
        self.page_id, self.page_name, self.version = page_id, page_name, version
        self.page_size, self.comment_page_size = page_size, comment_page_size
        self.max_page_size = min(max_page_size, 100)  # lower it to force paging in tests
        self._token = token
        self._lock = threading.Lock()
        self._posts: dict[str, _Post] = {}
        self._comments: dict[str, _Comment] = {}
        self._index: list[tuple[int, int, str]] = []  # all posts, sorted by (created, seq)
        self._seq = 0
        self._failures: list[_Failure] = []
        self._count = 0
        self._log: deque[tuple[str, str, dict[str, str]]] = deque(maxlen=_LOG_LIMIT)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving on a free 127.0.0.1 port in a daemon thread; return self."""
        if self._server is not None:
            raise RuntimeError("Sandbox already started")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.sandbox = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="graph-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections (clients see a reset)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            for sock in list(self._sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/``; the connector appends ``<version>/...``."""
        if self._server is None:
            raise RuntimeError("Sandbox not started; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def request_count(self) -> int:
        """Total HTTP requests served, failures included."""
        with self._lock:
            return self._count

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """The last 10,000 requests as (method, path, params); token params removed."""
        with self._lock:
            return list(self._log)

    # -- Python-side state changes -----------------------------------------------------------

    def add_post(self, message: str, created_time: datetime | None = None,
                 post_id: str | None = None) -> str:
        """Publish a Page post; return its id ``{page_id}_{n}`` (or ``post_id`` when given)."""
        with self._lock:
            self._seq += 1
            post_id = post_id or f"{self.page_id}_{self._seq}"
            if post_id in self._posts:
                raise ValueError(f"post {post_id} already exists")
            created = _ts(created_time)
            post = _Post(post_id, post_id.rsplit("_", 1)[-1], message, created, created, self._seq)
            self._posts[post_id] = post
            insort(self._index, (*post.key, post_id))
            return post_id

    def edit_post(self, post_id: str, message: str) -> None:
        """Change a post's message and move ``updated_time`` forward (at least one second)."""
        with self._lock:
            _edit_post(self._post(post_id), message)

    def delete_post(self, post_id: str) -> None:
        """Delete a post; it and its comments then answer 100/33."""
        with self._lock:
            self._post(post_id).deleted = True

    def add_comment(self, post_id: str, message: str, author: str = "Dana Reader",
                    author_id: str | None = None, parent_id: str | None = None,
                    from_page: bool = False, created_time: datetime | None = None) -> str:
        """Add a comment (a reply when ``parent_id`` is set); return its id ``{post_n}_{n}``.

        Like Facebook, a reply to a reply is attached to the top-level comment.
        """
        with self._lock:
            return self._add_comment(post_id, message, author, author_id, parent_id, from_page,
                                     _ts(created_time))

    def edit_comment(self, comment_id: str, message: str) -> None:
        """Change a comment's message."""
        with self._lock:
            self._comment(comment_id).message = message

    def hide_comment(self, comment_id: str, hidden: bool = True) -> None:
        """Hide (or unhide) a comment; it stays listed with ``is_hidden`` flipped."""
        with self._lock:
            self._comment(comment_id).hidden = hidden

    def delete_comment(self, comment_id: str) -> None:
        """Delete a comment (and so its replies); reads of it then answer 100/33."""
        with self._lock:
            self._comment(comment_id).deleted = True

    def set_token(self, token: str) -> None:
        """Accept only ``token`` from now on; any other gets 190/463."""
        with self._lock:
            self._token = token

    def fail_next(self, n: int = 1, *, status: int | None = None, code: int | None = None,
                  subcode: int | None = None, message: str | None = None,
                  headers: dict[str, str] | None = None, path_contains: str | None = None) -> None:
        """Answer the next ``n`` requests whose path contains ``path_contains`` with an error.

        With ``code``: a Graph JSON error (HTTP ``status``, default 400; canned message per
        code). Without: a ``text/html`` page (HTTP ``status``, default 500). BUC codes
        80000-80014 get an ``X-Business-Use-Case-Usage`` header unless ``headers`` is given;
        code 4 reports ``X-App-Usage`` at 100%. Rules queue up; the first one matching fires.
        """
        extra = dict(headers or {})
        if code is not None and 80000 <= code <= 80014 and not headers:
            extra["X-Business-Use-Case-Usage"] = json.dumps({self.page_id: [{
                "type": "pages", "call_count": 100, "total_cputime": 10, "total_time": 10,
                "estimated_time_to_regain_access": 5}]})
        if code == 4 and not headers:
            extra["X-App-Usage"] = json.dumps(
                {"call_count": 100, "total_cputime": 10, "total_time": 10})
        with self._lock:
            self._failures.append(_Failure(n, status, code, subcode, message, extra, path_contains))

    # -- state helpers (lock held) -----------------------------------------------------------

    def _post(self, post_id: str) -> _Post:
        post = self._posts.get(post_id)
        if post is None or post.deleted:
            raise KeyError(f"no live post {post_id}")
        return post

    def _comment(self, comment_id: str) -> _Comment:
        comment = self._comments.get(comment_id)
        if comment is None or not self._alive(comment):
            raise KeyError(f"no live comment {comment_id}")
        return comment

    def _alive(self, node: Node) -> bool:
        if isinstance(node, _Post):
            return not node.deleted
        parent = self._comments.get(node.parent_id) if node.parent_id else None
        return (not node.deleted and not self._posts[node.post_id].deleted
                and (parent is None or not parent.deleted))

    def _add_comment(self, post_id: str, message: str, author: str, author_id: str | None,
                     parent_id: str | None, from_page: bool, created: int) -> str:
        post = self._post(post_id)
        parent = self._comment(parent_id) if parent_id else None
        if parent is not None and parent.parent_id is not None:
            parent = self._comments[parent.parent_id]
        if parent is not None and parent.post_id != post_id:
            raise ValueError(f"comment {parent_id} is not on post {post_id}")
        if from_page:
            author, author_id = self.page_name, self.page_id
        elif author_id is None:
            author_id = str(10**15 + zlib.crc32(author.encode("utf-8")))
        self._seq += 1
        comment = _Comment(f"{post.number}_{self._seq}", post_id, parent.id if parent else None,
                           message, author, author_id, created, self._seq)
        self._comments[comment.id] = comment
        insort(post.entries, (*comment.key, comment.id))
        if parent is not None:
            insort(parent.entries, (*comment.key, comment.id))
        return comment.id

    # -- HTTP (called by the handler) --------------------------------------------------------

    def _handle(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict, bytes]:
        headers = {"Content-Type": _JSON, "facebook-api-version": self.version}
        with self._lock:
            self._count += 1
            self._log.append((method, path, {k: v for k, v in params.items()
                                             if k not in _SECRET_PARAMS}))
            usage = {"call_count": min(95, 1 + self._count // 200), "total_cputime": 1,
                     "total_time": 1}
            headers["X-App-Usage"] = json.dumps(usage, separators=(",", ":"))
            try:
                failure = self._take_failure(path)
                if failure is not None and failure.code is None:
                    headers.update({"Content-Type": "text/html; charset=utf-8", **failure.headers})
                    text = failure.message or "Sorry, something went wrong."
                    return (failure.status or 500, headers,
                            f"<html><body><h1>Error</h1><p>{text}</p></body></html>".encode())
                if failure is not None:
                    code = failure.code or 1
                    raise _GraphError(failure.status or 400, code,
                                      failure.message or _CANNED.get(code, f"(#{code}) Error"),
                                      subcode=failure.subcode, headers=failure.headers)
                if params.get("access_token") != self._token:
                    raise self._token_error()
                parts = [p for p in path.split("/") if p]
                if not parts or parts[0] != self.version:
                    raise _bad_path(path)
                body: Any = self._route(method, parts[1:], params)
                status = 200
            except _GraphError as exc:
                status, body = exc.status, exc.body
                headers.update(exc.headers)
        return status, headers, json.dumps(body, separators=(",", ":")).encode()

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path_contains is None or failure.path_contains in path:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _token_error(self) -> _GraphError:
        now = datetime.now(timezone.utc)
        fmt = "%A, %d-%b-%y %H:%M:%S UTC"
        message = (f"Error validating access token: Session has expired on "
                   f"{datetime.fromtimestamp(now.timestamp() - 3600, timezone.utc):{fmt}}. "
                   f"The current time is {now:{fmt}}.")
        auth = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
        return _GraphError(400, 190, message, subcode=463, headers={"WWW-Authenticate": auth})

    def _route(self, method: str, parts: list[str], params: dict[str, str]) -> Any:
        if not parts or len(parts) > 2:
            raise _bad_path("/" + "/".join(parts))
        object_id, edge = parts[0], (parts[1] if len(parts) == 2 else None)
        try:
            fields = parse_fields(params.get("fields", ""))
        except FieldsSyntaxError as exc:
            raise _GraphError(400, 2500, str(exc)) from None
        if object_id == self.page_id:
            if method == "GET" and edge is None:
                return self._render(None, fields or _PAGE_DEFAULT, params)
            if method == "GET" and edge in ("posts", "feed"):
                return self._list(None, params, fields or _POST_DEFAULT, params)
            raise _bad_path(f"/{edge}" if edge else "/")
        node = self._posts.get(object_id) or self._comments.get(object_id)
        if node is None or not self._alive(node):
            raise _missing(method, object_id)
        if edge not in (None, "comments"):
            raise _bad_path(f"/{edge}")
        if method == "GET":
            if edge is None:
                default = _POST_DEFAULT if isinstance(node, _Post) else _COMMENT_DEFAULT
                return self._render(node, fields or default, params)
            return self._list(node, params, fields or _COMMENT_DEFAULT, params)
        if method == "POST" and edge == "comments":
            if not params.get("message"):
                raise _GraphError(400, 100, "(#100) Missing message or attachment")
            post_id = node.id if isinstance(node, _Post) else node.post_id
            parent = None if isinstance(node, _Post) else node.id
            return {"id": self._add_comment(post_id, params["message"], self.page_name, None,
                                            parent, True, int(time.time()))}
        if method == "POST" and edge is None:
            if "is_hidden" in params:
                node.hidden = _flag(params["is_hidden"], "is_hidden")
            if "message" in params:
                if isinstance(node, _Post):
                    _edit_post(node, params["message"])
                else:
                    node.message = params["message"]
            return {"success": True}
        if method == "DELETE" and edge is None:
            node.deleted = True
            return {"success": True}
        raise _bad_path("/" + "/".join(parts))

    # -- listing and rendering (lock held) ---------------------------------------------------

    def _list(self, owner: Node | None, opts: dict[str, str], fields: tuple[FieldSpec, ...],
              next_params: dict[str, str], embedded: bool = False) -> dict | None:
        """One page of an edge: the Page's posts (owner None) or an object's comments."""
        if owner is None:
            entries, nodes, newest_first = self._index, self._posts, True
            keep = self._window(opts)
        else:
            entries, nodes = owner.entries, self._comments
            newest_first = opts.get("order") == "reverse_chronological"
            stream = isinstance(owner, _Comment) or opts.get("filter") == "stream"
            window = self._window(opts)
            keep = lambda c: window(c) and (stream or c.parent_id is None)  # noqa: E731
        limit = _int(opts.get("limit"), self.page_size if owner is None else self.comment_page_size)
        limit = max(0, min(limit, self.max_page_size))
        ordered: Any = entries
        if "after" in opts:
            after = _uncursor(opts["after"])
            if newest_first:
                ordered = entries[: bisect_left(entries, after, key=lambda e: e[:2])]
            else:
                ordered = entries[bisect_right(entries, after, key=lambda e: e[:2]):]
        found: list[Any] = []
        more = False
        for entry in (reversed(ordered) if newest_first else ordered):
            node = nodes[entry[2]]
            if self._alive(node) and keep(node):
                if len(found) == limit:
                    more = True
                    break
                found.append(node)
        summary = opts.get("summary") in ("true", "1")
        if embedded and not found and not summary:
            return None
        out: dict[str, Any] = {"data": [self._render(node, fields, next_params) for node in found]}
        if found:
            paging: dict[str, Any] = {"cursors": {"before": _cursor(found[0].key),
                                                  "after": _cursor(found[-1].key)}}
            if more:
                path = f"{self.version}/{owner.id if owner else self.page_id}/" + (
                    "comments" if owner else "posts")
                query = {k: v for k, v in next_params.items() if k not in ("after", "before")}
                query["after"] = _cursor(found[-1].key)
                paging["next"] = f"{self.base_url}{path}?{urlencode(query)}"
            out["paging"] = paging
        if summary:
            total = sum(1 for e in entries if self._alive(nodes[e[2]]) and keep(nodes[e[2]]))
            out["summary"] = {"order": opts.get("order", "chronological"), "total_count": total,
                              "can_comment": True}
        return out

    def _window(self, opts: dict[str, str]) -> Callable[[Node], bool]:
        since = _time_param(opts.get("since"), "since")
        until = _time_param(opts.get("until"), "until")
        return lambda n: (since is None or n.created >= since) and (until is None or
                                                                  n.created <= until)

    def _render(self, node: Node | None, fields: tuple[FieldSpec, ...],
                params: dict[str, str]) -> dict[str, Any]:
        """A node as JSON with only the requested fields (plus ``id``, which Graph always adds)."""
        out: dict[str, Any] = {}
        for spec in fields:
            value = self._value(node, spec, params)
            if value is not None:
                out[spec.name] = value
        out.setdefault("id", self.page_id if node is None else node.id)
        return out

    def _value(self, node: Node | None, spec: FieldSpec, params: dict[str, str]) -> Any:
        name = spec.name
        if name == "id":
            return self.page_id if node is None else node.id
        if node is None:
            if name == "name":
                return self.page_name
            return _unmodelled(name, _PAGE_UNMODELLED, "Page")
        if name == "from":
            author = (self.page_name, self.page_id) if isinstance(node, _Post) else (
                node.author, node.author_id)
            wanted = {s.name for s in spec.children} if spec.children else {"name", "id"}
            return {k: v for k, v in zip(("name", "id"), author) if k in wanted or k == "id"}
        if name == "comments":
            opts = dict(spec.modifiers)
            next_params = {"access_token": params.get("access_token", ""), "pretty": "0",
                           "fields": format_fields(spec.children or _COMMENT_DEFAULT), **opts}
            next_params.setdefault("limit", str(_int(opts.get("limit"), self.comment_page_size)))
            return self._list(node, opts, spec.children or _COMMENT_DEFAULT, next_params, True)
        simple: dict[str, Any] = {"message": node.message or None, "is_hidden": node.hidden,
                                  "created_time": _iso(node.created)}
        if name in simple:
            return simple[name]
        if isinstance(node, _Post):
            simple = {"updated_time": _iso(node.updated), "is_published": True,
                      "status_type": "mobile_status_update",
                      "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{node.number}"}
            return simple[name] if name in simple else _unmodelled(name, _POST_UNMODELLED, "PagePost")
        post = self._posts[node.post_id]
        from_page = node.author_id == self.page_id
        simple = {
            "can_hide": not from_page, "can_remove": True, "can_comment": node.parent_id is None,
            "can_like": True, "can_reply_privately": not from_page, "is_private": False,
            "like_count": 0, "user_likes": False,
            "comment_count": sum(1 for e in node.entries if self._alive(self._comments[e[2]])),
            "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{post.number}"
                             f"?comment_id={node.id.rsplit('_', 1)[-1]}",
        }
        if name in simple:
            return simple[name]
        if name == "parent":
            if node.parent_id is None:
                return None
            return self._render(self._comments[node.parent_id], spec.children or _COMMENT_DEFAULT,
                                params)
        return _unmodelled(name, _COMMENT_UNMODELLED, "Comment")


def _edit_post(post: _Post, message: str) -> None:
    post.message, post.updated = message, max(int(time.time()), post.updated + 1)


def _unmodelled(name: str, known: frozenset[str], node_type: str) -> None:
    if name not in known:
        raise _GraphError(400, 100, f"(#100) Tried accessing nonexisting field ({name}) "
                                    f"on node type ({node_type})")
    return None


def _int(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _GraphError(400, 100, f"(#100) Param limit must be a number: {raw}") from None


def _flag(raw: str, name: str) -> bool:
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise _GraphError(400, 100, f"(#100) Param {name} must be a boolean")


def _time_param(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(float(raw))
    except ValueError:
        pass
    try:
        return _ts(datetime.fromisoformat(raw))
    except ValueError:
        raise _GraphError(400, 100, f"(#100) The parameter {name} is not a valid time") from None


class _Handler(BaseHTTPRequestHandler):
    """Decodes one HTTP request, asks the Sandbox, writes the answer (keep-alive, no logging)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        with sandbox._lock:
            sandbox._sockets.add(self.connection)

    def finish(self) -> None:
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        with sandbox._lock:
            sandbox._sockets.discard(self.connection)
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
                    params.update({k: v if isinstance(v, str) else json.dumps(v)
                                   for k, v in loaded.items()})
            else:
                params.update(parse_qsl(raw, keep_blank_values=True))
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        status, headers, body = sandbox._handle(method, unquote(split.path), params)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
