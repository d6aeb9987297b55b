"""The sandbox's records and the Graph field values it renders for them (see ``guard.sandbox``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from guard.demo._fields import Key, iso

__all__ = ["Post", "Comment", "Node", "PAGE_VALUES", "POST_VALUES", "COMMENT_VALUES", "edit_post"]


@dataclass
class Post:
    id: str
    number: str
    message: str
    created: int
    updated: int
    seq: int
    hidden: bool = False
    deleted: bool = False
    entries: list[tuple[int, int, str]] = field(default_factory=list)  # all comments, sorted

    @property
    def key(self) -> Key:
        return self.created, self.seq


@dataclass
class Comment:
    id: str
    post_id: str
    parent_id: str | None
    message: str
    author: str
    author_id: str
    created: int
    seq: int
    hidden: bool = False
    deleted: bool = False
    entries: list[tuple[int, int, str]] = field(default_factory=list)  # replies, sorted

    @property
    def key(self) -> Key:
        return self.created, self.seq


Node = Post | Comment


class _Page(Protocol):
    """The sandbox state the field renderers read (``guard.demo.sandbox.Sandbox`` provides it)."""

    page_id: str
    page_name: str
    _posts: dict[str, Post]
    _comments: dict[str, Comment]

    def _alive(self, node: Node) -> bool: ...


_FB = "https://www.facebook.com"
PAGE_VALUES: dict[str, Callable[[_Page, Any], Any]] = {
    "id": lambda sb, _: sb.page_id,
    "name": lambda sb, _: sb.page_name,
}
POST_VALUES: dict[str, Callable[[_Page, Post], Any]] = {
    "id": lambda sb, p: p.id,
    "message": lambda sb, p: p.message or None,
    "created_time": lambda sb, p: iso(p.created),
    "updated_time": lambda sb, p: iso(p.updated),
    "permalink_url": lambda sb, p: f"{_FB}/{sb.page_id}/posts/{p.number}",
    "is_hidden": lambda sb, p: p.hidden,
    "is_published": lambda sb, p: True,
    "status_type": lambda sb, p: "mobile_status_update",
}
COMMENT_VALUES: dict[str, Callable[[_Page, Comment], Any]] = {
    "id": lambda sb, c: c.id,
    "message": lambda sb, c: c.message,
    "created_time": lambda sb, c: iso(c.created),
    "is_hidden": lambda sb, c: c.hidden,
    "permalink_url": lambda sb, c: (
        f"{_FB}/{sb.page_id}/posts/{sb._posts[c.post_id].number}?comment_id={c.id.rsplit('_', 1)[-1]}"
    ),
    "comment_count": lambda sb, c: sum(1 for e in c.entries if sb._alive(sb._comments[e[2]])),
    "like_count": lambda sb, c: 0,
    "can_comment": lambda sb, c: c.parent_id is None,
    "can_hide": lambda sb, c: c.author_id != sb.page_id,  # a Page cannot hide its own comments
    "can_remove": lambda sb, c: True,
    "can_like": lambda sb, c: True,
    "can_reply_privately": lambda sb, c: c.author_id != sb.page_id,
    "is_private": lambda sb, c: False,
    "user_likes": lambda sb, c: False,
}


def edit_post(post: Post, message: str) -> None:
    post.message, post.updated = message, max(int(time.time()), post.updated + 1)
