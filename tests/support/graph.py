"""The Graph API fake: Facebook Page and Instagram business account payloads shaped exactly
like the real ones (field names, time formats, paging), served through ``responses``.

``FakeGraph`` is the transport every Graph test shares: one catch-all route for GET, POST and
DELETE on ``https://graph.facebook.com/v24.0``, one-shot failures (``fail``), and a log of every
request and write. The two account models on top of it answer in their platform's shapes:

- ``FakePage``: a Facebook Page's posts with nested ``comments.filter(stream).limit(N)``
  expansion, the ``/{post-id}/comments`` overflow edge and cursor paging, ``/{id}`` reads and
  the moderation writes. Error bodies come from ``tests/fixtures/facebook/*.json``, copied from
  real Graph responses (``error_not_found.json`` for anything deleted).
- ``FakeIG``: one business account's media, their comments and the replies under them:
  ``/{ig-user-id}`` (id, username), ``/{ig-user-id}/media`` with nested
  ``comments.limit(N){…,replies{…}}`` expansion and cursor paging, the ``/{media-id}/comments``
  and ``/{comment-id}/replies`` overflow edges, ``/{id}`` GETs (the IG 100/33
  ``IGApiException`` for anything deleted, copied from
  ``tests/fixtures/instagram/error_does_not_exist.json``), and the ``hide=true|false`` POST.
  Comments of a *restricted* user are left out of every list, as Instagram does.

The HTTP-level Graph server (a real socket, for daemon subprocesses) is the demo's sandbox,
re-exported here as ``Sandbox`` so that tests have one place to find Graph fakes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import responses

from guard.demo.sandbox import Sandbox
from tests.support.http import serve

__all__ = [
    "GRAPH",
    "PAGE_ID",
    "PAGE_NAME",
    "IG_USER_ID",
    "IG_USERNAME",
    "fixture",
    "ig_time",
    "FakeGraph",
    "FakeComment",
    "FakePost",
    "FakePage",
    "FakeIGComment",
    "FakeMedia",
    "FakeIG",
    "Sandbox",
]

GRAPH = "https://graph.facebook.com/v24.0"
PAGE_ID = "100200300"
PAGE_NAME = "Riverside Community Center"
IG_USER_ID = "17841400000000001"
IG_USERNAME = "riverside_cc"
FIXTURES = Path(__file__).parent.parent / "fixtures"
EDGE_PAGE = 25  # comments and media edges without a limit come back in pages of 25
REPLY_PAGE = 25  # nested replies{} without a limit come back in pages of 25


def fixture(name: str) -> dict[str, Any]:
    """A recorded response body from ``tests/fixtures``, e.g. ``"facebook/error_unknown_1.json"``."""
    return json.loads((FIXTURES / name).read_text())


def ig_time(moment: datetime) -> str:
    """Instagram's time format: ``2024-05-08T15:05:00+0000``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(kind: str, n: int) -> str:
    return f"QVFIU{kind}{n:06d}"


def _offset(cursor: str | None) -> int:
    return int(cursor[-6:]) if cursor else 0


def _paging(
    path: str, start: int, shown: int, total: int, kind: str, query: dict[str, Any]
) -> dict[str, Any]:
    """Graph's ``paging``: both cursors, and ``next`` (a full URL) while items remain."""
    paging: dict[str, Any] = {
        "cursors": {"before": _cursor(kind, start), "after": _cursor(kind, start + shown)}
    }
    limit = int(query["limit"])
    if start + limit < total:
        q = urlencode({**query, "after": _cursor(kind, start + limit)})
        paging["next"] = f"{GRAPH}/{path}?{q}"
    return paging


class FakeGraph:
    """The shared transport: one route on ``rsps``, failures, and the request log.

    Subclasses answer reads in ``_read(path, query)`` and writes in ``_written(method, path,
    form)``; ``path`` is the part after ``/v24.0/``.
    """

    def __init__(self, rsps: responses.RequestsMock, base: str = GRAPH) -> None:
        self.base = base.rstrip("/")
        self.failures: list[tuple[str, int, Any, dict[str, str], bool]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, query/form)
        self.writes: list[tuple[str, str, dict[str, list[str]]]] = []
        self.deleted: set[str] = set()
        # What GET /debug_token answers about the token: a never-expiring Page token with every
        # permission comment-guard uses (swap in another fixture to test expiry or a lack).
        self.token_debug: dict[str, Any] = fixture("facebook/debug_token_page.json")
        serve(rsps, self.base, self._serve, ("GET", "POST", "DELETE"))
        # Every reply names its own Content-Type; a raw failure may send none at all.
        rsps.registered()[-1].content_type = None

    @property
    def calls(self) -> int:
        """How many GET requests were made (failed ones included)."""
        return sum(1 for m, _, _ in self.requests if m == "GET")

    def fail(
        self,
        path_contains: str,
        status: int = 500,
        body: dict[str, Any] | str = "",
        headers: dict[str, str] | None = None,
        *,
        raises: Exception | None = None,
        raw: bool = False,
    ) -> None:
        """The next GET whose URL path contains ``path_contains`` fails this way: ``status``
        and ``body`` (a dict is JSON, a string an HTML error page), or ``raises`` (say a
        ``requests.Timeout``) as the transport would. ``raw``: the string ``body`` is sent as
        is with exactly ``headers`` (no Content-Type unless given), as a proxy would."""
        self.failures.append((path_contains, status, raises or body, headers or {}, raw))

    def gets_of(self, object_id: str) -> int:
        """How many ``GET /{object_id}`` node reads (not edges) were made."""
        return sum(1 for m, p, _ in self.requests if m == "GET" and p == object_id)

    # -- serving -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {}

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None):
        base = {"Content-Type": "application/json; charset=UTF-8", **self._headers()}
        if isinstance(body, str):
            base["Content-Type"] = "text/html; charset=utf-8"
            return status, {**base, **(headers or {})}, body
        return status, {**base, **(headers or {})}, json.dumps(body)

    def _serve(self, request):
        return self._get(request) if request.method == "GET" else self._write(request)

    def _write(self, request):
        path = urlsplit(request.url).path.split("/v24.0/", 1)[1]
        raw = request.body or ""
        form = parse_qs(raw if isinstance(raw, str) else raw.decode())
        form.pop("access_token", None)
        form.pop("appsecret_proof", None)
        self.requests.append((request.method, path, {k: v[0] for k, v in form.items()}))
        self.writes.append((request.method, path, form))
        return self._written(request.method, path, form)

    def _get(self, request):
        url = urlsplit(request.url)
        path = url.path.split("/v24.0/", 1)[1]
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(("GET", path, q))
        for i, (needle, status, body, headers, raw) in enumerate(self.failures):
            if needle in url.path:
                del self.failures[i]
                if isinstance(body, Exception):
                    return body
                if raw:
                    return status, headers, body
                return self._reply(status, body, headers)
        if path == "debug_token":
            return self._reply(200, self.token_debug)
        return self._read(path, q)

    def _read(self, path: str, q: dict[str, str]):
        raise NotImplementedError

    def _written(self, method: str, path: str, form: dict[str, list[str]]):
        return self._reply(200, {"success": True})


# -- Facebook ---------------------------------------------------------------------------------


@dataclass
class FakeComment:
    id: str
    message: str
    author: str = "Dana Reader"
    author_id: str = "5550001"
    created_time: str = "2026-11-20T16:02:11+0000"
    parent: str | None = None
    is_hidden: bool | None = False  # None: the field is left out (token can't moderate)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "message": self.message,
            "from": {"name": self.author, "id": self.author_id},
            "created_time": self.created_time,
        }
        if self.is_hidden is not None:
            out["is_hidden"] = self.is_hidden
        if self.parent:
            out["parent"] = {
                "created_time": "2026-11-20T16:00:00+0000",
                "from": {"name": "Someone", "id": "5550009"},
                "message": "...",
                "id": self.parent,
            }
        return out


@dataclass
class FakePost:
    id: str
    message: str
    created_time: str = "2026-11-20T15:00:00+0000"
    updated_time: str = "2026-11-20T15:00:00+0000"
    comments: list[FakeComment] = field(default_factory=list)
    # A recorded ``comments`` edge served verbatim instead of ``comments`` (e.g. comments
    # without ids, as Graph sends them to a token whose user cannot moderate the page).
    recorded_comments: dict[str, Any] | None = None

    def payload(self, comment_limit: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "message": self.message,
            "created_time": self.created_time,
            "updated_time": self.updated_time,
            "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{self.id.split('_')[1]}",
            "from": {"name": PAGE_NAME, "id": PAGE_ID},
        }
        if self.recorded_comments is not None:
            out["comments"] = self.recorded_comments
        elif self.comments:
            out["comments"] = comment_page(self, 0, comment_limit)
        return out


def comment_page(post: FakePost, start: int, limit: int) -> dict[str, Any]:
    chunk = post.comments[start : start + limit]
    return {
        "data": [c.payload() for c in chunk],
        "paging": _paging(
            f"{post.id}/comments",
            start,
            len(chunk),
            len(post.comments),
            "Y29t",
            {
                "access_token": "EAAB...",
                "pretty": 0,
                "fields": "id,message,from,created_time,parent,is_hidden",
                "filter": "stream",
                "limit": limit,
            },
        ),
    }


class FakePage(FakeGraph):
    """A Facebook Page's posts and comments, with real shapes and paging."""

    def __init__(
        self, rsps: responses.RequestsMock, posts: list[FakePost] | None = None, post_limit: int = 25
    ) -> None:
        super().__init__(rsps)
        self.posts = posts or []
        self.post_limit = post_limit

    def post(self, post_id: str) -> FakePost:
        return next(p for p in self.posts if p.id == post_id)

    def comment(self, comment_id: str) -> FakeComment:
        return next(c for p in self.posts for c in p.comments if c.id == comment_id)

    def remove_comment(self, comment_id: str) -> None:
        for p in self.posts:
            p.comments = [c for c in p.comments if c.id != comment_id]
        self.deleted.add(comment_id)

    def _headers(self) -> dict[str, str]:
        return {"x-app-usage": '{"call_count":1,"total_cputime":1,"total_time":1}'}

    def _read(self, path: str, q: dict[str, str]):
        if path == f"{PAGE_ID}/posts":
            start, limit = _offset(q.get("after")), int(q.get("limit", self.post_limit))
            m = re.search(r"comments\.filter\(stream\)\.limit\((\d+)\)", q.get("fields", ""))
            climit = int(m.group(1)) if m else EDGE_PAGE
            chunk = self.posts[start : start + limit]
            return self._reply(
                200,
                {
                    "data": [p.payload(climit) for p in chunk],
                    "paging": _paging(
                        path,
                        start,
                        len(chunk),
                        len(self.posts),
                        "cG9z",
                        {"access_token": "EAAB...", "fields": q.get("fields", ""), "limit": limit},
                    ),
                },
            )
        if path.endswith("/comments"):
            post = self.post(path.split("/")[0])
            return self._reply(
                200, comment_page(post, _offset(q.get("after")), int(q.get("limit", EDGE_PAGE)))
            )
        if path == PAGE_ID:
            return self._reply(200, {"id": PAGE_ID, "name": PAGE_NAME})
        for p in self.posts:
            if p.id == path:
                return self._reply(200, {"id": p.id})
            for c in p.comments:
                if c.id == path:
                    return self._reply(200, {"id": c.id})
        body = fixture("facebook/error_not_found.json")
        body["error"]["message"] = body["error"]["message"].replace("1201_5", path)
        return self._reply(400, body)

    def _written(self, method: str, path: str, form: dict[str, list[str]]):
        if method == "POST" and path.endswith("/comments"):
            return self._reply(200, {"id": f"{path.split('/')[0]}_9{len(self.writes)}"})
        return self._reply(200, {"success": True})


# -- Instagram --------------------------------------------------------------------------------


@dataclass
class FakeIGComment:
    id: str
    text: str
    username: str = "dana_reader"
    user_id: str = "17841400000000101"
    timestamp: str = "2026-11-20T15:05:00+0000"
    hidden: bool = False
    like_count: int = 0
    replies: list["FakeIGComment"] = field(default_factory=list)

    def payload(self, reply: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "timestamp": self.timestamp,
            "username": self.username,
            "from": {"id": self.user_id, "username": self.username},
            "hidden": self.hidden,
        }
        if not reply:
            out["like_count"] = self.like_count
        return out


@dataclass
class FakeMedia:
    id: str
    caption: str
    timestamp: str = "2026-11-20T15:00:00+0000"
    permalink: str = "https://www.instagram.com/p/C6vX1aAr2Qe/"
    comments: list[FakeIGComment] = field(default_factory=list)


class FakeIG(FakeGraph):
    """An Instagram business account's media and comments."""

    def __init__(
        self,
        rsps: responses.RequestsMock,
        media: list[FakeMedia] | None = None,
        *,
        ig_user_id: str = IG_USER_ID,
        username: str = IG_USERNAME,
        base: str = GRAPH,
    ) -> None:
        super().__init__(rsps, base)
        self.media = media or []
        self.ig_user_id = ig_user_id
        self.username = username
        self.restricted: set[str] = set()  # user ids whose comments lists leave out
        # The same Page token, with the Instagram permissions granted too.
        self.token_debug["data"]["scopes"] += ["instagram_basic", "instagram_manage_comments"]
        self.apply_writes = True  # False: hide/unhide POSTs succeed but reads lag behind

    # -- the model ---------------------------------------------------------------------------

    def get_media(self, media_id: str) -> FakeMedia:
        return next(m for m in self.media if m.id == media_id)

    def _all_comments(self):
        for m in self.media:
            for c in m.comments:
                yield m, None, c
                for r in c.replies:
                    yield m, c, r

    def comment(self, comment_id: str) -> FakeIGComment:
        return next(c for _, _, c in self._all_comments() if c.id == comment_id)

    def remove_comment(self, comment_id: str) -> None:
        """Delete a comment (and, as Instagram does, its replies)."""
        for m in self.media:
            for c in m.comments:
                c.replies = [r for r in c.replies if r.id != comment_id]
            gone = [c for c in m.comments if c.id == comment_id]
            for c in gone:
                self.deleted.update(r.id for r in c.replies)
            m.comments = [c for c in m.comments if c.id != comment_id]
        self.deleted.add(comment_id)

    def restrict(self, user_id: str) -> None:
        self.restricted.add(user_id)

    def unrestrict(self, user_id: str) -> None:
        self.restricted.discard(user_id)

    # -- serving -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "x-business-use-case-usage": json.dumps(
                {
                    self.ig_user_id: [
                        {
                            "type": "instagram",
                            "call_count": 1,
                            "total_cputime": 1,
                            "total_time": 1,
                            "estimated_time_to_regain_access": 0,
                        }
                    ]
                }
            )
        }

    def _listed(self, comments: list[FakeIGComment]) -> list[FakeIGComment]:
        return [c for c in comments if c.user_id not in self.restricted]

    def _paged(
        self, items: list[Any], start: int, limit: int, kind: str, path: str, fields: str, render
    ) -> dict[str, Any]:
        chunk = items[start : start + limit]
        return {
            "data": [render(x) for x in chunk],
            "paging": _paging(
                path,
                start,
                len(chunk),
                len(items),
                kind,
                {"access_token": "EAAGm0PX4ZCpsBAredacted", "fields": fields, "limit": limit},
            ),
        }

    def _comment_payload(self, c: FakeIGComment) -> dict[str, Any]:
        out = c.payload()
        replies = self._listed(c.replies)
        if replies:
            out["replies"] = self._paged(
                replies,
                0,
                REPLY_PAGE,
                "cmVw",
                f"{c.id}/replies",
                "id,text,timestamp,username,from,hidden",
                lambda r: r.payload(reply=True),
            )
        return out

    def _media_payload(self, m: FakeMedia, comment_limit: int, comment_fields: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": m.id,
            "caption": m.caption,
            "timestamp": m.timestamp,
            "permalink": m.permalink,
            "username": self.username,
            "comments_count": sum(1 + len(c.replies) for c in m.comments),
        }
        listed = self._listed(m.comments)
        if listed:
            out["comments"] = self._paged(
                listed, 0, comment_limit, "Y29t", f"{m.id}/comments", comment_fields, self._comment_payload
            )
        return out

    def _read(self, path: str, q: dict[str, str]):
        start, fields = _offset(q.get("after")), q.get("fields", "")
        if path == f"{self.ig_user_id}/media":
            m = re.search(r"comments\.limit\((\d+)\)\{(.*)\}", fields)
            climit, cfields = (int(m.group(1)), m.group(2)) if m else (EDGE_PAGE, "id,text")
            media = sorted(self.media, key=lambda x: x.timestamp, reverse=True)
            return self._reply(
                200,
                self._paged(
                    media,
                    start,
                    int(q.get("limit", EDGE_PAGE)),
                    "bWVk",
                    path,
                    fields,
                    lambda x: self._media_payload(x, climit, cfields),
                ),
            )
        if path.endswith("/comments"):
            media = self.get_media(path.split("/")[0])
            return self._reply(
                200,
                self._paged(
                    self._listed(media.comments),
                    start,
                    int(q.get("limit", EDGE_PAGE)),
                    "Y29t",
                    path,
                    fields,
                    self._comment_payload,
                ),
            )
        if path.endswith("/replies"):
            parent = self.comment(path.split("/")[0])
            return self._reply(
                200,
                self._paged(
                    self._listed(parent.replies),
                    start,
                    int(q.get("limit", REPLY_PAGE)),
                    "cmVw",
                    path,
                    fields,
                    lambda r: r.payload(reply=True),
                ),
            )
        if path == self.ig_user_id:
            return self._reply(200, {"id": self.ig_user_id, "username": self.username})
        if any(m.id == path for m in self.media):
            return self._reply(200, {"id": path})
        if path not in self.deleted and any(c.id == path for _, _, c in self._all_comments()):
            if "media_type" in fields:
                return self._reply(400, fixture("instagram/error_nonexisting_field.json"))
            return self._reply(200, {"id": path})
        body = fixture("instagram/error_does_not_exist.json")
        body["error"]["message"] = body["error"]["message"].replace("17850000000000022", path)
        return self._reply(400, body)

    def _written(self, method: str, path: str, form: dict[str, list[str]]):
        if method == "POST" and path.endswith("/replies"):
            return self._reply(200, {"id": f"178500000000{len(self.writes):05d}"})
        if method == "POST" and "hide" in form and self.apply_writes:
            self.comment(path).hidden = form["hide"] == ["true"]
        return self._reply(200, {"success": True})
