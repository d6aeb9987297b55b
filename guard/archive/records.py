"""Load policy records (``policies.records``) from the archive: the only bridge between them."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

import sqlite_utils

from guard.archive.events import MARK_EVENT, REPLY_EVENT
from guard.archive.findings import UNRESOLVED
from guard.archive.labels import latest_labels
from policies.records import CommentRecord, ManualMark, PostRecord, Thread, Version

__all__ = ["load_thread", "load_threads", "MARK_EVENT", "REPLY_EVENT"]


# Each comment with the number of the account's other posts that carry exactly its text (the
# classifier's repetition evidence for spam); the comments_sha256 index keeps it a lookup.
# Tuples, in CommentRecord's order (with first_seen): a poll loads every post it touched.
_SELECT_COMMENTS = """
SELECT c.id, c.post_id, c.parent_id, c.author_name, c.author_id, c.message, c.created_time,
       c.first_seen, c.status, c.from_page, c.status_changed_at,
       (SELECT COUNT(DISTINCT o.post_id) FROM comments o
        WHERE o.sha256 = c.sha256 AND o.post_id != c.post_id AND o.account = c.account)
FROM comments c"""
_OF_POSTS = "c.post_id IN (SELECT value FROM json_each(?1))"
_COMMENTS = f"{_SELECT_COMMENTS} WHERE {_OF_POSTS} ORDER BY c.created_time, c.id"
# What the rules read of a thread that is not corrected (``policies.analysis.reads_every_comment``):
# comments no longer plainly present, the page's own comments, and those open findings are about.
# The last are looked up by id in a second SELECT (UNION drops a comment both find): as a third
# OR term they were tested against every comment of the chunk. "+" keeps SQLite on the id there.
_RELEVANT_COMMENTS = (
    f"{_SELECT_COMMENTS} WHERE {_OF_POSTS} AND (c.status != 'present' OR c.from_page != 0)"
    f" UNION {_SELECT_COMMENTS} WHERE c.id IN (SELECT comment_id FROM findings WHERE {UNRESOLVED}"
    f" AND post_id IN (SELECT value FROM json_each(?1))) AND +{_OF_POSTS}"
    " ORDER BY 7, 1"  # created_time, id
)
_IN = "IN (SELECT value FROM json_each(?))"
_POSTS = (
    "SELECT p.id, p.account, a.platform, p.message, p.status, p.created_time, p.permalink_url"
    f" FROM posts p JOIN accounts a ON a.name = p.account WHERE p.id {_IN}"
)
_VERSIONS = (
    f"SELECT post_id, version, message, seen_at, diff FROM post_versions WHERE post_id {_IN} ORDER BY version"
)
_MARKS = (
    f"SELECT post_id, kind, at, object_id, data FROM events WHERE post_id {_IN} AND kind IN (?, ?)"
    " ORDER BY seq"
)
_OPEN_KINDS = f"SELECT post_id, kind FROM findings WHERE {UNRESOLVED} AND post_id {_IN}"
# Hides and deletions staff did with --override (``guard.actions.moderate``) that the comment's
# status still stems from: it has not been seen visible since (unhidden, or listed again).
_OVERRIDES = f"""
SELECT o.post_id, o.object_id, o.kind FROM events o
WHERE o.post_id {_IN} AND o.kind IN ('comment_hide_by_guard', 'comment_delete_by_guard')
  AND json_extract(o.data, '$.override')
  AND NOT EXISTS (
    SELECT 1 FROM events u WHERE u.object_id = o.object_id AND u.seq > o.seq
    AND (u.kind = 'comment_unhidden'
         OR (u.kind = 'comment_reappeared' AND json_extract(u.data, '$.status') = 'present')))
"""
_CHUNK = 100  # posts loaded together: one query per table for each chunk

EveryComment = Callable[[PostRecord, tuple[ManualMark, ...]], bool]


def load_thread(
    db: sqlite_utils.Database, post_id: str, *, every_comment: EveryComment | None = None
) -> Thread | None:
    """The post and what the rules read about it; see ``load_threads``."""
    return next(load_threads(db, [post_id], every_comment=every_comment), None)


def load_threads(
    db: sqlite_utils.Database, post_ids: Iterable[str], *, every_comment: EveryComment | None = None
) -> Iterator[Thread]:
    """The threads of ``post_ids`` still in the archive, in that order, a chunk of posts at a
    time (one query per table, not one per post). ``every_comment``: asked with each post and
    its marks whether the rules read every comment; when it says no, only the comments they
    read on such a post are loaded (a poll touches hundreds of posts of hundreds of comments)."""
    ids = list(post_ids)
    for start in range(0, len(ids), _CHUNK):
        yield from _load_chunk(db, ids[start : start + _CHUNK], every_comment)


def _load_chunk(
    db: sqlite_utils.Database, ids: list[str], every_comment: EveryComment | None
) -> Iterator[Thread]:
    key = json.dumps(ids)
    versions: dict[str, list[Version]] = defaultdict(list)
    for pid, version, message, seen_at, diff in db.execute(_VERSIONS, [key]):
        versions[pid].append(
            Version(version, message, seen_at, tuple(tuple(d) for d in json.loads(diff)) if diff else None)
        )
    posts = {
        pid: PostRecord(
            id=pid,
            account=account,
            platform=platform,
            message=message,
            status=status,
            created_time=created or "",
            permalink_url=url,
            versions=tuple(versions[pid]),
        )
        for pid, account, platform, message, status, created, url in db.execute(_POSTS, [key])
    }
    marks: dict[str, list[ManualMark]] = defaultdict(list)
    replies: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for pid, kind, at, object_id, data in db.execute(_MARKS, [key, MARK_EVENT, REPLY_EVENT]):
        fields = json.loads(data)
        if kind == MARK_EVENT:
            marks[pid].append(ManualMark(pid, at, fields.get("note")))
        else:
            replies[pid].append((fields.get("target_id", ""), at, object_id or ""))
    whole: list[str] = []
    part: list[str] = []
    for pid, post in posts.items():
        read_all = every_comment is None or every_comment(post, tuple(marks[pid]))
        (whole if read_all else part).append(pid)
    comments: dict[str, list[CommentRecord]] = defaultdict(list)
    for sql, chosen in ((_COMMENTS, whole), (_RELEVANT_COMMENTS, part)):
        if not chosen:
            continue
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
        ) in db.execute(sql, [json.dumps(chosen)]):
            comments[pid].append(
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
            )
    open_kinds: dict[str, set[str]] = defaultdict(set)
    for pid, kind in db.execute(_OPEN_KINDS, [key]):
        open_kinds[pid].add(kind)
    overrides: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for pid, cid, kind in db.execute(_OVERRIDES, [key]):
        overrides[pid].add((cid, kind.removeprefix("comment_").removesuffix("_by_guard")))
    # Labels only matter on the comments loaded (the rules read no other).
    labels = latest_labels(db, [c.id for loaded in comments.values() for c in loaded])
    for pid in ids:
        if pid in posts:
            yield Thread(
                post=posts[pid],
                comments=tuple(comments[pid]),
                marks=tuple(marks[pid]),
                replies_posted=tuple(replies[pid]),
                open_kinds=frozenset(open_kinds[pid]),
                overrides=frozenset(overrides[pid]),
                labels=tuple(
                    sorted(
                        (labels[c.id] for c in comments[pid] if c.id in labels), key=lambda la: la.comment_id
                    )
                ),
            )
