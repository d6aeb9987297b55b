"""Graph API payloads shaped exactly like the real ones (field names, time format, paging).

Tests build pages from a small in-memory model and register them with ``responses``; error
bodies come from ``tests/fixtures/facebook/*.json``, copied from real Graph responses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import responses

GRAPH = "https://graph.facebook.com/v24.0"
PAGE_ID = "100200300"
PAGE_NAME = "Riverside Community Center"
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


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
        out: dict[str, Any] = {"id": self.id, "message": self.message,
                               "from": {"name": self.author, "id": self.author_id},
                               "created_time": self.created_time}
        if self.is_hidden is not None:
            out["is_hidden"] = self.is_hidden
        if self.parent:
            out["parent"] = {"created_time": "2026-11-20T16:00:00+0000",
                             "from": {"name": "Someone", "id": "5550009"},
                             "message": "...", "id": self.parent}
        return out


@dataclass
class FakePost:
    id: str
    message: str
    created_time: str = "2026-11-20T15:00:00+0000"
    updated_time: str = "2026-11-20T15:00:00+0000"
    comments: list[FakeComment] = field(default_factory=list)

    def payload(self, comment_limit: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "message": self.message, "created_time": self.created_time,
            "updated_time": self.updated_time,
            "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{self.id.split('_')[1]}",
            "from": {"name": PAGE_NAME, "id": PAGE_ID}}
        if self.comments:
            out["comments"] = comment_page(self, 0, comment_limit)
        return out


def _cursor(n: int) -> str:
    return f"QVFIU{n:06d}Zz"


def _offset(cursor: str | None) -> int:
    return int(re.sub(r"\D", "", cursor)) if cursor else 0


def comment_page(post: FakePost, start: int, limit: int) -> dict[str, Any]:
    chunk = post.comments[start:start + limit]
    paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}}
    if start + limit < len(post.comments):
        q = urlencode({"access_token": "EAAB...", "pretty": 0, "fields":
                       "id,message,from,created_time,parent,is_hidden", "filter": "stream",
                       "limit": limit, "after": _cursor(start + limit)})
        paging["next"] = f"{GRAPH}/{post.id}/comments?{q}"
    return {"data": [c.payload() for c in chunk], "paging": paging}


class FakePage:
    """A page's posts served through ``responses`` callbacks, with real shapes and paging."""

    def __init__(self, rsps: responses.RequestsMock, posts: list[FakePost] | None = None,
                 post_limit: int = 25) -> None:
        self.posts = posts or []
        self.post_limit = post_limit
        self.deleted: set[str] = set()
        self.failures: list[tuple[str, int, dict[str, Any] | str, dict[str, str]]] = []
        self.writes: list[tuple[str, str, dict[str, list[str]]]] = []
        self.calls = 0
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(GRAPH)}/.*"), callback=self._get)
        rsps.add_callback(responses.POST, re.compile(rf"{re.escape(GRAPH)}/.*"), callback=self._write)
        rsps.add_callback(responses.DELETE, re.compile(rf"{re.escape(GRAPH)}/.*"), callback=self._write)

    def fail(self, path_contains: str, status: int, body: dict[str, Any] | str,
             headers: dict[str, str] | None = None) -> None:
        """The next request whose path contains ``path_contains`` fails this way."""
        self.failures.append((path_contains, status, body, headers or {}))

    def post(self, post_id: str) -> FakePost:
        return next(p for p in self.posts if p.id == post_id)

    def comment(self, comment_id: str) -> FakeComment:
        return next(c for p in self.posts for c in p.comments if c.id == comment_id)

    def remove_comment(self, comment_id: str) -> None:
        for p in self.posts:
            p.comments = [c for c in p.comments if c.id != comment_id]
        self.deleted.add(comment_id)

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None):
        base = {"Content-Type": "application/json; charset=UTF-8",
                "x-app-usage": '{"call_count":1,"total_cputime":1,"total_time":1}'}
        if isinstance(body, str):
            base["Content-Type"] = "text/html; charset=utf-8"
            return status, {**base, **(headers or {})}, body
        return status, {**base, **(headers or {})}, json.dumps(body)

    def _get(self, request):
        self.calls += 1
        url = urlsplit(request.url)
        path = url.path.split("/v24.0/", 1)[1]
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        for i, (needle, status, body, headers) in enumerate(self.failures):
            if needle in url.path:
                del self.failures[i]
                return self._reply(status, body, headers)
        if path == f"{PAGE_ID}/posts":
            start, limit = _offset(q.get("after")), int(q.get("limit", self.post_limit))
            m = re.search(r"comments\.filter\(stream\)\.limit\((\d+)\)", q.get("fields", ""))
            climit = int(m.group(1)) if m else 25
            chunk = self.posts[start:start + limit]
            paging: dict[str, Any] = {"cursors": {"before": _cursor(start),
                                                  "after": _cursor(start + len(chunk))}}
            if start + limit < len(self.posts):
                nq = urlencode({"access_token": "EAAB...", "fields": q.get("fields", ""),
                                "limit": limit, "after": _cursor(start + limit)})
                paging["next"] = f"{GRAPH}/{PAGE_ID}/posts?{nq}"
            return self._reply(200, {"data": [p.payload(climit) for p in chunk], "paging": paging})
        if path.endswith("/comments"):
            post = self.post(path.split("/")[0])
            return self._reply(200, comment_page(post, _offset(q.get("after")), int(q.get("limit", 25))))
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

    def _write(self, request):
        url = urlsplit(request.url)
        path = url.path.split("/v24.0/", 1)[1]
        form = parse_qs(request.body or "") if isinstance(request.body, str) else parse_qs(
            (request.body or b"").decode())
        form.pop("access_token", None)
        form.pop("appsecret_proof", None)
        self.writes.append((request.method, path, form))
        if request.method == "POST" and path.endswith("/comments"):
            return self._reply(200, {"id": f"{path.split('/')[0]}_9{len(self.writes)}"})
        return self._reply(200, {"success": True})
