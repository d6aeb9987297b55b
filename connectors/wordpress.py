"""WordPress connector: a self-hosted or WordPress.com blog through the REST API (``/wp-json/wp/v2``),
signed in with an application password of a user who can moderate comments.

Unlike the social platforms, WordPress shows a moderator everything staff did: a comment moved
to *hold*, *spam* or *trash* is still listed (with ``status=any`` and ``context=edit``), and
every save of a post is a revision with its time and author. So:

- approved → shown; hold, spam, trash → hidden, with WordPress's status kept on the comment
  (``platform_status``); trash is recoverable for ``EMPTY_TRASH_DAYS`` (30 by default);
- deleted only when a GET of the comment answers 404 ``rest_comment_invalid_id`` *and* a
  control GET of its post succeeds in the same call (``confirm_gone``);
- a post's revisions are its versions (read only when its ``modified_gmt`` moved, so an
  unchanged blog costs no revision calls).

Requests per poll: one per 100 posts in the window, one per 100 comments (all posts' comments are
paged together, in chunks of 100 post ids), and one per edited post whose revisions were not read
yet; ``users/me`` once per connector. Ids in the archive carry the site, so two blogs never
collide: ``blog.example.org/posts/12``, ``blog.example.org/comments/345``.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

import structlog

from connectors._wp_client import WordPressClient, WPNotFound
from connectors.base import (
    Comment,
    ConnectorSettings,
    GoneStatus,
    GoneTarget,
    Post,
    PostRevision,
    PostScan,
    ReadBudget,
    Snapshot,
)
from guard.errors import AuthExpired, ConnectorError, PermissionMissing, RateLimited

__all__ = ["WordPressConnector", "site_key", "HIDDEN_STATUSES", "PROTECTED_META", "OVERRIDE_META"]

log = structlog.get_logger("connectors.wordpress")

PAGE = 100  # the REST API's maximum per_page
POST_CHUNK = 100  # post ids per comments query (keeps the URL short)
POST_FIELDS = "id,date_gmt,modified_gmt,link,author,title,content"
COMMENT_FIELDS = "id,post,parent,author,author_name,date_gmt,content,status,meta"
REVISION_FIELDS = "id,author,date_gmt,modified_gmt,title,content"
# Response ``status`` of a comment (prepare_status_response): "approved", "hold", "spam",
# "trash"; anything but approved is invisible to readers.
HIDDEN_STATUSES = frozenset({"hold", "unapproved", "spam", "trash"})
# Comment meta registered by the must-use plugin (deploy/wordpress/comment-guard.php).
PROTECTED_META = "comment_guard_protected"
OVERRIDE_META = "comment_guard_override"
_STATUS_NOTES = {
    "trash": "trashed: recoverable from WordPress's trash until it is emptied (EMPTY_TRASH_DAYS, 30 days)",
    "spam": "marked as spam in WordPress (recoverable)",
    "hold": "held for moderation in WordPress (unapproved)",
}
PLUGIN_ROUTE = "comment-guard/v1/status"
MISSING_IDS = (
    "WordPress at {site} sent comments without an id or post (a plugin filtering the REST API?); "
    "they cannot be archived or compared, so these posts' scans are incomplete"
)
MODERATE = "moderate_comments"


def site_key(site_url: str) -> str:
    """The site part of archive ids: host and path, no scheme (``blog.example.org/news``)."""
    parts = urlsplit(site_url)
    return (parts.netloc + parts.path).rstrip("/").lower()


class WordPressConnector:
    platform = "wordpress"
    absences_before_confirm = 1  # trash/hold/spam stay listed: absence already means a lot

    def __init__(
        self,
        site_url: str,
        username: str,
        password: str,
        *,
        api_base_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.client = WordPressClient(
            site_url, username, password, api_base_url=api_base_url, timeout=timeout
        )
        self.site = site_key(site_url)
        self._user_id: str | None = None
        self._revisions_read: dict[str, str] = {}  # post REST id -> modified_gmt last read
        self._revisions: dict[str, tuple[PostRevision, ...]] = {}
        self._marks: dict[str, bool] = {}  # archive comment id -> protection mark last read
        self.plugin_active: bool | None = None  # learned from comment meta, or check()

    # ids ---------------------------------------------------------------------------------
    def post_id(self, rest_id: Any) -> str:
        return f"{self.site}/posts/{rest_id}"

    def comment_id(self, rest_id: Any) -> str:
        return f"{self.site}/comments/{rest_id}"

    def rest_id(self, archive_id: str, kind: str | None = None) -> tuple[str, str]:
        """(``posts``|``comments``, numeric id) from an archive id; a bare number is a comment."""
        head, _, tail = archive_id.rpartition("/")
        site, _, found = head.rpartition("/")
        if archive_id.isdigit():
            return (kind or "comments", archive_id)
        if site != self.site or found not in ("posts", "comments") or not tail.isdigit():
            raise ConnectorError(f"{archive_id!r} is not an id of the WordPress site {self.site}")
        return found, tail

    # Connector protocol -------------------------------------------------------------------
    @property
    def api_calls(self) -> int:
        return self.client.calls

    @property
    def read_budget(self) -> ReadBudget | None:
        return None  # WordPress does not bill reads

    def fetch_post(self, post_id: str) -> Snapshot | None:
        """None: no WordPress webhooks yet, so nothing asks for one post alone (issue 14)."""
        return None

    def fetch(self, since: datetime) -> Snapshot:
        """Read the posts published since ``since``, their revisions when they changed, and
        every comment on them in every moderation status.

        On an error the scan stops and keeps what it read: posts whose comments were all read
        stay complete; the others, and the post list, are marked incomplete.
        """
        start = self.client.calls
        raw_posts: list[dict[str, Any]] = []
        error: ConnectorError | None = None
        try:
            if self._user_id is None:
                me = self.client.get("wp/v2/users/me", _fields="id")
                self._user_id = str(me.body.get("id"))
            for page in self._pages(
                "wp/v2/posts",
                context="edit",
                status="publish",
                after=_wp_time(since),
                orderby="date",
                order="desc",
                _fields=POST_FIELDS,
            ):
                raw_posts.extend(page.body)
        except ConnectorError as exc:
            error = exc
        named = [p for p in raw_posts if _named(p)]
        # A post without an id cannot be archived; with it left out, the list is not complete.
        posts_complete = error is None and len(named) == len(raw_posts)
        posts = {str(p["id"]): p for p in named}  # a post published mid-paging can repeat
        if error is None:
            error = self._read_revisions(posts)
        comments: dict[str, list[Comment]] = {pid: [] for pid in posts}
        complete: dict[str, str | None] = {pid: "scan stopped by an earlier error" for pid in posts}
        ids = list(posts)
        for i in range(0, len(ids), POST_CHUNK):
            if error is not None:
                break
            chunk = ids[i : i + POST_CHUNK]
            error = self._read_comments(chunk, posts, comments, complete)
        scans = tuple(
            PostScan(
                post=self._post(posts[pid]),
                comments=tuple(comments[pid]),
                complete=complete[pid] is None,
                incomplete_reason=complete[pid],
            )
            for pid in ids
        )
        return Snapshot(
            posts=scans,
            posts_complete=posts_complete,
            api_calls=self.client.calls - start,
            error=error,
        )

    def _pages(self, route: str, **params: Any) -> Any:
        """Every page of a collection, by ``X-WP-TotalPages`` (or until a short page when a
        proxy dropped the header)."""
        page = 1
        while True:
            r = self.client.get(route, per_page=PAGE, page=page, **params)
            if not isinstance(r.body, list):
                raise ConnectorError(f"WordPress at {self.site} answered {route} with something not a list")
            yield r
            pages = r.header_int("x-wp-totalpages")
            if (pages is not None and page >= pages) or (pages is None and len(r.body) < PAGE):
                return
            page += 1

    def _read_revisions(self, posts: dict[str, dict[str, Any]]) -> ConnectorError | None:
        for pid, raw in posts.items():
            modified = str(raw.get("modified_gmt") or "")
            if modified == str(raw.get("date_gmt") or "") or self._revisions_read.get(pid) == modified:
                continue  # never edited, or its revisions were read at this modification
            try:
                revisions: list[dict[str, Any]] = []
                for page in self._pages(
                    f"wp/v2/posts/{pid}/revisions", context="edit", _fields=REVISION_FIELDS
                ):
                    revisions.extend(page.body)
            except ConnectorError as exc:
                return exc
            self._revisions[pid] = tuple(_revision(r) for r in sorted(revisions, key=_revision_order))
            self._revisions_read[pid] = modified
        return None

    def _read_comments(
        self,
        chunk: list[str],
        posts: dict[str, dict[str, Any]],
        comments: dict[str, list[Comment]],
        complete: dict[str, str | None],
    ) -> ConnectorError | None:
        staff = {str(posts[pid].get("author")) for pid in chunk} | {self._user_id}
        totals: set[int | None] = set()
        seen: dict[str, Comment] = {}
        unnamed = False
        try:
            for page in self._pages(
                "wp/v2/comments",
                context="edit",
                status="any",  # approved, hold, spam and trash alike (WP_Comment_Query "any")
                post=",".join(chunk),
                orderby="id",  # new comments land on the last page, not in the middle
                order="asc",
                _fields=COMMENT_FIELDS,
            ):
                totals.add(page.header_int("x-wp-total"))
                for raw in page.body:
                    if not _named(raw, "post"):
                        unnamed = True  # which post it is on is unknown: none of the chunk is whole
                        continue
                    c = self._comment(raw, staff)
                    seen[c.id] = c  # a comment shifted onto the next page keeps its last reading
        except ConnectorError as exc:
            for pid in chunk:
                complete[pid] = str(exc)
            return exc
        for c in seen.values():
            pid = self.rest_id(c.post_id)[1]
            if pid in comments:
                comments[pid].append(c)
        # The total moved while we paged: a comment was deleted or added before our cursor and
        # one may have slipped between pages. Nothing absent may count this time.
        reason = "comments changed while paging" if len(totals) > 1 else None
        if unnamed:
            reason = MISSING_IDS.format(site=self.site)
        for pid in chunk:
            complete[pid] = reason
        return None

    def _post(self, raw: dict[str, Any]) -> Post:
        pid = str(raw["id"])
        return Post(
            id=self.post_id(pid),
            message=_post_text(raw),
            created_time=_utc(raw.get("date_gmt")) or "",
            updated_time=_utc(raw.get("modified_gmt")),
            permalink_url=raw.get("link"),
            author_id=str(raw["author"]) if raw.get("author") else None,
            revisions=self._revisions.get(pid, ()),
        )

    def _comment(self, raw: dict[str, Any], staff: set[str | None]) -> Comment:
        status = str(raw.get("status") or "")
        meta: dict[str, Any] = raw["meta"] if isinstance(raw.get("meta"), dict) else {}
        cid = self.comment_id(raw["id"])
        if PROTECTED_META in meta:
            self.plugin_active = True
            self._marks[cid] = bool(meta[PROTECTED_META])
        author = str(raw.get("author") or 0)
        parent = raw.get("parent") or 0
        return Comment(
            id=cid,
            post_id=self.post_id(raw["post"]),
            parent_id=self.comment_id(parent) if parent else None,
            message=_raw(raw.get("content")),
            created_time=_utc(raw.get("date_gmt")) or "",
            author_id=author if author != "0" else None,
            author_name=raw.get("author_name"),
            hidden=status in HIDDEN_STATUSES,
            from_page=author != "0" and author in staff,
            platform_status=status or None,
            moderation_note=_override_note(meta.get(OVERRIDE_META)) or _STATUS_NOTES.get(status),
        )

    def confirm_gone(self, targets: Sequence[GoneTarget]) -> dict[str, GoneStatus]:
        """Deleted only on 404 ``rest_comment_invalid_id`` (``rest_post_invalid_id`` for a post)
        and a successful control read in the same call; throttling or a rejected password stops
        the run, everything else stays unknown."""
        result: dict[str, GoneStatus] = {t.id: "unknown" for t in targets}
        controls: dict[str, bool] = {}
        for target in targets:
            try:
                kind, rid = self.rest_id(target.id)
                r = self.client.get(f"wp/v2/{kind}/{rid}", context="edit", _fields="id,status")
                status = str(r.body.get("status") or "") if isinstance(r.body, dict) else ""
                result[target.id] = "unavailable" if kind == "posts" and status != "publish" else "present"
                continue
            except WPNotFound as exc:
                if exc.wp_code not in ("rest_comment_invalid_id", "rest_post_invalid_id"):
                    continue
            except (RateLimited, AuthExpired):
                raise
            except ConnectorError as exc:
                log.info("confirm_gone_unknown", object_id=target.id, reason=str(exc))
                continue
            if target.control_id not in controls:
                controls[target.control_id] = self._control(target.control_id)
            result[target.id] = "deleted" if controls[target.control_id] else "unknown"
        return result

    def _control(self, control_id: str) -> bool:
        """The post of a comment (or, for a post, the site's user) read with the same password."""
        try:
            kind, rid = self.rest_id(control_id, "posts")
            self.client.get(f"wp/v2/{kind}/{rid}", context="edit", _fields="id")
        except ConnectorError as exc:
            if control_id != self.site:
                if isinstance(exc, (RateLimited, AuthExpired)):
                    raise
                log.info("confirm_gone_control_failed", object_id=control_id, reason=str(exc))
                return False
            try:  # a post's control: the account itself
                self.client.get("wp/v2/users/me", _fields="id")
            except (RateLimited, AuthExpired):
                raise
            except ConnectorError:
                return False
        return True

    def check(self) -> list[str]:
        """Live check: the password signs in, the user may moderate comments, can list them
        in every status, and whether comment-guard's must-use plugin is active."""
        me = self.client.get("wp/v2/users/me", context="edit", _fields="id,name,roles,capabilities")
        caps = me.body.get("capabilities") or {}
        roles = ", ".join(me.body.get("roles") or []) or "no role"
        self._user_id = str(me.body.get("id"))
        lines = [f"application password of {self.client.username!r} accepted on {self.site} ({roles})"]
        if not caps.get(MODERATE):
            raise PermissionMissing(
                f"user {self.client.username!r} on {self.site} lacks the {MODERATE} capability "
                "(give it the Editor or Administrator role): comment-guard cannot read held, spam "
                "or trashed comments without it"
            )
        lines.append(f"user has {MODERATE}")
        r = self.client.get("wp/v2/comments", context="edit", status="any", per_page=1, _fields="id")
        lines.append(f"can list comments in every status ({r.header_int('x-wp-total') or 0} on the site)")
        lines.append(self._plugin_line())
        return lines

    def _plugin_line(self) -> str:
        try:
            r = self.client.get(PLUGIN_ROUTE)
        except ConnectorError as exc:
            if exc.code == 404:
                self.plugin_active = False
                return (
                    "comment-guard's must-use plugin is not active: WordPress will not refuse trashing "
                    "a protected comment (see the README's WordPress setup)"
                )
            raise
        self.plugin_active = bool(r.body.get("active")) if isinstance(r.body, dict) else False
        version = r.body.get("version") if isinstance(r.body, dict) else "?"
        return f"comment-guard's must-use plugin is active (version {version}): protected comments stay"

    def reply(self, target_id: str, message: str) -> str:
        """A comment by this user: on the post, or under the comment (``parent``)."""
        kind, rid = self.rest_id(target_id)
        if kind == "posts":
            body: dict[str, Any] = {"post": int(rid), "content": message}
        else:
            parent = self.client.get(f"wp/v2/comments/{rid}", context="edit", _fields="id,post")
            body = {"post": parent.body["post"], "parent": int(rid), "content": message}
        created = self.client.post("wp/v2/comments", body)
        return self.comment_id(created.body["id"])

    def hide(self, comment_id: str) -> None:
        self._set_status(comment_id, "hold")

    def unhide(self, comment_id: str) -> None:
        """Approve: brings a held, spammed or trashed comment back in front of readers."""
        self._set_status(comment_id, "approve")

    def delete(self, comment_id: str) -> None:
        """Move to the trash (recoverable). Permanent deletion (``force=true``) is ``purge``,
        only for a comment already in the trash and only with ``--override --reason``."""
        _, rid = self.rest_id(comment_id)
        try:
            self.client.delete(f"wp/v2/comments/{rid}")
        except ConnectorError as exc:
            if "rest_already_trashed" in str(exc):
                raise ConnectorError(
                    f"comment {comment_id} is already in the trash; WordPress empties the trash after "
                    "EMPTY_TRASH_DAYS (30 by default). To delete it permanently now, pass "
                    '--override --reason "why" (audited)'
                ) from None
            raise

    def in_trash(self, comment_id: str) -> bool:
        _, rid = self.rest_id(comment_id)
        r = self.client.get(f"wp/v2/comments/{rid}", context="edit", _fields="id,status")
        return isinstance(r.body, dict) and r.body.get("status") == "trash"

    def purge(self, comment_id: str) -> None:
        """``DELETE ?force=true`` of a comment WordPress has in its trash, never of another:
        the status is read first, so a comment restored meanwhile is not deleted."""
        if not self.in_trash(comment_id):
            raise ConnectorError(
                f"comment {comment_id} is not in WordPress's trash; comment-guard deletes permanently "
                "only a comment already trashed (`comment-guard delete` moves it to the trash first)"
            )
        _, rid = self.rest_id(comment_id)
        r = self.client.delete(f"wp/v2/comments/{rid}", force="true")
        if not (isinstance(r.body, dict) and r.body.get("deleted") is True):
            raise ConnectorError(f"WordPress did not confirm the permanent deletion of comment {comment_id}")

    def _set_status(self, comment_id: str, status: str) -> None:
        _, rid = self.rest_id(comment_id)
        self.client.post(f"wp/v2/comments/{rid}", {"status": status})

    def sync_protection(self, protected: Mapping[str, bool]) -> int:
        """Set the plugin's protection mark where it differs from what the last fetch read.
        Does nothing while the plugin is not active (WordPress would ignore the meta)."""
        if not self.plugin_active:
            return 0
        changed = 0
        for cid, want in protected.items():
            if cid not in self._marks or self._marks[cid] == want:
                continue
            _, rid = self.rest_id(cid)
            self.client.post(f"wp/v2/comments/{rid}", {"meta": {PROTECTED_META: bool(want)}})
            self._marks[cid] = bool(want)
            changed += 1
        return changed

    def close(self) -> None:
        self.client.close()


def _named(raw: Any, *keys: str) -> bool:
    """An item of a listing that can be archived: an object with an ``id`` (and ``keys``).
    Core always sends them; a plugin filtering the REST answer may not."""
    return isinstance(raw, dict) and all(raw.get(k) not in (None, "") for k in ("id", *keys))


def _raw(field: Any) -> str:
    """``content.raw`` (context=edit), else the rendered HTML as text."""
    if isinstance(field, dict):
        if field.get("raw") is not None:
            return str(field["raw"])
        return _text(str(field.get("rendered") or ""))
    return str(field or "")


_BLOCK_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]+>")
_BLANKS = re.compile(r"\n\s*\n+")


def _text(markup: str) -> str:
    """Post HTML (block comments included) as the words a reader sees."""
    text = _TAG.sub("", _BLOCK_COMMENT.sub("", markup))
    return _BLANKS.sub("\n\n", html.unescape(text)).strip()


def _post_text(raw: dict[str, Any]) -> str:
    title = _text(_raw(raw.get("title")))
    body = _text(_raw(raw.get("content")))
    return f"{title}\n\n{body}" if title else body


def _revision(raw: dict[str, Any]) -> PostRevision:
    return PostRevision(
        id=str(raw["id"]),
        message=_post_text(raw),
        created_time=_utc(raw.get("modified_gmt") or raw.get("date_gmt")) or "",
        author_id=str(raw["author"]) if raw.get("author") else None,
    )


def _revision_order(raw: dict[str, Any]) -> tuple[str, int]:
    return (str(raw.get("modified_gmt") or raw.get("date_gmt") or ""), int(raw.get("id") or 0))


def _override_note(value: Any) -> str | None:
    """The plugin's override record (JSON: user, action, reason, at) as one sentence."""
    if not value:
        return None
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)[:300]
    if not isinstance(data, dict):
        return str(value)[:300]
    return (
        f"{data.get('action', 'moderated')} by {data.get('user', '?')} at {data.get('at', '?')} "
        f"overriding comment-guard protection: {data.get('reason', '')}"
    )[:500]


def _utc(value: Any) -> str | None:
    """WordPress's ``*_gmt`` fields carry no offset: they are UTC."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat()


def _wp_time(moment: datetime) -> str:
    """``after=`` takes ISO-8601; an offset is honoured, so send UTC explicitly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def from_settings(settings: ConnectorSettings) -> WordPressConnector:
    """The registry's entry point (``connectors.registry``)."""
    if not settings.site_url or not settings.username:
        raise ConnectorError("a WordPress account needs site_url and username in the config")
    return WordPressConnector(
        settings.site_url, settings.username, settings.token, api_base_url=settings.base_url
    )
