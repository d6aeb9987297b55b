"""A local fake of the slice of the Facebook Graph API our connector uses, for demo, tests, benches.

Shapes follow the Graph API's documented responses: cursor paging with ``paging.next`` omitted on
the last page, nested field expansion (``comments.filter(stream).limit(100){...}``), the 100/33
error for deleted or unknown objects, 190/463 for a wrong token, ``X-App-Usage`` on every response,
and injectable failures (rate limits, expired token, plain 5xx) via :meth:`Sandbox.fail_next`.
It runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread; one lock guards all state.

Differences from the real API, on purpose: only the Page-token view exists (every comment has
``id`` and ``from``); ``updated_time`` moves only on edits (strictly increasing);
``since``/``until`` take unix seconds or ISO-8601 only; no ``previous`` links, no ``?ids=``,
no batch requests.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import zlib
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlencode

from guard.demo._fields import (
    COMMENT_DEFAULT,
    COMMENT_UNMODELLED,
    PAGE_DEFAULT,
    PAGE_UNMODELLED,
    POST_DEFAULT,
    POST_UNMODELLED,
    Failure,
    FieldSpec,
    FieldsSyntaxError,
    GraphError,
    JsonHandler,
    bad_path,
    bool_param,
    cursor,
    failure_headers,
    format_fields,
    int_param,
    missing,
    parse_fields,
    time_param,
    to_unix,
    token_error,
    uncursor,
    unmodelled,
)
from guard.demo._model import (
    COMMENT_VALUES,
    PAGE_VALUES,
    POST_VALUES,
    Comment,
    Node,
    Post,
    edit_post,
)

__all__ = ["Sandbox"]

_JSON = "application/json; charset=UTF-8"
_SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})
_LOG_LIMIT = 10_000  # requests kept for inspection; benches make many more


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops bursts of parallel connects (1 s SYN retry)


class Sandbox:
    """A fake Graph API for one Page: mutate it from Python, read it over HTTP at ``base_url``."""

    def __init__(
        self,
        page_id: str = "100200300",
        page_name: str = "Riverside Community Center",
        token: str = "sandbox-token",
        version: str = "v24.0",
        page_size: int = 25,
        comment_page_size: int = 100,
        *,
        max_page_size: int = 100,
        log_limit: int = _LOG_LIMIT,
    ) -> None:
        self.page_id: str = page_id
        self.page_name: str = page_name
        self.version = version
        self.page_size, self.comment_page_size = page_size, comment_page_size
        self.max_page_size = min(max_page_size, 100)  # lower it to force paging in tests
        self._token = token
        self._lock = threading.Lock()
        self._posts: dict[str, Post] = {}
        self._comments: dict[str, Comment] = {}
        self._index: list[tuple[int, int, str]] = []  # all posts, sorted by (created, seq)
        self._seq = 0
        self._failures: list[Failure] = []
        self._count = 0
        self._log: deque[tuple[str, str, dict[str, str]]] = deque(maxlen=log_limit)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()
        self._base_url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving on a free 127.0.0.1 port in a daemon thread; return self."""
        if self._server is not None:
            raise RuntimeError("Sandbox already started")
        server = _Server(("127.0.0.1", 0), JsonHandler)
        server.app = self  # type: ignore[attr-defined]
        self._server = server
        self._base_url = f"http://127.0.0.1:{server.server_address[1]}/"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="graph-sandbox", daemon=True
        )
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
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
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
        return self._base_url

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

    def add_post(self, message: str, created_time: datetime | None = None, post_id: str | None = None) -> str:
        """Publish a Page post; return its id ``{page_id}_{n}`` (or ``post_id`` when given)."""
        with self._lock:
            self._seq += 1
            post_id = post_id or f"{self.page_id}_{self._seq}"
            if post_id in self._posts:
                raise ValueError(f"post {post_id} already exists")
            created = to_unix(created_time)
            post = Post(post_id, post_id.rsplit("_", 1)[-1], message, created, created, self._seq)
            self._posts[post_id] = post
            insort(self._index, (*post.key, post_id))
            return post_id

    def edit_post(self, post_id: str, message: str) -> None:
        """Change a post's message and move ``updated_time`` forward (at least one second)."""
        with self._lock:
            edit_post(self._post(post_id), message)

    def delete_post(self, post_id: str) -> None:
        """Delete a post; it and its comments then answer 100/33."""
        with self._lock:
            self._post(post_id).deleted = True

    def add_comment(
        self,
        post_id: str,
        message: str,
        author: str = "Dana Reader",
        author_id: str | None = None,
        parent_id: str | None = None,
        from_page: bool = False,
        created_time: datetime | None = None,
    ) -> str:
        """Add a comment (a reply when ``parent_id`` is set); return its id ``{post_n}_{n}``.

        Like Facebook, a reply to a reply is attached to the top-level comment.
        """
        with self._lock:
            return self._add_comment(
                post_id, message, author, author_id, parent_id, from_page, to_unix(created_time)
            )

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

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests whose path contains ``path_contains`` with an error.

        With ``code``: a Graph JSON error (HTTP ``status``, default 400; canned message per
        code). Without: a ``text/html`` page (HTTP ``status``, default 500). BUC codes
        80000-80014 get an ``X-Business-Use-Case-Usage`` header unless ``headers`` is given;
        code 4 reports ``X-App-Usage`` at 100%. Rules queue up; the first one matching fires.
        """
        if n < 1:
            raise ValueError("fail_next needs n >= 1")
        extra = dict(headers) if headers else failure_headers(code, self.page_id)
        with self._lock:
            self._failures.append(Failure(n, status, code, subcode, message, extra, path_contains))

    # -- state helpers (lock held) -----------------------------------------------------------

    def _post(self, post_id: str) -> Post:
        post = self._posts.get(post_id)
        if post is None or post.deleted:
            raise KeyError(f"no live post {post_id}")
        return post

    def _comment(self, comment_id: str) -> Comment:
        comment = self._comments.get(comment_id)
        if comment is None or not self._alive(comment):
            raise KeyError(f"no live comment {comment_id}")
        return comment

    def _alive(self, node: Node) -> bool:
        if isinstance(node, Post):
            return not node.deleted
        parent = self._comments.get(node.parent_id) if node.parent_id else None
        return (
            not node.deleted
            and not self._posts[node.post_id].deleted
            and (parent is None or not parent.deleted)
        )

    def _add_comment(
        self,
        post_id: str,
        message: str,
        author: str,
        author_id: str | None,
        parent_id: str | None,
        from_page: bool,
        created: int,
    ) -> str:
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
        comment = Comment(
            f"{post.number}_{self._seq}",
            post_id,
            parent.id if parent else None,
            message,
            author,
            author_id,
            created,
            self._seq,
        )
        self._comments[comment.id] = comment
        insort(post.entries, (*comment.key, comment.id))
        if parent is not None:
            insort(parent.entries, (*comment.key, comment.id))
        return comment.id

    # -- HTTP (JsonHandler calls these) --------------------------------------------------------

    def _handle(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict, bytes]:
        headers = {"Content-Type": _JSON, "facebook-api-version": self.version}
        with self._lock:
            self._count += 1
            self._log.append((method, path, {k: v for k, v in params.items() if k not in _SECRET_PARAMS}))
            usage = {
                "call_count": min(10, 1 + self._count // 1000),
                "total_cputime": 1,
                "total_time": 1,
            }  # stays low so clients never throttle themselves
            headers["X-App-Usage"] = json.dumps(usage, separators=(",", ":"))
            try:
                failure = self._take_failure(path)
                if failure is not None:
                    raise failure.error()
                if params.get("access_token") != self._token:
                    raise token_error()
                parts = [p for p in path.split("/") if p]
                if not parts or parts[0] != self.version:
                    raise bad_path(path)
                body: Any = self._route(method, parts[1:], params)
                status = 200
            except GraphError as exc:
                status, body = exc.status, exc.body
                headers.update(exc.headers)
        if isinstance(body, bytes):
            return status, headers, body
        return status, headers, json.dumps(body, separators=(",", ":")).encode()

    def _track(self, conn: socket.socket, open_: bool) -> None:
        """Remember open connections so :meth:`stop` can close them."""
        with self._lock:
            (self._sockets.add if open_ else self._sockets.discard)(conn)

    def _take_failure(self, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.path_contains is None or failure.path_contains in path:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _route(self, method: str, parts: list[str], params: dict[str, str]) -> Any:
        if not parts or len(parts) > 2:
            raise bad_path("/" + "/".join(parts))
        object_id, edge = parts[0], (parts[1] if len(parts) == 2 else None)
        if object_id == "debug_token" and method == "GET" and edge is None:
            return self._debug_token()
        try:
            fields = parse_fields(params.get("fields", ""))
        except FieldsSyntaxError as exc:
            raise GraphError(400, 2500, str(exc)) from None
        if object_id == self.page_id:
            if method == "GET" and edge is None:
                return self._render(None, fields or PAGE_DEFAULT, params)
            if method == "GET" and edge in ("posts", "feed"):
                return self._list(None, params, fields or POST_DEFAULT, params)
            raise bad_path(f"/{edge}" if edge else "/")
        node = self._posts.get(object_id) or self._comments.get(object_id)
        if node is None or not self._alive(node):
            raise missing(method, object_id)
        if edge not in (None, "comments"):
            raise bad_path(f"/{edge}")
        if method == "GET":
            if edge is None:
                default = POST_DEFAULT if isinstance(node, Post) else COMMENT_DEFAULT
                return self._render(node, fields or default, params)
            return self._list(node, params, fields or COMMENT_DEFAULT, params)
        if method == "POST" and edge == "comments":
            if not params.get("message"):
                raise GraphError(400, 100, "(#100) Missing message or attachment")
            post_id = node.id if isinstance(node, Post) else node.post_id
            parent = None if isinstance(node, Post) else node.id
            return {
                "id": self._add_comment(
                    post_id, params["message"], self.page_name, None, parent, True, int(time.time())
                )
            }
        if method == "POST" and edge is None:
            if "is_hidden" in params:
                node.hidden = bool_param(params["is_hidden"], "is_hidden")
            if "message" in params:
                if isinstance(node, Post):
                    edit_post(node, params["message"])
                else:
                    node.message = params["message"]
            return {"success": True}
        if method == "DELETE" and edge is None:
            node.deleted = True
            return {"success": True}
        raise bad_path("/" + "/".join(parts))

    def _debug_token(self) -> dict[str, Any]:
        """A long-lived Page token (``expires_at`` 0: never) with the Page permissions."""
        scopes = ["pages_read_engagement", "pages_read_user_content", "pages_manage_engagement"]
        return {
            "data": {
                "app_id": "1000000000",
                "type": "PAGE",
                "application": "comment-guard sandbox",
                "data_access_expires_at": 0,
                "expires_at": 0,
                "is_valid": True,
                "profile_id": self.page_id,
                "scopes": scopes,
            }
        }

    # -- listing and rendering (lock held) ---------------------------------------------------

    def _list(
        self,
        owner: Node | None,
        opts: dict[str, str],
        fields: tuple[FieldSpec, ...],
        next_params: dict[str, str],
        embedded: bool = False,
    ) -> dict | None:
        """One page of an edge: the Page's posts (owner None) or an object's comments."""
        if owner is None:
            entries, newest_first = self._index, True
            nodes: Mapping[str, Node] = self._posts
            keep = self._window(opts)
        else:
            entries, nodes = owner.entries, self._comments
            newest_first = opts.get("order") == "reverse_chronological"
            stream = isinstance(owner, Comment) or opts.get("filter") == "stream"
            window = self._window(opts)
            keep = lambda c: window(c) and (stream or getattr(c, "parent_id", None) is None)  # noqa: E731
        default = self.page_size if owner is None else self.comment_page_size
        limit = max(0, min(int_param(opts.get("limit"), default), self.max_page_size))
        ordered: Any = entries
        if "after" in opts:
            after = uncursor(opts["after"])
            if newest_first:
                ordered = entries[: bisect_left(entries, after, key=lambda e: e[:2])]
            else:
                ordered = entries[bisect_right(entries, after, key=lambda e: e[:2]) :]
        found: list[Any] = []
        more = False
        for entry in reversed(ordered) if newest_first else ordered:
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
            paging: dict[str, Any] = {
                "cursors": {"before": cursor(found[0].key), "after": cursor(found[-1].key)}
            }
            if more:
                path = f"{self.version}/{owner.id if owner else self.page_id}/" + (
                    "comments" if owner else "posts"
                )
                query = {k: v for k, v in next_params.items() if k not in ("after", "before")}
                query["after"] = cursor(found[-1].key)
                paging["next"] = f"{self._base_url}{path}?{urlencode(query)}"
            out["paging"] = paging
        if summary:
            total = sum(1 for e in entries if self._alive(nodes[e[2]]) and keep(nodes[e[2]]))
            out["summary"] = {
                "order": opts.get("order", "chronological"),
                "total_count": total,
                "can_comment": True,
            }
        return out

    def _window(self, opts: dict[str, str]) -> Callable[[Node], bool]:
        since = time_param(opts.get("since"), "since")
        until = time_param(opts.get("until"), "until")
        return lambda n: (since is None or n.created >= since) and (until is None or n.created <= until)

    def _render(
        self, node: Node | None, fields: tuple[FieldSpec, ...], params: dict[str, str]
    ) -> dict[str, Any]:
        """A node as JSON with only the requested fields (plus ``id``, which Graph always adds)."""
        out: dict[str, Any] = {}
        for spec in fields:
            value = self._value(node, spec, params)
            if value is not None:
                out[spec.name] = value
        out.setdefault("id", self.page_id if node is None else node.id)
        return out

    def _value(self, node: Node | None, spec: FieldSpec, params: dict[str, str]) -> Any:
        """One field of a node; None when Graph would omit it."""
        name = spec.name
        if name == "from" and node is not None:
            author = (
                (node.author, node.author_id) if isinstance(node, Comment) else (self.page_name, self.page_id)
            )
            wanted = {s.name for s in spec.children or ()} or {"name"}
            return {k: v for k, v in zip(("name", "id"), author) if k in wanted or k == "id"}
        if name == "comments" and node is not None:
            opts = dict(spec.modifiers)
            fields = spec.children or COMMENT_DEFAULT
            next_params = {
                "access_token": params.get("access_token", ""),
                "pretty": "0",
                "fields": format_fields(fields),
                **opts,
            }
            next_params.setdefault("limit", str(self.comment_page_size))
            return self._list(node, opts, fields, next_params, embedded=True)
        if name == "parent" and isinstance(node, Comment):
            parent = self._comments.get(node.parent_id or "")
            return parent and self._render(parent, spec.children or COMMENT_DEFAULT, params)
        if node is None:
            table, known, kind = PAGE_VALUES, PAGE_UNMODELLED, "Page"
        elif isinstance(node, Post):
            table, known, kind = POST_VALUES, POST_UNMODELLED, "PagePost"
        else:
            table, known, kind = COMMENT_VALUES, COMMENT_UNMODELLED, "Comment"
        getter = table.get(name)
        return unmodelled(name, known, kind) if getter is None else getter(self, node)
