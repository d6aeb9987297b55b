"""Facebook Page connector: posts and every comment (replies included) via the Graph API.

One request per page of posts: comments ride along through nested field expansion with
``filter(stream)`` so replies come back flat with their ``parent``. Only a post whose comments
overflow that first page costs extra requests (cursor paging on its ``comments`` edge).

Since Graph v11, comments come back without ``id`` (and ``from``) when the token's user cannot
moderate the page. Such comments cannot be archived or compared, so the post's scan is
incomplete with a ``PermissionMissing`` reason saying how to fix the token; the rest of the page
is still read, and ``check`` looks for exactly this on a post with comments.
"""

from __future__ import annotations

from datetime import datetime
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
from guard.errors import ConnectorError, PermissionMissing, Transient

__all__ = ["FacebookConnector", "COMMENT_FIELDS", "POST_FIELDS", "SCOPES"]

COMMENT_FIELDS = "id,message,from,created_time,parent,is_hidden"
COMMENT_PAGE = 100
POST_FIELDS = (
    "id,message,created_time,updated_time,permalink_url,from,"
    f"comments.filter(stream).limit({COMMENT_PAGE}){{{COMMENT_FIELDS}}}"
)
POST_PAGE = 100  # Graph's maximum; halved on "reduce the amount of data" (code 1)
MIN_POST_PAGE = 5
CHECK_POSTS = 25  # check() looks this far back for a post with comments
CHECK_FIELDS = f"id,comments.filter(stream).limit(5){{{COMMENT_FIELDS}}}"
# What check --live compares the token's granted permissions (debug_token) against.
SCOPES = (
    ScopeNeed("reading posts and comments", ("pages_read_engagement", "pages_read_user_content"), True),
    ScopeNeed("reply, hide, delete and enforce mode", ("pages_manage_engagement",)),
    ScopeNeed("webhooks (subscribing the app to the page)", ("pages_manage_metadata",)),
)
MISSING_IDS = (
    "the Graph API left the ids out of the comments on post {post}, as it does since Graph v11 "
    "when the token's user cannot moderate the page; the token's user must be able to moderate "
    "the page (give them the Moderate task or full control in the page's access settings), then "
    "generate a new page token and export it again"
)


class FacebookConnector:
    platform = "facebook"
    absences_before_confirm = 1

    def __init__(
        self,
        page_id: str,
        token: str,
        *,
        version: str = "v24.0",
        base_url: str | None = None,
        timeout: float = 30.0,
        post_page_size: int = POST_PAGE,
    ) -> None:
        self.page_id = page_id
        self.client = GraphClient(token, version=version, base_url=base_url, timeout=timeout)
        self.post_page_size = post_page_size

    @property
    def api_calls(self) -> int:
        return self.client.calls

    @property
    def read_budget(self) -> ReadBudget | None:
        return None  # the Graph API throttles (RateLimited) but does not bill reads

    def fetch(self, since: datetime) -> Snapshot:
        """Read every post created since ``since`` with all its comments.

        On an error the scan stops and returns what it read: posts whose comments were all read
        stay complete; the post being paged and the post list are marked incomplete.
        """
        start = self.client.calls
        scans: list[PostScan] = []
        error: ConnectorError | None = None  # stops the scan
        missing_ids: PermissionMissing | None = None  # noted; the rest is still read
        params: dict[str, Any] | None = {
            "fields": POST_FIELDS,
            "limit": self.post_page_size,
            "since": int(since.timestamp()),
        }
        asked: set[PageKey] = set()
        while params is not None and error is None:
            try:
                page = self.client.edge(self.page_id, "posts", **params)
                raws = page_items(page, "a page of posts")
                following = next_page_params(page.get("paging"), asked)
            except ConnectorError as exc:
                if _too_much_data(exc) and int(params.get("limit", 0)) > MIN_POST_PAGE:
                    params["limit"] = max(MIN_POST_PAGE, int(params["limit"]) // 2)
                    continue
                error = exc
                break
            for raw in raws:
                try:
                    post = _post(raw)
                except ConnectorError as exc:
                    error = error or exc
                    continue
                scan, failed = self._scan_post(post, raw, skip_paging=error is not None)
                scans.append(scan)
                if isinstance(failed, _MissingIds):
                    missing_ids = missing_ids or failed
                else:
                    error = error or failed
            params = following
        return Snapshot(
            posts=merge_repeats(scans),
            posts_complete=error is None,
            api_calls=self.client.calls - start,
            error=error or (PermissionMissing(str(missing_ids)) if missing_ids else None),
        )

    def fetch_post(self, post_id: str) -> Snapshot:
        """One post with every comment (a webhook said it changed): the same fields and paging
        as ``fetch``. ``NotFound`` when Graph answers 100/33 for the post."""
        start = self.client.calls
        raw = self.client.get(post_id, POST_FIELDS)
        scan, failed = self._scan_post(_post(raw), raw, skip_paging=False)
        error = PermissionMissing(str(failed)) if isinstance(failed, _MissingIds) else failed
        return Snapshot(posts=(scan,), posts_complete=False, api_calls=self.client.calls - start, error=error)

    def _scan_post(
        self, post: Post, raw: dict[str, Any], *, skip_paging: bool
    ) -> tuple[PostScan, ConnectorError | None]:
        comments: list[Comment] = []
        edge = raw.get("comments") or {}
        asked: set[PageKey] = set()
        try:
            if not isinstance(edge, dict):
                raise Transient(f"Graph API sent the comments of post {post.id} in an unknown shape")
            items = page_items(edge, f"the comments of post {post.id}")
            params = next_page_params(edge.get("paging"), asked)
        except ConnectorError as exc:
            return PostScan(post, (), False, str(exc)), exc
        while True:
            if not self._add_comments(items, post.id, comments):
                missing = _MissingIds(MISSING_IDS.format(post=post.id))
                return PostScan(post, tuple(comments), False, str(missing)), missing
            if params is None:
                return PostScan(post, tuple(comments), True), None
            if skip_paging:
                return PostScan(post, tuple(comments), False, "scan stopped by an earlier error"), None
            params.setdefault("fields", COMMENT_FIELDS)
            try:
                page = self.client.edge(post.id, "comments", **params)
                items = page_items(page, f"the comments of post {post.id}")
                params = next_page_params(page.get("paging"), asked)
            except ConnectorError as exc:
                return PostScan(post, tuple(comments), False, str(exc)), exc

    def _add_comments(self, items: list[dict[str, Any]], post_id: str, out: list[Comment]) -> bool:
        """Append the comments that have an id; False if any came without one."""
        complete = True
        for raw in items:
            if raw.get("id"):
                out.append(_comment(raw, post_id, self.page_id))
            else:
                complete = False
        return complete

    def confirm_gone(self, targets: Sequence[GoneTarget]) -> dict[str, GoneStatus]:
        return graph_confirm_gone(self.client, targets)

    def token_lifetime(self) -> TokenLifetime:
        return read_token_lifetime(self.client)

    def check(self) -> list[str]:
        """Live check: the token's type, expiry and permissions (``debug_token``), then that it
        reads the page, its posts, and the comments of the latest post that has any *with their
        ids* (PermissionMissing when the token's user cannot moderate)."""
        lines = token_lines(self.token_lifetime(), SCOPES, utcnow())
        page = self.client.get(self.page_id, "id,name")
        lines.append(f"token can read page {page.get('name', '?')} ({page.get('id')})")
        posts = page_items(
            self.client.edge(self.page_id, "posts", fields=CHECK_FIELDS, limit=CHECK_POSTS), "a page of posts"
        )
        lines.append(f"token can read posts ({len(posts)} on the first page)")
        for raw in posts:
            edge = raw.get("comments")
            items = page_items(edge, "comments") if isinstance(edge, dict) else []
            if not items:
                continue
            if not all(item.get("id") for item in items):
                raise PermissionMissing(MISSING_IDS.format(post=raw.get("id", "?")))
            lines.append(
                f"token can read comments with their ids (post {raw.get('id')}): "
                "its user can moderate the page"
            )
            return lines
        lines.append(
            f"none of the latest {CHECK_POSTS} posts has a comment, so whether the token's user can "
            "moderate the page (needed to see comment ids) is not checked yet; run check --live again later"
        )
        return lines

    def reply(self, target_id: str, message: str) -> str:
        return str(self.client.post(target_id, "comments", message=message)["id"])

    def hide(self, comment_id: str) -> None:
        self.client.post(comment_id, is_hidden="true")

    def unhide(self, comment_id: str) -> None:
        self.client.post(comment_id, is_hidden="false")

    def delete(self, comment_id: str) -> None:
        self.client.delete(comment_id)

    def close(self) -> None:
        self.client.close()


def _too_much_data(exc: ConnectorError) -> bool:
    """Graph answers code 1 "Please reduce the amount of data you're asking for" when nested
    comments make a page too big; a smaller page of posts is the documented way out."""
    return exc.code == 1 and "reduce the amount of data" in str(exc).lower()


class _MissingIds(PermissionMissing):
    """Comments came without ids: the post is incomplete, the rest of the scan goes on."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _post(raw: dict[str, Any]) -> Post:
    if not raw.get("id"):
        raise Transient("Graph API sent a post without an id; try again later")
    author = _dict(raw.get("from"))
    return Post(
        id=str(raw["id"]),
        message=raw.get("message") or raw.get("story") or "",
        created_time=normalize_time(raw.get("created_time")) or "",
        updated_time=normalize_time(raw.get("updated_time")),
        permalink_url=raw.get("permalink_url"),
        author_id=author.get("id"),
        author_name=author.get("name"),
    )


def _comment(raw: dict[str, Any], post_id: str, page_id: str) -> Comment:
    author = _dict(raw.get("from"))
    parent = _dict(raw.get("parent"))
    return Comment(
        id=str(raw["id"]),
        post_id=post_id,
        parent_id=str(parent["id"]) if parent.get("id") else None,
        message=raw.get("message") or "",
        created_time=normalize_time(raw.get("created_time")) or "",
        author_id=author.get("id"),
        author_name=author.get("name"),
        # Absent when the token cannot moderate the page: unknown, not "visible".
        hidden=None if raw.get("is_hidden") is None else bool(raw["is_hidden"]),
        from_page=str(author.get("id")) == str(page_id),
    )


def from_settings(settings: ConnectorSettings) -> FacebookConnector:
    """The registry's entry point (``connectors.registry``)."""
    return FacebookConnector(
        settings.account_id, settings.token, base_url=settings.base_url, version=settings.graph_version
    )
