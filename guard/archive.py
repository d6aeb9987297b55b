"""The archive: opening the SQLite file, the write path of a poll, and the event hash chain.

Everything a poll learned is written by ``write_poll`` in one transaction: a crash or an
exception half-way leaves the archive exactly as it was before the poll. Versions are only ever
inserted; ``events`` is append-only (triggers refuse UPDATE/DELETE) and hash-chained so
``verify_chain`` can prove nobody edited the record afterwards.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import sqlite_utils

from guard.errors import ArchiveError
from guard.schema import migrate

__all__ = [
    "open_archive",
    "ensure_account",
    "PollBatch",
    "write_poll",
    "append_events",
    "make_event",
    "verify_chain",
    "ChainCheck",
    "GENESIS_HASH",
]

GENESIS_HASH = "0" * 64
_BATCH = 1000
# Text is written separately, and only for edits: the FTS trigger fires on UPDATE OF message.
_COMMENT_TEXT = "UPDATE comments SET message = :message WHERE id = :id"
_COMMENT_UPDATE = (
    "UPDATE comments SET sha256 = :sha256,"
    " version = :version, status = :status, hidden = :hidden, missing_count = :missing_count,"
    " last_seen = :last_seen, status_changed_at = :status_changed_at,"
    " confirmed_at = :confirmed_at WHERE id = :id")


def open_archive(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the archive with WAL and foreign keys, migrated to the latest schema."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(p), timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA temp_store = MEMORY")  # the poller's scratch table of what it saw
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"cannot open archive {p}: {exc}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot create archive directory for {p}: {exc.strerror}") from None
    return db


def ensure_account(db: sqlite_utils.Database, name: str, platform: str, page_id: str,
                   now: str) -> None:
    row = db.execute("SELECT platform, page_id FROM accounts WHERE name = ?", [name]).fetchone()
    if row is None:
        db["accounts"].insert({"name": name, "platform": platform, "page_id": page_id,
                               "first_seen": now})
    elif tuple(row) != (platform, page_id):
        raise ArchiveError(
            f"account {name!r} is archived as {row[0]} {row[1]} but configured as {platform} "
            f"{page_id}; give the new account another name so the two archives don't mix")


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
    posts: list[dict[str, Any]] = field(default_factory=list)          # new or changed, full rows
    post_versions: list[dict[str, Any]] = field(default_factory=list)
    # (last_seen, comments_complete_at or None, id) for every post the scan saw
    posts_scanned: list[tuple[str, str | None, str]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)       # new, full rows
    comment_updates: list[dict[str, Any]] = field(default_factory=list)  # changed: _COMMENT_UPDATE keys
    comment_versions: list[dict[str, Any]] = field(default_factory=list)
    comments_seen: list[tuple[str, str]] = field(default_factory=list)  # (last_seen, id)
    comments_missing: list[tuple[int, str]] = field(default_factory=list)  # (missing_count, id)
    posts_missing: list[tuple[int, str]] = field(default_factory=list)
    posts_verified: list[tuple[str, str]] = field(default_factory=list)  # (verified_at, id)
    events: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.events:
            out[e["kind"]] = out.get(e["kind"], 0) + 1
        return out


def write_poll(db: sqlite_utils.Database, batch: PollBatch) -> int:
    """Write one poll in one transaction; returns the poll id."""
    with db.atomic():
        cur = db.execute(
            "INSERT INTO polls (account, started, finished, api_calls, items, complete, error, counts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [batch.account, batch.started, batch.finished, batch.api_calls, batch.items,
             int(batch.complete), batch.error, json.dumps(batch.counts(), sort_keys=True)])
        poll_id = int(cur.lastrowid)
        if batch.posts:
            db["posts"].upsert_all(batch.posts, pk="id", batch_size=_BATCH)
        if batch.post_versions:
            db["post_versions"].insert_all(batch.post_versions, batch_size=_BATCH)
        _executemany(db, "UPDATE posts SET last_seen = ?, comments_complete_at ="
                     " COALESCE(?, comments_complete_at) WHERE id = ?", batch.posts_scanned)
        _executemany(db, "UPDATE posts SET missing_count = ? WHERE id = ?", batch.posts_missing)
        _executemany(db, "UPDATE posts SET comments_verified_at = ? WHERE id = ?",
                     batch.posts_verified)
        if batch.comments:
            db["comments"].insert_all(batch.comments, batch_size=_BATCH)
        if batch.comment_updates:
            db.conn.executemany(_COMMENT_TEXT, [r for r in batch.comment_updates if r["message"] is not None])
            db.conn.executemany(_COMMENT_UPDATE, batch.comment_updates)
        if batch.comment_versions:
            db["comment_versions"].insert_all(batch.comment_versions, batch_size=_BATCH)
        _executemany(db, "UPDATE comments SET last_seen = ? WHERE id = ?", batch.comments_seen)
        _executemany(db, "UPDATE comments SET missing_count = ? WHERE id = ?",
                     batch.comments_missing)
        for event in batch.events:
            event["poll_id"] = poll_id
        append_events(db, batch.events)
    return poll_id


def _executemany(db: sqlite_utils.Database, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        db.conn.executemany(sql, rows)


def make_event(kind: str, *, at: str, account: str, object_id: str | None = None,
               post_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {"at": at, "account": account, "kind": kind, "object_id": object_id,
            "post_id": post_id, "poll_id": None, "data": data}


def _content(event: dict[str, Any]) -> str:
    data = event["data"] if isinstance(event["data"], str) else json.dumps(
        event["data"], sort_keys=True, ensure_ascii=False)
    return json.dumps([event["at"], event["account"], event["kind"], event["object_id"],
                       event["post_id"], event["poll_id"], data], ensure_ascii=False)


def _chain(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _content(event)).encode("utf-8")).hexdigest()


def append_events(db: sqlite_utils.Database, events: Iterable[dict[str, Any]]) -> list[int]:
    """Append events to the hash chain. Call inside the caller's transaction."""
    events = list(events)
    if not events:
        return []
    with db.atomic():
        row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        prev, seq = (row[1], row[0]) if row else (GENESIS_HASH, 0)
        rows = []
        for event in events:
            data = json.dumps(event["data"], sort_keys=True, ensure_ascii=False)
            record = {**event, "data": data}
            digest = _chain(prev, record)
            seq += 1
            rows.append((seq, record["at"], record["account"], record["kind"], record["object_id"],
                         record["post_id"], record["poll_id"], data, prev, digest))
            prev = digest
        db.conn.executemany(
            "INSERT INTO events (seq, at, account, kind, object_id, post_id, poll_id, data,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return [r[0] for r in rows]


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str | None = None


def verify_chain(db: sqlite_utils.Database) -> ChainCheck:
    """Recompute every event hash; report the first row whose content or link does not match."""
    prev = GENESIS_HASH
    checked = 0
    expected_seq = 1
    for row in db.query("SELECT * FROM events ORDER BY seq"):
        checked += 1
        if row["seq"] != expected_seq:
            return ChainCheck(False, checked, row["seq"], f"row {expected_seq} is missing")
        if row["prev_hash"] != prev:
            return ChainCheck(False, checked, row["seq"], "its link to the previous row was changed")
        if _chain(prev, row) != row["hash"]:
            return ChainCheck(False, checked, row["seq"], "its content does not match its hash")
        prev = row["hash"]
        expected_seq += 1
    return ChainCheck(True, checked)
