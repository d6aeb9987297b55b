"""X API v2 payloads shaped exactly like the real ones, served by a stateful fake account.

``FakeX`` keeps a small in-memory model of one account's posts and the replies in their
conversations, and answers through one ``responses`` route the four reads the connector makes
(user timeline, recent search ``conversation_id:``, lookup ``/2/tweets?ids=``, the user) and the
hide/unhide PUT. Shapes follow ``tests/fixtures/x/`` (recorded X responses): ids are real
snowflakes whose embedded time matches ``created_at``, only the requested ``tweet.fields`` are
returned, edits get a new id and share one ``edit_history_tweet_ids`` chain (oldest first),
lookups answer 200 with ``errors[]`` (``resource-not-found`` for deleted ids,
``not-authorized-for-resource`` for protected authors), recent search forgets anything older
than seven days, and every response carries the ``x-rate-limit-*`` headers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import responses

from tests.support.http import serve

API = "https://api.x.com/2"
USER_ID = "1234567890"
USERNAME = "riverside_cc"
NAME = "Riverside Community Center"
PROBLEMS = "https://api.twitter.com/2/problems/"  # X's current schema: https://api.x.com/2/problems/
NOT_FOUND = PROBLEMS + "resource-not-found"
NOT_AUTHORIZED = PROBLEMS + "not-authorized-for-resource"
SEARCH_WINDOW = timedelta(days=7)
_X_EPOCH_MS = 1288834974657
_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")


def snowflake(moment: datetime, seq: int = 0) -> str:
    """An X id whose embedded creation time is ``moment`` (``seq`` tells same-ms ids apart)."""
    ms = int(moment.timestamp() * 1000) - _X_EPOCH_MS
    return str((ms << 22) | (seq & 0x3FFFFF))


def x_time(moment: datetime) -> str:
    """X's time format: ``2024-05-09T09:05:00.000Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Clock:
    """A settable clock shared by the fake (search window, reset times) and the connector."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeUser:
    id: str
    username: str
    name: str
    protected: bool = False

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "username": self.username}


@dataclass
class FakeTweet:
    id: str
    text: str
    created_at: datetime
    author_id: str
    conversation_id: str
    chain: list[str]  # shared by every version of one post: oldest first, live version last
    replied_to: str | None = None
    in_reply_to_user_id: str | None = None

    @property
    def live(self) -> bool:
        return self.chain[-1] == self.id

    def payload(self, fields: set[str]) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "created_at": x_time(self.created_at),
            "conversation_id": self.conversation_id,
            "author_id": self.author_id,
            "edit_history_tweet_ids": list(self.chain),
        }
        if self.replied_to:
            full["in_reply_to_user_id"] = self.in_reply_to_user_id
            full["referenced_tweets"] = [{"type": "replied_to", "id": self.replied_to}]
        return {k: v for k, v in full.items() if k in _DEFAULT_FIELDS or k in fields}


@dataclass
class _Failure:
    path_ends: str
    status: int
    body: Any
    headers: dict[str, str]
    raw: bool = False


class FakeX:
    """One X account and the conversations under its posts, served through ``responses``."""

    def __init__(
        self,
        rsps: responses.RequestsMock,
        clock: Callable[[], datetime],
        *,
        user_id: str = USER_ID,
        username: str = USERNAME,
        name: str = NAME,
        base: str = API,
        problems: str = PROBLEMS,
        edit_field: str = "edit_history_tweet_ids",
    ) -> None:
        """``problems``: the base of problem type URIs; ``edit_field``: the name of the edit
        chain (X's current schema says ``edit_history_post_ids``)."""
        self.clock = clock
        self.problems = problems
        self.edit_field = edit_field
        self.user_id = user_id
        self.base = base.rstrip("/")
        self.users: dict[str, FakeUser] = {user_id: FakeUser(user_id, username, name)}
        self.tweets: dict[str, FakeTweet] = {}
        self.conversations: dict[str, list[FakeTweet]] = {}  # conversation id -> its tweets
        self.deleted: set[str] = set()
        self.failures: list[_Failure] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, query)
        self.writes: list[tuple[str, str, dict[str, Any]]] = []
        self._seq = 0
        serve(rsps, self.base, self._serve, ("GET", "PUT"))
        rsps.registered()[-1].content_type = None  # every reply names its own

    # -- the model ---------------------------------------------------------------------------

    def _new_id(self, at: datetime) -> str:
        self._seq += 1
        return snowflake(at, self._seq)

    def user(self, user_id: str, username: str, name: str | None = None) -> FakeUser:
        return self.users.setdefault(user_id, FakeUser(user_id, username, name or username))

    def post(self, text: str, at: datetime) -> str:
        """The account publishes a post; returns its id."""
        tid = self._new_id(at)
        self._add(FakeTweet(tid, text, at, self.user_id, tid, [tid]))
        return tid

    def _add(self, tweet: FakeTweet) -> None:
        self.tweets[tweet.id] = tweet
        self.conversations.setdefault(tweet.conversation_id, []).append(tweet)

    def reply(
        self,
        to_id: str,
        text: str,
        at: datetime,
        *,
        author: str = "2244994945",
        username: str = "dana_reader",
    ) -> str:
        """Someone (or the account itself) replies to a post or reply; returns the reply's id."""
        self.user(author, username)
        parent = self.tweets[to_id]
        tid = self._new_id(at)
        self._add(
            FakeTweet(
                tid,
                text,
                at,
                author,
                parent.conversation_id,
                [tid],
                replied_to=to_id,
                in_reply_to_user_id=parent.author_id,
            )
        )
        return tid

    def edit(self, tweet_id: str, text: str, at: datetime) -> str:
        """An edit: a new id appended to the shared chain; earlier versions stay readable by id."""
        old = self.tweets[tweet_id]
        tid = self._new_id(at)
        old.chain.append(tid)
        self._add(
            FakeTweet(
                tid,
                text,
                at,
                old.author_id,
                old.conversation_id,
                old.chain,
                old.replied_to,
                old.in_reply_to_user_id,
            )
        )
        return tid

    def delete(self, tweet_id: str) -> None:
        """Deleting a post deletes every version of it."""
        self.deleted.update(self.tweets[tweet_id].chain)

    def protect(self, user_id: str) -> None:
        """The author goes protected: gone from search, lookups answer Authorization Error."""
        self.users[user_id].protected = True

    def fail(
        self,
        path_ends: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        *,
        raw: bool = False,
    ) -> None:
        """The next request whose path ends with ``path_ends`` fails this way. ``raw``: the
        string ``body`` is sent as is with exactly ``headers``, as a proxy would."""
        self.failures.append(_Failure(path_ends, status, body, headers or {}, raw))

    def count(self, method: str, path_contains: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and path_contains in p)

    def lookups_of(self, tweet_id: str) -> int:
        """How many ``/2/tweets?ids=`` lookups asked about this id."""
        return sum(
            1
            for m, p, q in self.requests
            if p.endswith("/2/tweets") and tweet_id in q.get("ids", "").split(",")
        )

    # -- serving -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        reset = int((self.clock() + timedelta(minutes=15)).timestamp())
        return {
            "Content-Type": "application/json; charset=utf-8",
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": str(max(0, 449 - len(self.requests))),
            "x-rate-limit-reset": str(reset),
        }

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None):
        return status, {**self._headers(), **(headers or {})}, json.dumps(body)

    def _visible(self, t: FakeTweet) -> bool:
        return t.id not in self.deleted and not self.users[t.author_id].protected

    def _serve(self, request):
        return self._get(request) if request.method == "GET" else self._put(request)

    def _get(self, request):
        url = urlsplit(request.url)
        path = url.path
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(("GET", path, q))
        for i, f in enumerate(self.failures):
            if path.endswith(f.path_ends):
                del self.failures[i]
                if f.raw:
                    return f.status, f.headers, f.body
                return self._reply(f.status, f.body, f.headers)
        fields = set(filter(None, q.get("tweet.fields", "").split(",")))
        route = path.split("/2/", 1)[1]
        if route == f"users/{self.user_id}/tweets":
            return self._timeline(q, fields)
        if route == "tweets/search/recent":
            return self._search(q, fields)
        if route == "tweets":
            return self._lookup(q["ids"].split(","), fields)
        m = re.fullmatch(r"users/(\d+)", route)
        if m and m.group(1) in self.users:
            return self._reply(200, {"data": self.users[m.group(1)].payload()})
        return self._reply(
            404, {"title": "Not Found", "type": "about:blank", "status": 404, "detail": "Not Found"}
        )

    def _page(
        self, items: list[FakeTweet], q: dict[str, str], token_key: str, fields: set[str], users: bool = False
    ) -> tuple[int, dict[str, str], str]:
        """One page, newest first, with X's ``meta`` (and ``includes.users`` for search)."""
        items.sort(key=lambda t: int(t.id), reverse=True)
        start = int(q[token_key].rsplit("z", 1)[1]) if q.get(token_key) else 0
        limit = int(q.get("max_results", 10))
        chunk = items[start : start + limit]
        if not chunk:
            return self._reply(200, {"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "result_count": len(chunk),
            "newest_id": chunk[0].id,
            "oldest_id": chunk[-1].id,
        }
        if start + limit < len(items):
            meta["next_token"] = f"7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz{start + limit}"
        body: dict[str, Any] = {"data": [self._payload(t, fields) for t in chunk]}
        if users:
            seen = dict.fromkeys(t.author_id for t in chunk)
            body["includes"] = {"users": [self.users[u].payload() for u in seen]}
        body["meta"] = meta
        return self._reply(200, body)

    def _timeline(self, q: dict[str, str], fields: set[str]):
        since = (
            datetime.fromisoformat(q["start_time"].replace("Z", "+00:00"))
            if q.get("start_time")
            else datetime.min.replace(tzinfo=timezone.utc)
        )
        exclude = set(q.get("exclude", "").split(","))
        own = [
            t
            for t in self.tweets.values()
            if t.author_id == self.user_id
            and t.live
            and self._visible(t)
            and t.created_at >= since
            and not ("replies" in exclude and t.replied_to)
        ]
        return self._page(own, q, "pagination_token", fields)

    def _search(self, q: dict[str, str], fields: set[str]):
        m = re.fullmatch(r"conversation_id:(\d+)", q["query"])
        oldest = self.clock() - SEARCH_WINDOW
        found = [
            t
            for t in self.conversations.get(m.group(1) if m else "", ())
            if t.live and self._visible(t) and t.created_at >= oldest
        ]
        return self._page(found, q, "next_token", fields, users="author_id" in q.get("expansions", ""))

    def _lookup(self, ids: list[str], fields: set[str]):
        data, errors = [], []
        for tid in ids:
            t = self.tweets.get(tid)
            if t is None or tid in self.deleted:
                errors.append(
                    {
                        "value": tid,
                        "detail": f"Could not find tweet with ids: [{tid}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": tid,
                        "type": self.problems + "resource-not-found",
                    }
                )
            elif self.users[t.author_id].protected:
                errors.append(
                    {
                        "value": tid,
                        "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{tid}].",
                        "title": "Authorization Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": tid,
                        "section": "data",
                        "type": self.problems + "not-authorized-for-resource",
                    }
                )
            else:
                data.append(self._payload(t, fields))
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return self._reply(200, body)

    def _payload(self, t: FakeTweet, fields: set[str]) -> dict[str, Any]:
        out = t.payload(fields)
        if self.edit_field != "edit_history_tweet_ids" and "edit_history_tweet_ids" in out:
            out[self.edit_field] = out.pop("edit_history_tweet_ids")
        return out

    def _put(self, request):
        path = urlsplit(request.url).path
        body = json.loads(request.body or b"{}")
        self.requests.append(("PUT", path, {}))
        self.writes.append(("PUT", path.split("/2/", 1)[1], body))
        return self._reply(200, {"data": {"hidden": bool(body.get("hidden"))}})


@dataclass
class Throttle:
    """A 429 body and headers as X sends them, resetting at ``reset``."""

    reset: datetime
    body: dict[str, Any] = field(
        default_factory=lambda: {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        }
    )

    @property
    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(self.reset.timestamp())),
        }
