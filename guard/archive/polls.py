"""The write path of a poll: everything one poll learned, written in one transaction.

A crash or an exception half-way leaves the archive exactly as it was before the poll.
Versions are only ever inserted; events go through the hash chain (``guard.archive.events``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from guard.archive.events import append_events
from guard.errors import ArchiveError

__all__ = ["ensure_account", "PollBatch", "write_poll"]

_BATCH = 1000
# Text is written separately, and only for edits: the FTS trigger fires on UPDATE OF message.
_COMMENT_TEXT = "UPDATE comments SET message = :message WHERE id = :id"
# New rows are indexed for search in bulk, once per poll (schema step 8 dropped the per-row
# insert triggers): every row this poll inserted has a rowid above the largest one before it.
_COMMENTS_FTS = (
    "INSERT INTO comments_fts (rowid, message, author_name)"
    " SELECT rowid, message, author_name FROM comments WHERE rowid > ?"
)
_VERSIONS_FTS = (
    "INSERT INTO comment_versions_fts (rowid, message) SELECT id, message FROM comment_versions WHERE id > ?"
)
# A new comment: the tuple the poller builds (no dict per row: a first poll has 100,000 of them).
_COMMENT_INSERT = (
    "INSERT INTO comments (id, account, post_id, parent_id, author_id, author_name, message,"
    " created_time, hidden, from_page, status, version, sha256, first_seen, last_seen,"
    " missing_count, status_changed_at, platform_status)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?13, ?13, 0, ?13, ?14)"
)
_VERSION_INSERT = (
    "INSERT INTO comment_versions (comment_id, version, message, sha256, seen_at, diff)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_COMMENT_UPDATE = (
    "UPDATE comments SET sha256 = :sha256,"
    " version = :version, status = :status, hidden = :hidden, missing_count = :missing_count,"
    " last_seen = :last_seen, status_changed_at = :status_changed_at,"
    " confirmed_at = :confirmed_at WHERE id = :id"
)


def ensure_account(
    db: sqlite_utils.Database, name: str, platform: str, page_id: str, now: str, *, bind: bool = True
) -> None:
    """Check that ``name`` is archived as this platform and page; with ``bind``, record the
    binding when it is new (the caller binds only after a poll that read something)."""
    row = db.execute("SELECT platform, page_id FROM accounts WHERE name = ?", [name]).fetchone()
    if row is None:
        if not bind:
            return
        db.table("accounts").insert(
            {"name": name, "platform": platform, "page_id": page_id, "first_seen": now}
        )
    elif tuple(row) != (platform, page_id):
        raise ArchiveError(
            f"account {name!r} is archived as {row[0]} {row[1]} but configured as {platform} "
            f"{page_id}; give the new account another name so the two archives don't mix "
            "(`comment-guard accounts` lists the bindings)"
        )


@dataclass
class PollBatch:
    """Everything one poll writes. Built by the poller, written atomically by ``write_poll``."""

    account: str
    started: str
    finished: str
    api_calls: int = 0
    items: int = 0
    complete: bool = False
    error: str | None = None
    posts: list[dict[str, Any]] = field(default_factory=list)  # new or changed, full rows
    post_versions: list[dict[str, Any]] = field(default_factory=list)
    # (last_seen, comments_complete_at or None, id) for every post the scan saw
    posts_scanned: list[tuple[str, str | None, str]] = field(default_factory=list)
    # new: (id, account, post_id, parent_id, author_id, author_name, message, created_time,
    # hidden, from_page, status, sha256, seen_at, platform_status), see _COMMENT_INSERT
    comments: list[tuple[Any, ...]] = field(default_factory=list)
    comment_updates: list[dict[str, Any]] = field(default_factory=list)  # changed: _COMMENT_UPDATE keys
    # (comment_id, version, message, sha256, seen_at, diff JSON or None)
    comment_versions: list[tuple[Any, ...]] = field(default_factory=list)
    comments_seen: list[tuple[str, str]] = field(default_factory=list)  # (last_seen, id)
    comment_platform_status: list[tuple[str, str]] = field(default_factory=list)  # (status, id)
    comments_missing: list[tuple[int, str]] = field(default_factory=list)  # (missing_count, id)
    posts_missing: list[tuple[int, str]] = field(default_factory=list)
    posts_verified: list[tuple[str, str]] = field(default_factory=list)  # (verified_at, id)
    events: list[dict[str, Any]] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)  # events of its pages, written already
    touched: set[str] = field(default_factory=set)  # the posts of the events written (the engine's)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict(self.counted)
        for e in self.events:
            out[e["kind"]] = out.get(e["kind"], 0) + 1
        return out


def write_poll(db: sqlite_utils.Database, poll: PollBatch, pages: Iterable[PollBatch] = ()) -> int:
    """Write one poll in one transaction; returns the poll id. ``pages``: the scan's rows, page
    by page (made while this runs, so only one page is in memory); then ``poll``'s own rows
    (what the absence check and the platform's answers decided). Events keep that order."""
    with db.atomic():
        cur = db.execute(
            "INSERT INTO polls (account, started, finished, api_calls, items, complete, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                poll.account,
                poll.started,
                poll.finished,
                poll.api_calls,
                poll.items,
                int(poll.complete),
                poll.error,
            ],
        )
        poll_id = int(cur.lastrowid or 0)
        last_comment = _max_rowid(db, "comments")
        last_version = _max_rowid(db, "comment_versions")
        for page in pages:
            _write_rows(db, page, poll_id)
            for kind, n in page.counts().items():
                poll.counted[kind] = poll.counted.get(kind, 0) + n
            poll.touched.update(e["post_id"] for e in page.events if e["post_id"] is not None)
        _write_rows(db, poll, poll_id)
        poll.touched.update(e["post_id"] for e in poll.events if e["post_id"] is not None)
        # New rows are indexed for search once per poll (rowids above the largest before it).
        db.execute(_COMMENTS_FTS, [last_comment])
        db.execute(_VERSIONS_FTS, [last_version])
        db.execute(
            "UPDATE polls SET counts = ? WHERE id = ?", [json.dumps(poll.counts(), sort_keys=True), poll_id]
        )
    return poll_id


def _write_rows(db: sqlite_utils.Database, batch: PollBatch, poll_id: int) -> None:
    """One batch's rows, posts before their comments (foreign keys), events last."""
    if batch.posts:
        db.table("posts").upsert_all(batch.posts, pk="id", batch_size=_BATCH)
    if batch.post_versions:
        db.table("post_versions").insert_all(batch.post_versions, batch_size=_BATCH)
    _executemany(
        db,
        "UPDATE posts SET last_seen = ?, comments_complete_at ="
        " COALESCE(?, comments_complete_at) WHERE id = ?",
        batch.posts_scanned,
    )
    _executemany(db, "UPDATE posts SET missing_count = ? WHERE id = ?", batch.posts_missing)
    _executemany(db, "UPDATE posts SET comments_verified_at = ? WHERE id = ?", batch.posts_verified)
    _executemany(db, _COMMENT_INSERT, batch.comments)
    if batch.comment_updates:
        db.conn.executemany(_COMMENT_TEXT, [r for r in batch.comment_updates if r["message"] is not None])
        db.conn.executemany(_COMMENT_UPDATE, batch.comment_updates)
    _executemany(db, _VERSION_INSERT, batch.comment_versions)
    _executemany(db, "UPDATE comments SET last_seen = ? WHERE id = ?", batch.comments_seen)
    _executemany(db, "UPDATE comments SET platform_status = ? WHERE id = ?", batch.comment_platform_status)
    _executemany(db, "UPDATE comments SET missing_count = ? WHERE id = ?", batch.comments_missing)
    for event in batch.events:
        event["poll_id"] = poll_id
    append_events(db, batch.events)


def _max_rowid(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0])


def _executemany(db: sqlite_utils.Database, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        db.conn.executemany(sql, rows)
