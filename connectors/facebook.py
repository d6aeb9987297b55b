"""Facebook Page connector: posts and every comment (replies included) via the Graph API.

One request per page of posts: comments ride along through nested field expansion with
``filter(stream)`` so replies come back flat with their ``parent``. Only a post whose comments
overflow that first page costs extra requests (cursor paging on its ``comments`` edge).
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
)
from connectors.graph import GraphClient, graph_confirm_gone, next_page_params, normalize_time
from guard.errors import ConnectorError

__all__ = ["FacebookConnector", "COMMENT_FIELDS", "POST_FIELDS"]

COMMENT_FIELDS = "id,message,from,created_time,parent,is_hidden"
COMMENT_PAGE = 100
POST_FIELDS = (
    "id,message,created_time,updated_time,permalink_url,from,"
    f"comments.filter(stream).limit({COMMENT_PAGE}){{{COMMENT_FIELDS}}}"
)
POST_PAGE = 100  # Graph's maximum; halved on "reduce the amount of data" (code 1)
MIN_POST_PAGE = 5


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
        error: ConnectorError | None = None
        params: dict[str, Any] | None = {
            "fields": POST_FIELDS,
            "limit": self.post_page_size,
            "since": int(since.timestamp()),
        }
        while params is not None and error is None:
            try:
                page = self.client.edge(self.page_id, "posts", **params)
            except ConnectorError as exc:
                if _too_much_data(exc) and int(params.get("limit", 0)) > MIN_POST_PAGE:
                    params["limit"] = max(MIN_POST_PAGE, int(params["limit"]) // 2)
                    continue
                error = exc
                break
            for raw in page.get("data", []):
                scan, failed = self._scan_post(raw, skip_paging=error is not None)
                scans.append(scan)
                error = error or failed
            params = next_page_params(page.get("paging"))
        return Snapshot(
            posts=tuple(scans),
            posts_complete=error is None,
            api_calls=self.client.calls - start,
            error=error,
        )

    def _scan_post(self, raw: dict[str, Any], *, skip_paging: bool) -> tuple[PostScan, ConnectorError | None]:
        post = _post(raw)
        edge = raw.get("comments") or {}
        comments = [_comment(c, post.id, self.page_id) for c in edge.get("data", [])]
        params = next_page_params(edge.get("paging"))
        if params is not None and skip_paging:
            return PostScan(post, tuple(comments), False, "scan stopped by an earlier error"), None
        while params is not None:
            params.setdefault("fields", COMMENT_FIELDS)
            try:
                page = self.client.edge(post.id, "comments", **params)
            except ConnectorError as exc:
                return PostScan(post, tuple(comments), False, str(exc)), exc
            comments.extend(_comment(c, post.id, self.page_id) for c in page.get("data", []))
            params = next_page_params(page.get("paging"))
        return PostScan(post, tuple(_unique(comments)), True), None

    def confirm_gone(self, targets: Sequence[GoneTarget]) -> dict[str, GoneStatus]:
        return graph_confirm_gone(self.client, targets)

    def check(self) -> list[str]:
        """Live check: the token reads the page, its posts and their comments."""
        page = self.client.get(self.page_id, "id,name")
        lines = [f"token can read page {page.get('name', '?')} ({page.get('id')})"]
        posts = self.client.edge(self.page_id, "posts", fields=POST_FIELDS, limit=1)
        n = len(posts.get("data", []))
        lines.append(f"token can read posts and comments ({n} post on the first page)")
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


def _post(raw: dict[str, Any]) -> Post:
    author = raw.get("from") or {}
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
    author = raw.get("from") or {}
    parent = raw.get("parent") or {}
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


def _unique(comments: list[Comment]) -> list[Comment]:
    """A comment added while we page can shift a cursor and show up twice; keep the last."""
    return list({c.id: c for c in comments}.values())


def from_settings(settings: ConnectorSettings) -> FacebookConnector:
    """The registry's entry point (``connectors.registry``)."""
    return FacebookConnector(
        settings.account_id, settings.token, base_url=settings.base_url, version=settings.graph_version
    )
