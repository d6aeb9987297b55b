"""X (Twitter) connector: the account's posts and the replies in their conversations (API v2).

Reads: the user timeline (``get_users_tweets``) for posts in the window, then one recent search
``conversation_id:ID`` per post for its replies, both with cursor paging. Recent search only
covers the last ``search_window_days`` (7): a conversation older than that can lose replies from
the results without anyone deleting them, so its scan is never ``complete`` and its known
replies must be confirmed by id (``confirm_gone``) on a slower schedule.

Edits: X gives each version of a post a new id and lists the chain, oldest first, in
``edit_history_tweet_ids`` (``edit_history_post_ids`` in X's current schema: both are read, as
are ``note_tweet``/``note_post`` and ``referenced_tweets``/``referenced_posts``). The archive
key must not move when a post is edited, so ``Post.id`` (and ``Comment.id``) is the *first* id
of the chain and ``Post.previous_ids`` holds the later ids, the last one being the live version.
Actions translate an original id to the latest version seen. Hidden state is not reported in
reads: ``Comment.hidden`` is always None.

Token: one OAuth 2.0 *user-context* access token of the guarded account (Authorization Code with
PKCE; scopes ``tweet.read users.read tweet.write tweet.moderate.write offline.access``), sent as
a Bearer token. An app-only Bearer token can read but cannot reply or hide.

Reads are billed per post: ``reads`` counts post resources returned since creation, and with a
``monthly_read_budget`` every read first checks the month's spend (``read_budget``, a
``ReadBudget`` the caller fills with what the month already cost).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

import requests
import structlog
import tweepy

from connectors._x_client import X_API_BASE, XClient, problem_name, translate_tweepy_error
from connectors._x_oauth import XTokenKeeper
from connectors.base import (
    Comment,
    ConnectorSettings,
    GoneStatus,
    GoneTarget,
    Post,
    PostScan,
    ReadBudget,
    Snapshot,
    TokenStore,
    merge_repeats,
)
from connectors.graph import normalize_time
from guard.errors import (
    AuthExpired,
    ConnectorError,
    NotFound,
    PermissionMissing,
    RateLimited,
    Transient,
)

__all__ = ["XConnector", "TWEET_FIELDS", "PROBLEM_NOT_FOUND", "PROBLEM_NOT_AUTHORIZED", "snowflake_time"]

log = structlog.get_logger("connectors.x")

TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "edit_history_tweet_ids",
    "author_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "note_tweet",
]
# Problem types are matched by their last path segment: X serves them under
# https://api.twitter.com/2/problems/ and https://api.x.com/2/problems/ alike.
PROBLEM_NOT_FOUND = "resource-not-found"
PROBLEM_NOT_AUTHORIZED = "not-authorized-for-resource"
PAGE_SIZE = 100  # max_results for timeline and recent search
LOOKUP_BATCH = 100  # ids per GET /2/tweets
# Recent search's lower bound is X's "now - 7 days"; keep an hour's margin for clock skew and
# indexing lag so a conversation at the edge is never called complete.
SEARCH_MARGIN = timedelta(hours=1)
READ_SCOPES = "tweet.read and users.read"
WRITE_SCOPES = "tweet.read, users.read and tweet.write"
MODERATE_SCOPES = "tweet.read, users.read and tweet.moderate.write"
_TWITTER_EPOCH_MS = 1288834974657


class XConnector:
    platform = "x"
    absences_before_confirm = 1

    def __init__(
        self,
        user_id: str,
        token: str,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        monthly_read_budget: int | None = None,
        search_window_days: int = 7,
        clock: Callable[[], datetime] | None = None,
        token_store: TokenStore | None = None,
    ) -> None:
        self.user_id = str(user_id)
        self.client = XClient(token, base_url=base_url or X_API_BASE, timeout=timeout)
        self.search_window_days = search_window_days
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        # Signed in with `comment-guard auth x`: the token comes from the stored grant and is
        # refreshed before it expires (X user tokens last 2 hours)
        self.token_keeper = (
            None if token_store is None else XTokenKeeper(token_store, base_url or X_API_BASE, self._now)
        )
        self.reads = 0  # post resources returned since creation (what X bills)
        self.read_budget: ReadBudget | None = (
            None if monthly_read_budget is None else ReadBudget(monthly_read_budget, self._now, platform="X")
        )
        self._latest: dict[str, str] = {}  # original id -> latest version id seen
        self._original: dict[str, str] = {}  # any version id -> original id
        self._authors: dict[str, str] = {}  # original id -> author id, as seen in reads

    @property
    def api_calls(self) -> int:
        return self.client.calls

    # -- plumbing ----------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=timezone.utc)

    def _call(self, fn: Callable[..., Any], *args: Any, scopes: str, **kwargs: Any) -> dict:
        if self.token_keeper is None:
            return self._send(fn, *args, scopes=scopes, **kwargs)
        self.client.bearer_token = self.token_keeper.access_token()
        try:
            return self._send(fn, *args, scopes=scopes, **kwargs)
        except AuthExpired:
            # X refused a token our clock calls fresh (the wall clock stepped back, booted from
            # a stale RTC): the expiry we stored is ours, X's is what counts. A 401 is a request
            # not carried out, so refreshing once and sending it again repeats nothing.
            self.client.bearer_token = self.token_keeper.access_token(renew=True)
            return self._send(fn, *args, scopes=scopes, **kwargs)

    def _send(self, fn: Callable[..., Any], *args: Any, scopes: str, **kwargs: Any) -> dict:
        try:
            return fn(*args, user_auth=False, **kwargs)
        except tweepy.TweepyException as exc:
            raise translate_tweepy_error(exc, scopes, self._now()) from None
        except requests.Timeout:
            raise Transient("X API request timed out") from None
        except requests.RequestException as exc:  # connection errors, a 2xx that is not JSON
            raise Transient(f"cannot read the X API: {type(exc).__name__}") from None

    def _read(self, fn: Callable[..., Any], *args: Any, posts: bool = True, **kwargs: Any) -> dict:
        """A billed read: refused when the budget is spent, counted when it returns posts."""
        if self.read_budget is not None:
            self.read_budget.check()
        body = self._call(fn, *args, scopes=READ_SCOPES, **kwargs)
        if not isinstance(body, dict):
            raise Transient("X API answered with something other than a JSON object; try again later")
        data = body.get("data")
        if posts:
            items = data if isinstance(data, list) else [] if data is None else [data]
            self.reads += len(items)
            if self.read_budget is not None:  # X bills each post once per UTC day
                ids = [str(d["id"]) for d in items if isinstance(d, dict) and "id" in d]
                self.read_budget.add_posts(ids)
                self.read_budget.add(len(items) - len(ids))
        return body

    def _remember(self, raw: dict[str, Any]) -> list[str]:
        """Record the edit chain of a tweet; returns it (oldest first)."""
        chain = [str(i) for i in _field(raw, "edit_history_tweet_ids", "edit_history_post_ids") or ()]
        chain = chain or [str(raw["id"])]
        for version in chain:
            self._original[version] = chain[0]
        self._latest[chain[0]] = chain[-1]
        if raw.get("author_id"):
            self._authors[chain[0]] = str(raw["author_id"])
        return chain

    def _live_id(self, tweet_id: str) -> str:
        return self._latest.get(self._original.get(tweet_id, tweet_id), tweet_id)

    # -- fetch -------------------------------------------------------------------------------

    def fetch(self, since: datetime) -> Snapshot:
        """Read every post created since ``since`` and the replies recent search still shows.

        On an error the scan stops and returns what it read: earlier posts keep their status,
        the post being searched and posts not yet searched are incomplete.
        """
        start = self.client.calls
        now = self._now()
        scans: list[PostScan] = []
        error: ConnectorError | None = None
        token: str | None = None
        asked: set[str] = set()
        while error is None:
            try:
                page = self._read(
                    self.client.get_users_tweets,
                    self.user_id,
                    start_time=since,
                    tweet_fields=TWEET_FIELDS,
                    exclude=["retweets", "replies"],
                    max_results=PAGE_SIZE,
                    pagination_token=token,
                )
                _raise_if_only_errors(page, f"the timeline of X user {self.user_id}")
                posts = _items(page, f"the timeline of X user {self.user_id}")
            except ConnectorError as exc:
                error = exc
                break
            for raw in posts:
                if error is not None:
                    scans.append(PostScan(self._post(raw), (), False, "scan stopped by an earlier error"))
                    continue
                scan, error = self._scan_post(raw, now)
                scans.append(scan)
            try:
                token = _next_token(page, asked, f"the timeline of X user {self.user_id}")
            except ConnectorError as exc:
                error = error or exc
                break
            if not token:
                break
        return Snapshot(
            posts=merge_repeats(scans),
            posts_complete=error is None,
            api_calls=self.client.calls - start,
            error=error,
        )

    def fetch_post(self, post_id: str) -> Snapshot | None:
        """None: comment-guard receives no X webhooks, so nothing asks for one post alone."""
        return None

    def _scan_post(self, raw: dict[str, Any], now: datetime) -> tuple[PostScan, ConnectorError | None]:
        post = self._post(raw)
        chain = {post.id, *post.previous_ids}
        conversation = str(raw.get("conversation_id") or post.id)
        replies: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        token: str | None = None
        asked: set[str] = set()
        failed: ConnectorError | None = None
        while True:
            try:
                page = self._read(
                    self.client.search_recent_tweets,
                    f"conversation_id:{conversation}",
                    tweet_fields=TWEET_FIELDS,
                    expansions=["author_id"],
                    user_fields=["username", "name"],
                    max_results=PAGE_SIZE,
                    next_token=token,
                )
                found = _items(page, f"the replies to X post {post.id}")
            except ConnectorError as exc:
                failed = exc
                break
            includes: dict[str, Any] = page["includes"] if isinstance(page.get("includes"), dict) else {}
            users.update(
                {str(u["id"]): u for u in includes.get("users") or () if isinstance(u, dict) and u.get("id")}
            )
            for reply in found:
                if self._remember(reply)[0] not in chain:
                    replies.append(reply)
            try:
                token = _next_token(page, asked, f"the replies to X post {post.id}")
            except ConnectorError as exc:
                failed = exc
                break
            if not token:
                break
        comments = tuple(
            {c.id: c for c in (self._comment(r, post.id, chain, users) for r in replies)}.values()
        )
        if failed is not None:
            return PostScan(post, comments, False, str(failed)), failed
        cutoff = now - timedelta(days=self.search_window_days) + SEARCH_MARGIN
        if _parse(post.created_time) < cutoff:
            return PostScan(
                post,
                comments,
                False,
                f"older than X recent search ({self.search_window_days} days)",
                verify_by_id=True,
            ), None
        return PostScan(post, comments, True), None

    def _post(self, raw: dict[str, Any]) -> Post:
        chain = self._remember(raw)
        created = normalize_time(raw.get("created_at")) or ""
        edited = len(chain) > 1
        return Post(
            id=chain[0],
            message=_text(raw),
            # An edit's created_at is the edit time; the original's time is in its snowflake id.
            created_time=(snowflake_time(chain[0]) or created) if edited else created,
            updated_time=created if edited else None,
            permalink_url=f"https://x.com/i/web/status/{chain[-1]}",
            author_id=str(raw.get("author_id") or self.user_id),
            previous_ids=tuple(chain[1:]),
        )

    def _comment(
        self, raw: dict[str, Any], post_id: str, chain: set[str], users: dict[str, dict[str, Any]]
    ) -> Comment:
        original = self._original.get(str(raw["id"]), str(raw["id"]))
        created = normalize_time(raw.get("created_at")) or ""
        parent = next(
            (
                str(r["id"])
                for r in _field(raw, "referenced_tweets", "referenced_posts") or ()
                if isinstance(r, dict) and r.get("type") == "replied_to" and r.get("id")
            ),
            None,
        )
        parent = self._original.get(parent, parent) if parent else None
        author = str(raw.get("author_id") or "")
        return Comment(
            id=original,
            post_id=post_id,
            parent_id=None if parent is None or parent in chain else parent,
            message=_text(raw),
            created_time=(snowflake_time(original) or created) if original != str(raw["id"]) else created,
            author_id=author or None,
            author_name=(users.get(author) or {}).get("username"),
            hidden=None,  # X does not report hidden replies in reads
            from_page=author == self.user_id,
        )

    # -- confirm -----------------------------------------------------------------------------

    def confirm_gone(self, targets: Sequence[GoneTarget]) -> dict[str, GoneStatus]:
        """Look the ids up (100 per call, each target's control in the same call).

        ``resource-not-found`` is "deleted" only if the control in that same call came back;
        ``not-authorized-for-resource`` is "unavailable" (protected or suspended author).
        A control equal to the account id (or to the target itself) is checked by reading the
        account. Throttling or an expired token stops the run; other failures leave "unknown".
        """
        result: dict[str, GoneStatus] = {t.id: "unknown" for t in targets}
        account_ok: bool | None = None
        for batch in _batches(targets, self.user_id):
            ids = sorted(
                {t.id for t in batch}
                | {t.control_id for t in batch if t.control_id not in (self.user_id, t.id)}
            )
            try:
                body = self._read(self.client.get_tweets, ids, tweet_fields=TWEET_FIELDS)
                present = {str(d["id"]) for d in _items(body, "a lookup of X posts")}
            except (RateLimited, AuthExpired):
                raise
            except ConnectorError as exc:
                log.info("confirm_gone_unknown", ids=len(ids), reason=str(exc))
                continue
            problems = {
                str(e.get("resource_id") or e.get("value")): problem_name(e.get("type"))
                for e in _problems(body)
                if e.get("section") != "includes"
            }
            for target in batch:
                problem = problems.get(target.id)
                if target.id in present:
                    result[target.id] = "present"
                elif problem == PROBLEM_NOT_AUTHORIZED:
                    result[target.id] = "unavailable"
                elif problem == PROBLEM_NOT_FOUND:
                    if target.control_id in (self.user_id, target.id):
                        if account_ok is None:
                            account_ok = self._account_readable()
                        control_ok = account_ok
                    else:
                        control_ok = target.control_id in present
                    result[target.id] = "deleted" if control_ok else "unknown"
                    if not control_ok:
                        log.info("confirm_gone_control_failed", object_id=target.control_id)
        return result

    def _account_readable(self) -> bool:
        try:
            body = self._read(self.client.get_user, id=self.user_id, posts=False)
        except (RateLimited, AuthExpired):
            raise
        except ConnectorError:
            return False
        return bool(body.get("data"))

    # -- check and actions -------------------------------------------------------------------

    def check(self) -> list[str]:
        """Live check: the token reads the account and its timeline (X has no dry-run writes)."""
        user = self._read(
            self.client.get_user, id=self.user_id, user_fields=["username", "name"], posts=False
        )
        _raise_if_only_errors(user, f"X user {self.user_id}")
        data = user.get("data")
        if not isinstance(data, dict):
            raise Transient(f"X API sent X user {self.user_id} in an unknown shape; try again later")
        lines = [f"token can read X account @{data.get('username', '?')} ({data.get('id')})"]
        timeline = self._read(
            self.client.get_users_tweets,
            self.user_id,
            max_results=5,
            tweet_fields=TWEET_FIELDS,
            exclude=["retweets", "replies"],
        )
        lines.append(
            f"token can read the account's posts ({len(_items(timeline, 'the timeline'))} on the first page)"
        )
        lines.append(
            "replies need tweet.write and hide/unhide tweet.moderate.write: X cannot "
            "check those without acting"
        )
        if self.read_budget is not None:
            lines.append(
                f"read budget: {self.read_budget.spent} of {self.read_budget.limit} "
                "post reads used this month"
            )
        return lines

    def reply(self, target_id: str, message: str) -> str:
        body = self._call(
            self.client.create_tweet,
            text=message,
            in_reply_to_tweet_id=self._live_id(target_id),
            scopes=WRITE_SCOPES,
        )
        return str(body["data"]["id"])

    def hide(self, comment_id: str) -> None:
        self._call(self.client.hide_reply, self._live_id(comment_id), scopes=MODERATE_SCOPES)

    def unhide(self, comment_id: str) -> None:
        self._call(self.client.unhide_reply, self._live_id(comment_id), scopes=MODERATE_SCOPES)

    def delete(self, comment_id: str) -> None:
        """Delete one of the account's own posts; X refuses other people's replies."""
        original = self._original.get(comment_id, comment_id)
        author = self._authors.get(original)
        if author is None:
            body = self._read(self.client.get_tweets, [comment_id], tweet_fields=TWEET_FIELDS)
            _raise_if_only_errors(body, f"X post {comment_id}")
            author = str(next(iter(_items(body, f"X post {comment_id}")), {}).get("author_id") or "")
        if author != self.user_id:
            raise PermissionMissing(
                "X does not let an account delete other people's replies; hide it instead"
            )
        self._call(self.client.delete_tweet, self._live_id(comment_id), scopes=WRITE_SCOPES)

    def close(self) -> None:
        self.client.session.close()


def snowflake_time(tweet_id: str) -> str | None:
    """Creation time encoded in an X id (ms since the X epoch, shifted by 22 bits)."""
    try:
        ms = (int(tweet_id) >> 22) + _TWITTER_EPOCH_MS
    except ValueError:
        return None
    if ms <= _TWITTER_EPOCH_MS:  # not a snowflake (pre-2010 or a test id)
        return None
    return datetime.fromtimestamp(ms // 1000, timezone.utc).isoformat()


def _raise_if_only_errors(body: dict[str, Any], what: str) -> None:
    """HTTP 200 with ``errors`` and no ``data`` means the object itself cannot be read."""
    if body.get("data") or not body.get("errors"):
        return
    problem = next(iter(_problems(body)), {})
    kind = problem_name(problem.get("type"))
    detail = str(problem.get("detail") or problem.get("title") or "no details")[:300]
    if kind == PROBLEM_NOT_FOUND:
        raise NotFound(f"X says {what} does not exist ({detail})")
    if kind == PROBLEM_NOT_AUTHORIZED:
        raise PermissionMissing(f"X does not let this token see {what} ({detail})")
    raise ConnectorError(f"X could not return {what} ({detail})")


def _batches(targets: Sequence[GoneTarget], user_id: str) -> Iterable[list[GoneTarget]]:
    """Targets grouped so each lookup carries at most LOOKUP_BATCH ids, controls included."""
    batch: list[GoneTarget] = []
    ids: set[str] = set()
    for target in targets:
        new = {target.id} | ({target.control_id} if target.control_id not in (user_id, target.id) else set())
        if batch and len(ids | new) > LOOKUP_BATCH:
            yield batch
            batch, ids = [], set()
        batch.append(target)
        ids |= new
    if batch:
        yield batch


def _field(raw: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` present: X's schema renames ``*_tweet*`` fields ``*_post*``."""
    return next((raw[n] for n in names if raw.get(n) is not None), None)


def _items(body: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """``data`` as a list of posts with ids; Transient for any other shape."""
    data = body.get("data") or []
    if not isinstance(data, list) or not all(isinstance(d, dict) and d.get("id") for d in data):
        raise Transient(f"X API sent {what} in an unknown shape (posts without ids?); try again later")
    return data


def _problems(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors = body.get("errors")
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _next_token(page: dict[str, Any], asked: set[str], what: str) -> str | None:
    """``meta.next_token``, or None on the last page. ``asked``: the tokens this listing already
    followed (filled here): X has handed back a token that gives the same posts again
    (plhery/node-twitter-api-v2#404); followed, that reads (and bills) forever."""
    meta = page.get("meta")
    token = meta.get("next_token") if isinstance(meta, dict) else None
    if not token:
        return None
    if str(token) in asked:
        raise Transient(
            f"X API's next_token for {what} points at a page already read (it repeats); "
            "the rest was not read; try again later"
        )
    asked.add(str(token))
    return str(token)


def _text(raw: dict[str, Any]) -> str:
    """Long posts are cut at 280 characters in ``text``; ``note_tweet`` holds all of it."""
    note = _field(raw, "note_tweet", "note_post")
    note = note if isinstance(note, dict) else {}
    return str(note.get("text") or raw.get("text") or "")


def _parse(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)  # unknown age: treat as old
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def from_settings(settings: ConnectorSettings) -> XConnector:
    """The registry's entry point (``connectors.registry``)."""
    return XConnector(
        settings.account_id,
        settings.token,
        base_url=settings.base_url,
        monthly_read_budget=settings.monthly_read_budget,
        token_store=settings.token_store,
    )
