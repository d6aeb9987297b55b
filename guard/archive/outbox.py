"""The alert outbox's storage: the ``outbox`` table, channel state in ``meta``, digest facts.

``guard.alerts`` decides what to queue, when to send and what a failure means; these named
functions are the SQL behind those decisions. None of them commits: writes join the caller's
transaction (``with db.atomic():``), which is how a finding and its alerts are written together.

Every state change of a row is also an event in the hash chain (``alert_queued`` with the hash
of what was queued, ``alert_sent``, ``alert_failed``, ``alert_cancelled``, ``alert_requeued``),
so ``verify`` notices a deleted, rewritten or re-opened outbox row. A claim (``sending``) is not
an event: it is the moment between "pending" and an outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Iterable

import sqlite_utils

from guard.archive.events import append_events, make_event
from guard.archive.meta import meta_get, meta_set
from guard.clock import iso, utcnow
from guard.redact import scrub
from guard.states import FindingState
from guard.text import sha256_fields

__all__ = [
    "OutboxStatus",
    "PendingRow",
    "insert_row",
    "row_digest",
    "claim",
    "release_claims",
    "claimed_ids",
    "cancel_pending_for_finding",
    "pending_rows",
    "mark_cancelled",
    "mark_sent",
    "reschedule",
    "mark_failed",
    "dedupe_key_exists",
    "requeue_failed",
    "list_rows",
    "channel_stats",
    "retry_head",
    "count_by_status",
    "next_pending_at",
    "load_channel_state",
    "save_channel_state",
    "channels_with_state",
    "open_findings",
    "resolved_since",
    "opened_since",
]


class OutboxStatus(StrEnum):
    PENDING = "pending"  # queued: due at next_attempt_at
    SENT = "sent"  # the channel accepted it
    FAILED = "failed"  # a permanent error; ``retry_failed`` puts it back
    CANCELLED = "cancelled"  # a follow-up withdrawn because its finding was resolved
    SENDING = "sending"  # claimed by a deliverer: being sent, or sent and not yet recorded


PENDING, SENT, FAILED, CANCELLED, SENDING = (
    OutboxStatus.PENDING,
    OutboxStatus.SENT,
    OutboxStatus.FAILED,
    OutboxStatus.CANCELLED,
    OutboxStatus.SENDING,
)

_CHANNEL_STATE_PREFIX = "alerts.channel."
_LIST_COLUMNS = (
    "id, finding_id, stage, channel, dedupe_key, subject, status, attempts, "
    "next_attempt_at, last_error, created_at, sent_at"
)
_OPEN_FINDINGS = (FindingState.OPEN, FindingState.ACKNOWLEDGED)


# -- writing rows ---------------------------------------------------------------------------


def insert_row(
    db: sqlite_utils.Database,
    *,
    finding_id: int | None,
    stage: str,
    channel: str,
    dedupe_key: str,
    subject: str,
    payload: str,
    next_attempt_at: str,
    created_at: str,
) -> int | None:
    """A new pending row; None when ``dedupe_key`` is already queued (INSERT OR IGNORE).
    Writes its ``alert_queued`` event. Subject and payload are scrubbed of secrets first."""
    subject, payload = scrub(subject), scrub(payload)
    cursor = db.execute(
        "INSERT OR IGNORE INTO outbox (finding_id, stage, channel, dedupe_key, subject, "
        "payload, status, attempts, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        [finding_id, stage, channel, dedupe_key, subject, payload, PENDING, next_attempt_at, created_at],
    )
    if cursor.rowcount != 1 or cursor.lastrowid is None:
        return None
    row_id = int(cursor.lastrowid)
    digest = row_digest(
        finding_id=finding_id,
        stage=stage,
        channel=channel,
        dedupe_key=dedupe_key,
        subject=subject,
        payload=payload,
    )
    _event(db, "alert_queued", [row_id], created_at, finding_id=finding_id, sha256=digest, channel=channel)
    return row_id


def row_digest(
    *, finding_id: int | None, stage: str, channel: str, dedupe_key: str, subject: str, payload: str
) -> str:
    """SHA-256 of what an outbox row will send; recorded by its ``alert_queued`` event."""
    return sha256_fields(finding_id, stage, channel, dedupe_key, subject, payload)


def _event(
    db: sqlite_utils.Database,
    kind: str,
    row_ids: list[int],
    at: str,
    *,
    finding_id: int | None = None,
    **data: Any,
) -> None:
    """One event per row for a state change; the account is the finding's ("" without one)."""
    if not row_ids:
        return
    marks = ", ".join("?" for _ in row_ids)
    rows = db.execute(
        f"SELECT o.id, o.finding_id, COALESCE(f.account, '') FROM outbox o"
        f" LEFT JOIN findings f ON f.id = o.finding_id WHERE o.id IN ({marks}) ORDER BY o.id",
        row_ids,
    ).fetchall()
    append_events(
        db,
        [
            make_event(kind, at=at, account=account, outbox_id=row_id, finding_id=fid, **data)
            for row_id, fid, account in rows
        ],
    )


def cancel_pending_for_finding(db: sqlite_utils.Database, finding_id: int, stages: Iterable[str]) -> int:
    """Cancel ``finding_id``'s pending rows of ``stages``; returns how many."""
    stages = list(stages)
    if not stages:
        return 0
    marks = ", ".join("?" for _ in stages)
    ids = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM outbox WHERE finding_id = ? AND status = ? AND stage IN ({marks}) ORDER BY id",
            [finding_id, PENDING, *stages],
        ).fetchall()
    ]
    if not ids:
        return 0
    id_marks = ", ".join("?" for _ in ids)
    db.execute(f"UPDATE outbox SET status = ? WHERE id IN ({id_marks})", [CANCELLED, *ids])
    _event(db, "alert_cancelled", ids, _now(), reason="finding_resolved")
    return len(ids)


def mark_cancelled(db: sqlite_utils.Database, row_id: int, *, at: str | None = None) -> None:
    db.execute("UPDATE outbox SET status = ? WHERE id = ?", [CANCELLED, row_id])
    _event(db, "alert_cancelled", [row_id], at or _now(), reason="finding_resolved")


def claim(db: sqlite_utils.Database, row_id: int) -> bool:
    """Take a pending row for sending; False when another deliverer already has it."""
    cursor = db.execute(
        "UPDATE outbox SET status = ? WHERE id = ? AND status = ?", [SENDING, row_id, PENDING]
    )
    return int(cursor.rowcount) == 1


def claimed_ids(db: sqlite_utils.Database) -> list[int]:
    return [
        r[0] for r in db.execute("SELECT id FROM outbox WHERE status = ? ORDER BY id", [SENDING]).fetchall()
    ]


def release_claims(db: sqlite_utils.Database, row_ids: list[int], *, next_attempt_at: str) -> int:
    """Claimed rows back to pending (their deliverer died before recording an outcome)."""
    if not row_ids:
        return 0
    marks = ", ".join("?" for _ in row_ids)
    cursor = db.execute(
        f"UPDATE outbox SET status = ?, next_attempt_at = MIN(next_attempt_at, ?)"
        f" WHERE status = ? AND id IN ({marks})",
        [PENDING, next_attempt_at, SENDING, *row_ids],
    )
    return int(cursor.rowcount)


def mark_sent(db: sqlite_utils.Database, row_id: int, *, sent_at: str) -> None:
    db.execute(
        "UPDATE outbox SET status = ?, sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
        [SENT, sent_at, row_id],
    )
    _event(db, "alert_sent", [row_id], sent_at)


def reschedule(db: sqlite_utils.Database, row_id: int, *, next_attempt_at: str, error: str) -> None:
    """Count the attempt and keep the row pending (releasing its claim) until ``next_attempt_at``."""
    db.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
        " WHERE id = ?",
        [PENDING, next_attempt_at, scrub(error), row_id],
    )


def mark_failed(db: sqlite_utils.Database, row_id: int, *, error: str, at: str | None = None) -> None:
    db.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
        [FAILED, scrub(error), row_id],
    )
    _event(db, "alert_failed", [row_id], at or _now())


def requeue_failed(db: sqlite_utils.Database, *, next_attempt_at: str, channel: str | None = None) -> int:
    """Failed rows (of ``channel``) back to pending with no attempts; returns how many."""
    sql = "SELECT id FROM outbox WHERE status = ?"
    params: list[Any] = [FAILED]
    if channel:
        sql += " AND channel = ?"
        params.append(channel)
    ids = [r[0] for r in db.execute(sql + " ORDER BY id", params).fetchall()]
    if not ids:
        return 0
    marks = ", ".join("?" for _ in ids)
    db.execute(
        f"UPDATE outbox SET status = ?, attempts = 0, next_attempt_at = ? WHERE id IN ({marks})",
        [PENDING, next_attempt_at, *ids],
    )
    _event(db, "alert_requeued", ids, next_attempt_at)
    return len(ids)


def _now() -> str:
    return iso(utcnow())


# -- reading rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingRow:
    """A pending row as delivery needs it, with its finding's state (None without a finding)."""

    id: int
    finding_id: int | None
    stage: str
    channel: str
    dedupe_key: str
    attempts: int
    next_attempt_at: str
    payload: str
    finding_state: str | None


def pending_rows(db: sqlite_utils.Database) -> list[PendingRow]:
    """Every pending row in id order (the send order), due or not."""
    cursor = db.execute(
        "SELECT o.id, o.finding_id, o.stage, o.channel, o.dedupe_key, o.attempts, "
        "o.next_attempt_at, o.payload, f.state FROM outbox o "
        "LEFT JOIN findings f ON f.id = o.finding_id WHERE o.status = ? ORDER BY o.id",
        [PENDING],
    )
    return [PendingRow(*row) for row in cursor.fetchall()]


def dedupe_key_exists(db: sqlite_utils.Database, dedupe_key: str) -> bool:
    return db.execute("SELECT 1 FROM outbox WHERE dedupe_key = ?", [dedupe_key]).fetchone() is not None


def list_rows(db: sqlite_utils.Database, pending_only: bool = False) -> list[dict[str, Any]]:
    """Rows in id order, without the rendered payload (it is long)."""
    if pending_only:
        return list(db.query(f"SELECT {_LIST_COLUMNS} FROM outbox WHERE status = ? ORDER BY id", [PENDING]))
    return list(db.query(f"SELECT {_LIST_COLUMNS} FROM outbox ORDER BY id"))


def channel_stats(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per outbox channel: pending, retrying (pending after an attempt), failed, sent counts
    and the oldest pending row's ``created_at``."""
    return list(
        db.query(
            """
        SELECT channel,
               SUM(status = :pending) AS pending,
               SUM(status = :pending AND attempts > 0) AS retrying,
               SUM(status = :failed) AS failed,
               SUM(status = :sent) AS sent,
               MIN(CASE WHEN status = :pending THEN created_at END) AS oldest_pending_at
        FROM outbox GROUP BY channel ORDER BY channel""",
            {"pending": PENDING, "failed": FAILED, "sent": SENT},
        )
    )


def retry_head(db: sqlite_utils.Database, channel: str) -> tuple[str | None, str] | None:
    """(last_error, next_attempt_at) of ``channel``'s first pending row that was already tried."""
    row = db.execute(
        "SELECT last_error, next_attempt_at FROM outbox WHERE channel = ? AND "
        "status = ? AND attempts > 0 ORDER BY id LIMIT 1",
        [channel, PENDING],
    ).fetchone()
    return (row[0], row[1]) if row else None


def count_by_status(db: sqlite_utils.Database) -> dict[str, int]:
    """How many rows have each status (statuses with no rows are absent)."""
    return {
        status: int(n)
        for status, n in db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    }


def next_pending_at(db: sqlite_utils.Database) -> str | None:
    """When the earliest pending row is due; None when nothing is pending."""
    row = db.execute("SELECT min(next_attempt_at) FROM outbox WHERE status = ?", [PENDING]).fetchone()
    return row[0] if row else None


# -- channel state in meta ------------------------------------------------------------------


def load_channel_state(db: sqlite_utils.Database, channel: str) -> dict[str, Any]:
    """The JSON kept under ``alerts.channel.<name>``; {} when absent or unreadable."""
    value = meta_get(db, _CHANNEL_STATE_PREFIX + channel)
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def save_channel_state(db: sqlite_utils.Database, channel: str, state: dict[str, Any]) -> None:
    meta_set(db, _CHANNEL_STATE_PREFIX + channel, json.dumps(state, sort_keys=True))


def channels_with_state(db: sqlite_utils.Database) -> list[str]:
    """Channels that have state in ``meta``, even if they have no rows any more."""
    rows = db.execute("SELECT key FROM meta WHERE key LIKE ?", [_CHANNEL_STATE_PREFIX + "%"]).fetchall()
    return [r[0][len(_CHANNEL_STATE_PREFIX) :] for r in rows]


# -- the digest's findings ------------------------------------------------------------------


def open_findings(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Open and acknowledged findings, oldest first, with what the digest lists."""
    cols = "id, account, kind, severity, state, opened_at, resolved_at, evidence"
    marks = ", ".join("?" for _ in _OPEN_FINDINGS)
    return list(
        db.query(
            f"SELECT {cols} FROM findings WHERE state IN ({marks}) ORDER BY opened_at", list(_OPEN_FINDINGS)
        )
    )


def resolved_since(db: sqlite_utils.Database, since: str) -> list[tuple[Any, Any]]:
    """(opened_at, resolved_at) of findings resolved at or after ``since``."""
    rows = db.execute(
        "SELECT opened_at, resolved_at FROM findings WHERE state = ? AND resolved_at >= ?",
        [FindingState.RESOLVED, since],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def opened_since(db: sqlite_utils.Database, since: str) -> int:
    """How many findings were opened at or after ``since``."""
    return int(db.execute("SELECT COUNT(*) FROM findings WHERE opened_at >= ?", [since]).fetchone()[0])
