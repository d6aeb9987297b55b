"""Records export and the evidence behind a report: what a public-records request asks for.

``export_records`` streams: rows come off one SQLite cursor as the caller writes them, so a
100,000-comment archive is exported in the memory of one row (SQLite sorts with its own bounded
cache and spills to a temporary file). ``evidence`` gathers everything about one post for
``comment-guard report``: every version of the post and of each comment, every event on a
timeline, the findings with who acted, and the chain head at the time of the report.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from guard.archive.queries import (
    is_fts_query_error,
    query_terms,
    text_condition,
    thread,
    walk_thread,
)
from guard.errors import NotInArchive, UsageError
from guard.text import sha256_text

__all__ = ["EXPORT_COLUMNS", "RecordFilter", "chain_head", "evidence", "export_records", "finding_post"]

# One row per version of every post and comment, in this column order (CSV header, JSON keys).
EXPORT_COLUMNS = (
    "type",
    "id",
    "account",
    "post_id",
    "parent_id",
    "author",
    "version",
    "current",
    "status",
    "created_time",
    "first_seen",
    "seen_at",
    "hidden_at",
    "deleted_at",
    "permalink",
    "sha256",
    "message",
)


@dataclass(frozen=True)
class RecordFilter:
    """Which posts and comments to export. Times are UTC ISO-8601 strings, compared with each
    post's or comment's ``created_time``: ``since`` inclusive, ``until`` exclusive."""

    account: str | None = None
    post: str | None = None
    since: str | None = None
    until: str | None = None
    query: str | None = None  # FTS: objects with at least one matching version (or author)


# The time of the last event that hid or deleted the object (the record says when we saw it).
# ``+e.kind``: look the object's few events up by object id; without the plus SQLite picks the
# kind index and reads every deletion in the archive for every row (100k rows: minutes).
_LAST_EVENT = "(SELECT max(e.at) FROM events e WHERE e.object_id = {obj} AND +e.kind = '{kind}')"

_POSTS = f"""
SELECT 'post' AS type, v.post_id AS id, p.account, v.post_id AS post_id, NULL AS parent_id,
       p.author_name AS author, v.version, v.version = p.version AS current, p.status,
       p.created_time, p.first_seen, v.seen_at, NULL AS hidden_at,
       {_LAST_EVENT.format(obj="p.id", kind="post_deleted")} AS deleted_at,
       p.permalink_url AS permalink, v.sha256, v.message
  FROM post_versions v JOIN posts p ON p.id = v.post_id
"""

_COMMENTS = f"""
SELECT 'comment' AS type, v.comment_id AS id, c.account, c.post_id, c.parent_id,
       c.author_name AS author, v.version, v.version = c.version AS current, c.status,
       c.created_time, c.first_seen, v.seen_at,
       {_LAST_EVENT.format(obj="c.id", kind="comment_hidden")} AS hidden_at,
       {_LAST_EVENT.format(obj="c.id", kind="comment_deleted")} AS deleted_at,
       p.permalink_url AS permalink, v.sha256, v.message
  FROM comment_versions v JOIN comments c ON c.id = v.comment_id JOIN posts p ON p.id = c.post_id
"""


def export_records(
    db: sqlite_utils.Database, filters: RecordFilter | None = None
) -> Iterator[dict[str, Any]]:
    """Every version of every post and comment that ``filters`` select, one dict each (keys:
    ``EXPORT_COLUMNS``), grouped by post (newest post first), the post before its comments.

    A generator, post by post: one sort of the posts, then each post's versions and comments
    through the post index, so memory holds one post's rows, not the archive (a single sorted
    query over every version made SQLite's sorter grow with the archive: +35 MiB at 100k).
    ``permalink`` is the post's link (a comment is shown under its post); ``current`` says
    whether the version is the live text.
    """
    f = filters or RecordFilter()
    post_where, post_args = _conditions("p", "p.id", f, fts="post")
    comment_where, comment_args = _conditions("c", "c.id", f, fts="comment")
    scope, scope_args = _where_all([("p.account = ?", f.account), ("p.id = ?", f.post)])
    post_sql = f"{_POSTS} {_and(post_where, 'p.id = ?')} ORDER BY v.version"
    comment_sql = (
        f"{_COMMENTS} {_and(comment_where, 'c.post_id = ?')} ORDER BY c.created_time, c.id, v.version"
    )
    own = not db.conn.in_transaction
    if own:  # one snapshot: a poll committing meanwhile does not split the export
        db.conn.execute("BEGIN")
    try:
        # The post ids off their own cursor too (through posts_created): an account of many
        # posts with few comments each (X) does not hold every id either.
        post_ids = db.conn.execute(
            f"SELECT p.id FROM posts p {scope} ORDER BY p.created_time DESC, p.id", scope_args
        )
        for (post_id,) in post_ids:
            for sql, args in ((post_sql, post_args), (comment_sql, comment_args)):
                cursor = db.execute(sql, [*args, post_id])
                names = [d[0] for d in cursor.description]
                for values in cursor:
                    row = dict(zip(names, values))
                    row["current"] = bool(row["current"])
                    yield row
    except sqlite3.OperationalError as exc:
        if f.query is None or not is_fts_query_error(exc):
            raise
        raise UsageError(f"cannot search for {f.query!r}: {exc}") from None
    finally:
        if own:
            db.conn.rollback()


def _and(where: str, condition: str) -> str:
    return f"{where} AND {condition}" if where else f"WHERE {condition}"


def _where_all(conds: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    used = [(sql, v) for sql, v in conds if v is not None]
    return ("WHERE " + " AND ".join(s for s, _ in used) if used else ""), [v for _, v in used]


def _conditions(alias: str, id_col: str, f: RecordFilter, *, fts: str) -> tuple[str, list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    for sql, value in (
        (f"{alias}.account = ?", f.account),
        (f"{alias}.{'id' if alias == 'p' else 'post_id'} = ?", f.post),
        (f"{alias}.created_time >= ?", f.since),
        (f"{alias}.created_time < ?", f.until),
    ):
        if value is not None:
            conds.append(sql)
            args.append(value)
    if f.query is not None:
        match, literals = query_terms(f.query)
        if fts == "post":
            cond, cond_args = text_condition("pv.message", "post_versions_fts", "pv.id", match, literals)
            conds.append(f"{id_col} IN (SELECT pv.post_id FROM post_versions pv WHERE {cond})")
            args += cond_args
        else:
            cond, cond_args = text_condition("cv.message", "comment_versions_fts", "cv.id", match, literals)
            author, author_args = text_condition(
                f"{alias}.author_name", "comments_fts", f"{alias}.rowid", match, literals
            )
            conds.append(
                f"({id_col} IN (SELECT cv.comment_id FROM comment_versions cv WHERE {cond}) OR {author})"
            )
            args += cond_args + author_args
    return ("WHERE " + " AND ".join(conds)) if conds else "", args


def chain_head(db: sqlite_utils.Database) -> tuple[int, str | None]:
    """(number of the last event, its hash): what ``verify --head`` checks later."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, None)


def evidence(db: sqlite_utils.Database, post_id: str) -> dict[str, Any]:
    """Everything the archive holds about one post, for an evidence report.

    ``post``: the post with ``versions`` (each with its word diff) and ``comments`` (the tree,
    every comment with its ``versions``); ``events``: every event about the post and its comments
    in order (status changes, versions, findings and who acted); ``findings``; ``head`` and
    ``events_total``: the chain head when the evidence was read; each version carries
    ``hash_ok`` (its text still hashes to the stored SHA-256).
    """
    own = not db.conn.in_transaction
    if own:  # one read transaction: the head is the head of what was read
        db.conn.execute("BEGIN")
    try:
        post = thread(db, post_id)
        for v in post["versions"]:
            v["hash_ok"] = sha256_text(v["message"]) == v["sha256"]
        for c, _ in walk_thread(post["comments"]):
            for v in c["versions"]:
                v["hash_ok"] = sha256_text(v["message"]) == v["sha256"]
        events = [
            {**e, "data": json.loads(e["data"])}
            for e in db.query(
                "SELECT seq, at, kind, object_id, data, hash FROM events WHERE post_id = ? ORDER BY seq",
                [post_id],
            )
        ]
        findings = [
            {**r, "evidence": json.loads(r["evidence"])}
            for r in db.query("SELECT * FROM findings WHERE post_id = ? ORDER BY id", [post_id])
        ]
        seq, head = chain_head(db)
    finally:
        if own:
            db.conn.rollback()
    return {"post": post, "events": events, "findings": findings, "head": head, "events_total": seq}


def finding_post(db: sqlite_utils.Database, finding_id: int) -> str:
    """The post a finding is about (``report --finding N``)."""
    row = db.execute("SELECT post_id FROM findings WHERE id = ?", [finding_id]).fetchone()
    if row is None:
        raise NotInArchive(f"no finding #{finding_id}; `comment-guard findings --state all` lists them")
    if not row[0]:
        raise UsageError(f"finding #{finding_id} is not about a post (an account finding); nothing to report")
    return str(row[0])
