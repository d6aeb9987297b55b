"""Instagram Graph API payloads shaped exactly like the real ones, served by a stateful fake.

``FakeIG`` keeps one business account's media, their comments and the replies under them, and
answers through ``responses`` callbacks: ``/{ig-user-id}`` (id, username), ``/{ig-user-id}/media``
with nested ``comments.limit(N){…,replies{…}}`` expansion and cursor paging, the
``/{media-id}/comments`` and ``/{comment-id}/replies`` overflow edges, ``/{id}`` GETs (the IG
100/33 ``IGApiException`` for anything deleted, copied from
``tests/fixtures/instagram/error_does_not_exist.json``), and the ``hide=true|false`` POST.
Comments of a *restricted* user are left out of every list, as Instagram does.
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

GRAPH = "https://graph.facebook.com/v24.0"
IG_USER_ID = "17841400000000001"
IG_USERNAME = "riverside_cc"
FIXTURES = Path(__file__).parent / "fixtures" / "instagram"
REPLY_PAGE = 25  # nested replies{} without a limit come back in pages of 25
EDGE_PAGE = 25


def ig_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def ig_time(moment: datetime) -> str:
    """Instagram's time format: ``2024-05-08T15:05:00+0000``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


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
        out: dict[str, Any] = {"id": self.id, "text": self.text, "timestamp": self.timestamp,
                               "username": self.username,
                               "from": {"id": self.user_id, "username": self.username},
                               "hidden": self.hidden}
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


def _cursor(kind: str, n: int) -> str:
    return f"QVFIU{kind}{n:06d}"


def _offset(cursor: str | None) -> int:
    return int(cursor[-6:]) if cursor else 0


class FakeIG:
    """An Instagram business account's media and comments, served through ``responses``."""

    def __init__(self, rsps: responses.RequestsMock, media: list[FakeMedia] | None = None, *,
                 ig_user_id: str = IG_USER_ID, username: str = IG_USERNAME,
                 base: str = GRAPH) -> None:
        self.media = media or []
        self.ig_user_id = ig_user_id
        self.username = username
        self.base = base.rstrip("/")
        self.deleted: set[str] = set()
        self.restricted: set[str] = set()  # user ids whose comments lists leave out
        self.apply_writes = True  # False: hide/unhide POSTs succeed but reads lag behind
        self.failures: list[tuple[str, int, dict[str, Any]]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, query)
        self.writes: list[tuple[str, str, dict[str, list[str]]]] = []
        pattern = re.compile(rf"{re.escape(self.base)}/.*")
        rsps.add_callback(responses.GET, pattern, callback=self._get)
        rsps.add_callback(responses.POST, pattern, callback=self._write)
        rsps.add_callback(responses.DELETE, pattern, callback=self._write)

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

    def fail(self, path_contains: str, status: int, body: dict[str, Any]) -> None:
        """The next request whose path contains ``path_contains`` fails this way."""
        self.failures.append((path_contains, status, body))

    def gets_of(self, object_id: str) -> int:
        """How many ``GET /{object_id}`` node reads (not edges) were made."""
        return sum(1 for m, p, _ in self.requests if m == "GET" and p == object_id)

    # -- serving -----------------------------------------------------------------------------

    def _reply(self, status: int, body: Any):
        headers = {"Content-Type": "application/json; charset=UTF-8",
                   "x-business-use-case-usage": json.dumps({self.ig_user_id: [{
                       "type": "instagram", "call_count": 1, "total_cputime": 1, "total_time": 1,
                       "estimated_time_to_regain_access": 0}]})}
        return status, headers, json.dumps(body)

    def _listed(self, comments: list[FakeIGComment]) -> list[FakeIGComment]:
        return [c for c in comments if c.user_id not in self.restricted]

    def _next(self, path: str, fields: str, limit: int, after: str) -> str:
        q = urlencode({"access_token": "EAAGm0PX4ZCpsBAredacted", "fields": fields,
                       "limit": limit, "after": after})
        return f"{GRAPH}/{path}?{q}"

    def _paged(self, items: list[Any], start: int, limit: int, kind: str, path: str,
               fields: str, render) -> dict[str, Any]:
        chunk = items[start:start + limit]
        paging: dict[str, Any] = {"cursors": {"before": _cursor(kind, start),
                                              "after": _cursor(kind, start + len(chunk))}}
        if start + limit < len(items):
            paging["next"] = self._next(path, fields, limit, _cursor(kind, start + limit))
        return {"data": [render(x) for x in chunk], "paging": paging}

    def _comment_payload(self, c: FakeIGComment) -> dict[str, Any]:
        out = c.payload()
        replies = self._listed(c.replies)
        if replies:
            out["replies"] = self._paged(replies, 0, REPLY_PAGE, "cmVw", f"{c.id}/replies",
                                         "id,text,timestamp,username,from,hidden",
                                         lambda r: r.payload(reply=True))
        return out

    def _media_payload(self, m: FakeMedia, comment_limit: int, comment_fields: str
                       ) -> dict[str, Any]:
        out: dict[str, Any] = {"id": m.id, "caption": m.caption, "timestamp": m.timestamp,
                               "permalink": m.permalink, "username": self.username,
                               "comments_count": sum(1 + len(c.replies) for c in m.comments)}
        listed = self._listed(m.comments)
        if listed:
            out["comments"] = self._paged(listed, 0, comment_limit, "Y29t", f"{m.id}/comments",
                                          comment_fields, self._comment_payload)
        return out

    def _get(self, request):
        url = urlsplit(request.url)
        path = url.path.split("/v24.0/", 1)[1]
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(("GET", path, q))
        for i, (needle, status, body) in enumerate(self.failures):
            if needle in path:
                del self.failures[i]
                return self._reply(status, body)
        start, fields = _offset(q.get("after")), q.get("fields", "")
        if path == f"{self.ig_user_id}/media":
            m = re.search(r"comments\.limit\((\d+)\)\{(.*)\}", fields)
            climit, cfields = (int(m.group(1)), m.group(2)) if m else (EDGE_PAGE, "id,text")
            media = sorted(self.media, key=lambda x: x.timestamp, reverse=True)
            return self._reply(200, self._paged(
                media, start, int(q.get("limit", EDGE_PAGE)), "bWVk", path, fields,
                lambda x: self._media_payload(x, climit, cfields)))
        if path.endswith("/comments"):
            media = self.get_media(path.split("/")[0])
            return self._reply(200, self._paged(
                self._listed(media.comments), start, int(q.get("limit", EDGE_PAGE)), "Y29t",
                path, fields, self._comment_payload))
        if path.endswith("/replies"):
            parent = self.comment(path.split("/")[0])
            return self._reply(200, self._paged(
                self._listed(parent.replies), start, int(q.get("limit", REPLY_PAGE)), "cmVw",
                path, fields, lambda r: r.payload(reply=True)))
        if path == self.ig_user_id:
            return self._reply(200, {"id": self.ig_user_id, "username": self.username})
        if any(m.id == path for m in self.media):
            return self._reply(200, {"id": path})
        if path not in self.deleted and any(c.id == path for _, _, c in self._all_comments()):
            if "media_type" in fields:
                return self._reply(400, ig_fixture("error_nonexisting_field.json"))
            return self._reply(200, {"id": path})
        body = ig_fixture("error_does_not_exist.json")
        body["error"]["message"] = body["error"]["message"].replace("17850000000000022", path)
        return self._reply(400, body)

    def _write(self, request):
        url = urlsplit(request.url)
        path = url.path.split("/v24.0/", 1)[1]
        raw = request.body or ""
        form = parse_qs(raw if isinstance(raw, str) else raw.decode())
        form.pop("access_token", None)
        form.pop("appsecret_proof", None)
        self.requests.append((request.method, path, {k: v[0] for k, v in form.items()}))
        self.writes.append((request.method, path, form))
        if request.method == "POST" and path.endswith("/replies"):
            return self._reply(200, {"id": f"178500000000{len(self.writes):05d}"})
        if request.method == "POST" and "hide" in form and self.apply_writes:
            self.comment(path).hidden = form["hide"] == ["true"]
        return self._reply(200, {"success": True})
