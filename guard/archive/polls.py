"""The write path of a poll: everything one poll learned, written in one transaction.

A crash or an exception half-way leaves the archive exactly as it was before the poll.
Versions are only ever inserted; events go through the hash chain (``guard.archive.events``).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import sqlite_utils

from guard.archive.events import append_events
from guard.errors import ArchiveError

__all__ = ["ensure_account", "PollBatch", "write_poll"]

_BATCH = 1000
# New rows are indexed for search in bulk, once per poll (schema step 8 dropped the per-row
# insert triggers): every row this poll inserted has a rowid above the largest one before it.
_COMMENTS_FTS = (
    "INSERT INTO comments_fts (rowid, message, author_name)"
    " SELECT rowid, message, author_name FROM comments WHERE rowid > ?"
)
_VERSIONS_FTS = (
    "INSERT INTO comment_versions_fts (rowid, message) SELECT id, message FROM comment_versions WHERE id > ?"
)
# Edits are re-indexed in bulk too (schema step 13 dropped the update trigger, which made FTS5
# write a segment to disk per edited row), once per poll: 'delete' must be given the text that
# was indexed, so each page reads it before the text changes (_INDEXED), and at the poll's end
# one statement takes the edited rows out of the index and one puts them back with their new
# text (each statement writes a segment: one a page wrote 20, and 2.8x the pages in all).
# Only rows from before the poll (``+rowid``: looked up by id, never by scanning the rowid
# range): this poll's new rows are not indexed yet, and _COMMENTS_FTS indexes them with their
# last text. In rowid order: FTS5 writes its pending changes to disk whenever a rowid goes back.
_INDEXED = (
    "SELECT rowid, message, author_name FROM comments"
    " WHERE id IN (SELECT value FROM json_each(?)) AND +rowid <= ?"
)
# The text goes back as bound values (JSON would cut it at a NUL character), many rows a statement.
_COMMENTS_FTS_DELETE = "INSERT INTO comments_fts (comments_fts, rowid, message, author_name) VALUES "
_COMMENTS_FTS_EDITED = (
    "INSERT INTO comments_fts (rowid, message, author_name) SELECT rowid, message, author_name"
    " FROM comments WHERE id IN (SELECT value FROM json_each(?)) AND +rowid <= ? ORDER BY rowid"
)
_UNINDEX_BATCH = 5000  # edited rows' indexed text held at most, for a poll that edits many
# Comments per account and status (schema step 14), for `status`: the poll adds what it
# changed, once, at its end, in its transaction.
_COUNTS = (
    "INSERT INTO comment_counts (account, status, n) VALUES (?, ?, ?)"
    " ON CONFLICT (account, status) DO UPDATE SET n = n + excluded.n"
)
_STATUSES = (
    "SELECT account, status, count(*) FROM comments WHERE id IN (SELECT value FROM json_each(?))"
    " GROUP BY account, status"
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
# A changed comment: an edit (``message`` not None) sets the text and its hash, any other
# change leaves both alone. SQLite rewrites the index entries of every column an UPDATE sets,
# even to the same value: setting sha256 on a hidden or deleted comment wrote a page of the
# comments_sha256 index for nothing.
_COMMENT_CHANGE = (
    " version = :version, status = :status, hidden = :hidden, missing_count = :missing_count,"
    " last_seen = :last_seen, status_changed_at = :status_changed_at,"
    " confirmed_at = :confirmed_at WHERE id = :id"
)
_COMMENT_EDIT = "UPDATE comments SET message = :message, sha256 = :sha256," + _COMMENT_CHANGE
_COMMENT_UPDATE = "UPDATE comments SET" + _COMMENT_CHANGE


def ensure_account(
    db: sqlite_utils.Database, name: str, platform: str, page_id: str, now: str, *, bind: bool = True
) -> None:
    """Check that ``name`` is archived as this platform and page; with ``bind``, record the
    binding when it is new (the caller binds only after a poll that read something)."""
    row = db.execute("SELECT platform, page_id FROM accounts WHERE name = ?", [name]).fetchone()
    if row is None:
        # Post and comment ids are the archive's keys: a page archived under another name (the
        # config renamed the account) would fail on every post that name already holds.
        other = db.execute(
            "SELECT name FROM accounts WHERE platform = ? AND page_id = ?", [platform, page_id]
        ).fetchone()
        if other is not None:
            raise ArchiveError(
                f"{platform} page {page_id} is archived as account {other[0]!r}, not {name!r}: "
                "give it that name again in the config (an archived account keeps its name)"
            )
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
        done = _Written(last_comment=_max_rowid(db, "comments"))
        last_version = _max_rowid(db, "comment_versions")
        for page in pages:
            _write_rows(db, page, poll_id, done)
            for kind, n in page.counts().items():
                poll.counted[kind] = poll.counted.get(kind, 0) + n
            poll.touched.update(e["post_id"] for e in page.events if e["post_id"] is not None)
        _write_rows(db, poll, poll_id, done)
        poll.touched.update(e["post_id"] for e in poll.events if e["post_id"] is not None)
        # Search: edited rows out and back in with their new text, then new rows (rowids above
        # the largest before the poll), each in one statement.
        _unindex(db, done)
        if done.edited:
            db.execute(_COMMENTS_FTS_EDITED, [json.dumps(sorted(done.edited)), done.last_comment])
        db.execute(_COMMENTS_FTS, [done.last_comment])
        db.execute(_VERSIONS_FTS, [last_version])
        db.conn.executemany(_COUNTS, [(*key, n) for key, n in done.counts.items() if n])
        db.execute(
            "UPDATE polls SET counts = ? WHERE id = ?", [json.dumps(poll.counts(), sort_keys=True), poll_id]
        )
    return poll_id


@dataclass
class _Written:
    """What a poll's batches changed that is written once, at the end of the poll."""

    last_comment: int  # the largest comment rowid before the poll: the rows above it are new
    edited: set[str] = field(default_factory=set)  # comments whose text changed
    # (rowid, message, author_name) as indexed, of edited rows still to take out of the index
    unindexed: list[tuple[int, str, str | None]] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (account, status): delta


def _write_rows(db: sqlite_utils.Database, batch: PollBatch, poll_id: int, done: _Written) -> None:
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
    done.counts.update((row[1], row[10]) for row in batch.comments)  # (account, status)
    if batch.comment_updates:
        # Status changes are counted as the archive has them before and after the updates, so
        # a comment listed twice in a scan (two rows, one change) is counted once.
        ids = json.dumps([r["id"] for r in batch.comment_updates])
        done.counts.subtract(_status_counts(db, ids))
        # Their indexed text, before it changes: once per row (on a later page too, the text a
        # row had when the poll began is the text indexed).
        edited = {r["id"] for r in batch.comment_updates if r["message"] is not None} - done.edited
        if edited:
            done.unindexed += db.execute(_INDEXED, [json.dumps(sorted(edited)), done.last_comment])
            done.edited |= edited
            if len(done.unindexed) >= _UNINDEX_BATCH:
                _unindex(db, done)
        # in the batch's order (a comment listed twice has two rows: the last one wins)
        for edit, rows in groupby(batch.comment_updates, key=lambda r: r["message"] is not None):
            db.conn.executemany(_COMMENT_EDIT if edit else _COMMENT_UPDATE, rows)
        done.counts.update(_status_counts(db, ids))
    _executemany(db, _VERSION_INSERT, batch.comment_versions)
    _executemany(db, "UPDATE comments SET last_seen = ? WHERE id = ?", batch.comments_seen)
    _executemany(db, "UPDATE comments SET platform_status = ? WHERE id = ?", batch.comment_platform_status)
    _executemany(db, "UPDATE comments SET missing_count = ? WHERE id = ?", batch.comments_missing)
    for event in batch.events:
        event["poll_id"] = poll_id
    append_events(db, batch.events)


def _unindex(db: sqlite_utils.Database, done: _Written) -> None:
    """Take the edited rows read so far out of the search index (with the text indexed), in
    rowid order, as many rows a statement as SQLite takes values."""
    rows = sorted(done.unindexed)
    per = max(1, db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 3)
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        values = ", ".join(["('delete', ?, ?, ?)"] * len(chunk))
        db.execute(_COMMENTS_FTS_DELETE + values, [v for row in chunk for v in row])
    done.unindexed = []


def _status_counts(db: sqlite_utils.Database, ids: str) -> Counter[tuple[str, str]]:
    """The comments ``ids`` (JSON) per (account, status), as the archive has them now."""
    return Counter({(account, status): n for account, status, n in db.execute(_STATUSES, [ids])})


def _max_rowid(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0])


def _executemany(db: sqlite_utils.Database, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        db.conn.executemany(sql, rows)
