"""Load policy records (``policies.records``) from the archive: the only bridge between them."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlite_utils

from guard.archive.labels import latest_labels
from policies.records import CommentRecord, ManualMark, PostRecord, Thread, Version

__all__ = ["load_thread", "MARK_EVENT", "REPLY_EVENT"]

MARK_EVENT = "post_marked_corrected"
REPLY_EVENT = "reply_posted"


# Each comment with the number of the account's other posts that carry exactly its text (the
# classifier's repetition evidence for spam); the comments_sha256 index keeps it a lookup.
# Tuples, in CommentRecord's order: a thread is loaded for every post a poll touched.
_COMMENT_FIELDS = """
SELECT c.id, c.post_id, c.parent_id, c.author_name, c.author_id, c.message, c.created_time,
       c.first_seen, c.status, c.from_page, c.status_changed_at,
       (SELECT COUNT(DISTINCT o.post_id) FROM comments o
        WHERE o.sha256 = c.sha256 AND o.post_id != c.post_id AND o.account = c.account)
FROM comments c WHERE c.post_id = ?1
"""
_COMMENTS = _COMMENT_FIELDS + " ORDER BY c.created_time, c.id"
# What the rules read of a thread that is not corrected (``policies.analysis.reads_every_comment``):
# comments no longer plainly present, the page's own comments, and those open findings are about.
_RELEVANT_COMMENTS = (
    _COMMENT_FIELDS + " AND (c.status != 'present' OR c.from_page != 0 OR c.id IN"
    " (SELECT comment_id FROM findings WHERE post_id = ?1 AND state != 'resolved'))"
    " ORDER BY c.created_time, c.id"
)


def load_thread(
    db: sqlite_utils.Database,
    post_id: str,
    *,
    every_comment: Callable[[PostRecord, tuple[ManualMark, ...]], bool] | None = None,
) -> Thread | None:
    """The post and what the rules read about it. ``every_comment``: asked with the post and
    its marks whether the rules read every comment; when it says no, only the comments they
    read on such a post are loaded (a poll touches hundreds of posts of hundreds of comments)."""
    rows = list(
        db.query(
            "SELECT p.*, a.platform FROM posts p JOIN accounts a ON a.name = p.account WHERE p.id = ?",
            [post_id],
        )
    )
    if not rows:
        return None
    p = rows[0]
    versions = tuple(
        Version(
            v["version"],
            v["message"],
            v["seen_at"],
            tuple(tuple(d) for d in json.loads(v["diff"])) if v["diff"] else None,
        )
        for v in db.query("SELECT * FROM post_versions WHERE post_id = ? ORDER BY version", [post_id])
    )
    post = PostRecord(
        id=p["id"],
        account=p["account"],
        platform=p["platform"],
        message=p["message"],
        status=p["status"],
        created_time=p["created_time"] or "",
        permalink_url=p["permalink_url"],
        versions=versions,
    )
    marks = []
    replies = []
    for e in db.query(
        "SELECT kind, at, object_id, data FROM events WHERE post_id = ? AND kind IN (?, ?) ORDER BY seq",
        [post_id, MARK_EVENT, REPLY_EVENT],
    ):
        data = json.loads(e["data"])
        if e["kind"] == MARK_EVENT:
            marks.append(ManualMark(post_id, e["at"], data.get("note")))
        else:
            replies.append((data.get("target_id", ""), e["at"]))
    whole = every_comment is None or every_comment(post, tuple(marks))
    comments = tuple(
        CommentRecord(
            id=cid,
            post_id=pid,
            parent_id=parent,
            author_name=author_name,
            author_id=author_id,
            message=message,
            created_time=created or first_seen,
            status=status,
            from_page=bool(from_page),
            status_changed_at=changed_at,
            copies_elsewhere=copies,
        )
        for (
            cid,
            pid,
            parent,
            author_name,
            author_id,
            message,
            created,
            first_seen,
            status,
            from_page,
            changed_at,
            copies,
        ) in db.execute(_COMMENTS if whole else _RELEVANT_COMMENTS, [post_id])
    )
    open_kinds = frozenset(
        r[0]
        for r in db.execute("SELECT kind FROM findings WHERE post_id = ? AND state != 'resolved'", [post_id])
    )
    return Thread(
        post=post,
        comments=comments,
        marks=tuple(marks),
        replies_posted=tuple(replies),
        open_kinds=open_kinds,
        labels=latest_labels(db, post_id),
    )
