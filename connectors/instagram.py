"""Instagram connector: a business account's media and every comment and reply (Graph API).

Uses the Instagram Graph API through a Facebook Page token (host graph.facebook.com;
permissions instagram_basic, instagram_manage_comments, pages_read_engagement). One request per
page of media: comments and their replies ride along through nested field expansion, and only
overflowing comment or reply lists cost extra requests (cursor paging on ``/comments`` and
``/replies``).

Instagram leaves comments of users the account has *restricted* out of every list, so absence
from one complete scan means little: ``absences_before_confirm = 2``. The deletion rule itself
(100/33 plus a control read of the media) is the one Facebook uses, shared in ``graph.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from connectors.base import (
    Comment,
    ConnectorSettings,
    GoneStatus,
    GoneTarget,
    Post,
    PostScan,
    ReadBudget,
    Snapshot,
    TokenLifetime,
    merge_repeats,
)
from connectors.graph import (
    GraphClient,
    PageKey,
    ScopeNeed,
    graph_confirm_gone,
    next_page_params,
    normalize_time,
    page_items,
    read_token_lifetime,
    token_lines,
)
from guard.clock import utcnow
from guard.errors import ConnectorError, NotFound, Transient

__all__ = ["InstagramConnector", "MEDIA_FIELDS", "COMMENT_FIELDS", "REPLY_FIELDS", "SCOPES"]

REPLY_FIELDS = "id,text,timestamp,username,from,hidden"
COMMENT_FIELDS = f"id,text,timestamp,username,from,hidden,like_count,replies{{{REPLY_FIELDS}}}"
COMMENT_PAGE = 50
MEDIA_FIELDS = (
    "id,caption,timestamp,permalink,username,comments_count,"
    f"comments.limit({COMMENT_PAGE}){{{COMMENT_FIELDS}}}"
)
MEDIA_PAGE = 25
# The same Page token as Facebook: check --live compares its debug_token scopes with these.
SCOPES = (
    ScopeNeed(
        "reading media and comments",
        ("instagram_basic", "instagram_manage_comments", "pages_read_engagement"),
        True,
    ),
    ScopeNeed("webhooks (subscribing the app to the page)", ("pages_manage_metadata",)),
)
MISSING_IDS = (
    "the Graph API sent comments without an id on media {media}; they cannot be archived or "
    "compared, so this media's scan is incomplete"
)


# A comment whose replies overflow the nested page: its id, the next page's query, and the
# pages of that reply list already asked for.
_MoreReplies = tuple[str, dict[str, str], set[PageKey]]


class InstagramConnector:
    platform = "instagram"
    absences_before_confirm = 2  # restricted users' comments are left out of lists

    def __init__(
        self,
        ig_user_id: str,
        token: str,
        *,
        version: str = "v24.0",
        base_url: str | None = None,
        timeout: float = 30.0,
        media_page_size: int = MEDIA_PAGE,
    ) -> None:
        self.ig_user_id = str(ig_user_id)
        self.client = GraphClient(token, version=version, base_url=base_url, timeout=timeout)
        self.media_page_size = media_page_size
        self.username: str | None = None  # the account's own handle, read once
        self._media_ids: set[str] = set()  # so reply() knows media from comments

    @property
    def api_calls(self) -> int:
        return self.client.calls

    @property
    def read_budget(self) -> ReadBudget | None:
        return None  # the Graph API throttles (RateLimited) but does not bill reads

    def fetch(self, since: datetime) -> Snapshot:
        """Read every media posted since ``since`` with all its comments and replies.

        The media edge has no working ``since`` filter but lists newest first, so paging stops
        after a page whose oldest item is before the window (an older *pinned* media at the top
        is skipped, not taken as the end). On an error the scan stops and returns what it read:
        media whose comments were all read stay complete, the media being paged does not.
        """
        start = self.client.calls
        scans: list[PostScan] = []
        error: ConnectorError | None = None  # stops the scan
        noted: ConnectorError | None = None  # comments without ids: noted, the rest still read
        try:
            self._own_username()
        except ConnectorError as exc:
            error = exc
        params: dict[str, Any] | None = {"fields": MEDIA_FIELDS, "limit": self.media_page_size}
        asked: set[PageKey] = set()
        while params is not None and error is None:
            try:
                page = self.client.edge(self.ig_user_id, "media", **params)
                items = page_items(page, "a page of media")
                following = next_page_params(page.get("paging"), asked)
            except ConnectorError as exc:
                error = exc
                break
            for raw in items:
                if _before(raw, since):
                    continue
                if not raw.get("id"):
                    error = error or Transient("Graph API sent a media without an id; try again later")
                    continue
                scan, failed, note = self._scan_media(raw, skip_paging=error is not None)
                scans.append(scan)
                error = error or failed
                noted = noted or note
            if items and _before(items[-1], since):
                break  # newest first: everything after this page is older than the window
            params = following
        return Snapshot(
            posts=merge_repeats(scans),
            posts_complete=error is None,
            api_calls=self.client.calls - start,
            error=error or noted,
        )

    def fetch_post(self, post_id: str) -> Snapshot:
        """One media with every comment and reply (a ``comments`` webhook named it): the same
        fields and paging as ``fetch``. ``NotFound`` when Graph answers 100/33 for the media."""
        start = self.client.calls
        self._own_username()
        raw = self.client.get(post_id, MEDIA_FIELDS)
        if not raw.get("id"):
            raise Transient("Graph API sent a media without an id; try again later")
        scan, failed, note = self._scan_media(raw, skip_paging=False)
        return Snapshot(
            posts=(scan,), posts_complete=False, api_calls=self.client.calls - start, error=failed or note
        )

    def _own_username(self) -> str | None:
        """The account's handle, to mark its own replies; one call per connector lifetime."""
        if self.username is None:
            user = self.client.get(self.ig_user_id, "id,username")
            self.username = user.get("username")
        return self.username

    def _scan_media(
        self, raw: dict[str, Any], *, skip_paging: bool
    ) -> tuple[PostScan, ConnectorError | None, ConnectorError | None]:
        """(scan, error that stops the fetch, note that only makes this media incomplete)."""
        post = self._post(raw)
        comments: list[Comment] = []
        more_replies: list[_MoreReplies] = []
        asked: set[PageKey] = set()
        try:
            edge = _edge(raw.get("comments"), f"the comments of media {post.id}")
            whole = self._add_comments(edge, post.id, comments, more_replies)
            params = next_page_params(edge.get("paging"), asked)
            if skip_paging and (params is not None or more_replies):
                return PostScan(post, tuple(comments), False, "scan stopped by an earlier error"), None, None
            while params is not None:
                params.setdefault("fields", COMMENT_FIELDS)
                page = self.client.edge(post.id, "comments", **params)
                whole &= self._add_comments(page, post.id, comments, more_replies)
                params = next_page_params(page.get("paging"), asked)
            for comment_id, first_params, asked_replies in more_replies:
                reply_params: dict[str, str] | None = first_params
                while reply_params is not None:
                    reply_params.setdefault("fields", REPLY_FIELDS)
                    page = self.client.edge(comment_id, "replies", **reply_params)
                    whole &= self._add_replies(page, post.id, comment_id, comments)
                    reply_params = next_page_params(page.get("paging"), asked_replies)
        except ConnectorError as exc:
            return PostScan(post, tuple(comments), False, str(exc)), exc, None
        if not whole:
            note = ConnectorError(MISSING_IDS.format(media=post.id))
            return PostScan(post, tuple(comments), False, str(note)), None, note
        return PostScan(post, tuple(comments), True), None, None

    def _add_comments(
        self,
        page: dict[str, Any],
        post_id: str,
        out: list[Comment],
        more_replies: list[_MoreReplies],
    ) -> bool:
        """Top-level comments with their first page of replies; note reply lists to page on.
        False if any comment came without an id (it is left out)."""
        whole = True
        for raw in page_items(page, f"the comments of media {post_id}"):
            if not raw.get("id"):
                whole = False
                continue
            comment = self._comment(raw, post_id, None)
            out.append(comment)
            replies = _edge(raw.get("replies"), f"the replies to comment {comment.id}")
            whole &= self._add_replies(replies, post_id, comment.id, out)
            asked: set[PageKey] = set()  # one set per listing: a comment listed twice pages twice
            params = next_page_params(replies.get("paging"), asked)
            if params is not None:
                more_replies.append((comment.id, params, asked))
        return whole

    def _add_replies(self, page: dict[str, Any], post_id: str, parent_id: str, out: list[Comment]) -> bool:
        whole = True
        for raw in page_items(page, f"the replies to comment {parent_id}"):
            if raw.get("id"):
                out.append(self._comment(raw, post_id, parent_id))
            else:
                whole = False
        return whole

    def _post(self, raw: dict[str, Any]) -> Post:
        self._media_ids.add(str(raw["id"]))
        return Post(
            id=str(raw["id"]),
            message=raw.get("caption") or "",
            created_time=normalize_time(raw.get("timestamp")) or "",
            permalink_url=raw.get("permalink"),
            author_id=self.ig_user_id,
            author_name=raw.get("username") or self.username,
        )

    def _comment(self, raw: dict[str, Any], post_id: str, parent_id: str | None) -> Comment:
        author: dict[str, Any] = raw["from"] if isinstance(raw.get("from"), dict) else {}
        author_id = str(author["id"]) if author.get("id") else None
        username = raw.get("username") or author.get("username")
        hidden = raw.get("hidden")
        return Comment(
            id=str(raw["id"]),
            post_id=post_id,
            parent_id=parent_id,
            message=raw.get("text") or "",
            created_time=normalize_time(raw.get("timestamp")) or "",
            author_id=author_id,
            author_name=username,
            hidden=hidden if isinstance(hidden, bool) else None,  # absent: not reported
            from_page=author_id == self.ig_user_id
            or (self.username is not None and username == self.username),
        )

    def confirm_gone(self, targets: Sequence[GoneTarget]) -> dict[str, GoneStatus]:
        return graph_confirm_gone(self.client, targets)

    def token_lifetime(self) -> TokenLifetime:
        return read_token_lifetime(self.client)

    def check(self) -> list[str]:
        """Live check: the Page token's type, expiry and permissions (``debug_token``), then
        that it reads the Instagram account, its media and their comments."""
        lines = token_lines(self.token_lifetime(), SCOPES, utcnow())
        user = self.client.get(self.ig_user_id, "id,username")
        self.username = user.get("username")
        lines.append(f"token can read Instagram account @{self.username or '?'} ({user.get('id')})")
        media = page_items(
            self.client.edge(self.ig_user_id, "media", fields=MEDIA_FIELDS, limit=1), "a page of media"
        )
        lines.append(f"token can read media and comments ({len(media)} media on the first page)")
        return lines

    def reply(self, target_id: str, message: str) -> str:
        """Reply to a comment (``/replies``) or comment on a media (``/comments``)."""
        edge = "comments" if self._is_media(target_id) else "replies"
        return str(self.client.post(target_id, edge, message=message)["id"])

    def hide(self, comment_id: str) -> None:
        self.client.post(comment_id, hide="true")

    def unhide(self, comment_id: str) -> None:
        self.client.post(comment_id, hide="false")

    def delete(self, comment_id: str) -> None:
        self.client.delete(comment_id)

    def close(self) -> None:
        self.client.close()

    def _is_media(self, object_id: str) -> bool:
        """Media seen in a fetch are known; otherwise ask for a field only media have.

        A comment answers code 100 "nonexisting field (media_type)"; 100/33 (gone or not
        visible) is raised as NotFound, like any other failure.
        """
        if object_id in self._media_ids:
            return True
        try:
            self.client.get(object_id, "id,media_type")
        except NotFound:
            raise
        except ConnectorError as exc:
            if exc.code == 100:
                return False
            raise
        self._media_ids.add(object_id)
        return True


def _before(raw: dict[str, Any], since: datetime) -> bool:
    created = normalize_time(raw.get("timestamp"))
    if not created:
        return False  # unknown age: keep it rather than lose comments
    limit = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
    try:
        return datetime.fromisoformat(created) < limit
    except ValueError:
        return False


def _edge(value: Any, what: str) -> dict[str, Any]:
    """A nested edge (``comments``, ``replies``): absent is empty, anything but an object is
    not Graph's shape."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Transient(f"Graph API sent {what} in an unknown shape; try again later")
    return value


def from_settings(settings: ConnectorSettings) -> InstagramConnector:
    """The registry's entry point (``connectors.registry``)."""
    return InstagramConnector(
        settings.account_id, settings.token, base_url=settings.base_url, version=settings.graph_version
    )
