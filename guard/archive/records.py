"""Load policy records (``policies.records``) from the archive: the only bridge between them."""

from __future__ import annotations

import json

import sqlite_utils

from guard.archive.labels import latest_labels
from policies.records import CommentRecord, ManualMark, PostRecord, Thread, Version

__all__ = ["load_thread", "MARK_EVENT", "REPLY_EVENT"]

MARK_EVENT = "post_marked_corrected"
REPLY_EVENT = "reply_posted"


# Each comment with the number of the account's other posts that carry exactly its text (the
# classifier's repetition evidence for spam); the comments_sha256 index keeps it a lookup.
_COMMENTS = """
SELECT c.*, (SELECT COUNT(DISTINCT o.post_id) FROM comments o
             WHERE o.sha256 = c.sha256 AND o.post_id != c.post_id AND o.account = c.account)
            AS copies_elsewhere
FROM comments c WHERE c.post_id = ? ORDER BY c.created_time, c.id
"""


def load_thread(db: sqlite_utils.Database, post_id: str) -> Thread | None:
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
    comments = tuple(
        CommentRecord(
            id=c["id"],
            post_id=c["post_id"],
            parent_id=c["parent_id"],
            author_name=c["author_name"],
            author_id=c["author_id"],
            message=c["message"],
            created_time=c["created_time"] or c["first_seen"],
            status=c["status"],
            from_page=bool(c["from_page"]),
            status_changed_at=c["status_changed_at"],
            copies_elsewhere=c["copies_elsewhere"],
        )
        for c in db.query(_COMMENTS, [post_id])
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
