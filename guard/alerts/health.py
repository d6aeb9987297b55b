"""What ``comment-guard status`` and ``comment-guard alerts`` show about alert delivery.

A channel that fails permanently must be visible: the outbox never drops a row, so a revoked
webhook shows up here as "failing" with Slack's own words, until a later send succeeds. Per
channel state lives in the ``meta`` table under ``alerts.channel.<name>`` (JSON), so no
schema migration was needed.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

__all__ = ["list_outbox", "channel_health", "record_channel"]

_META_PREFIX = "alerts.channel."
_LIST_COLUMNS = ("id, finding_id, stage, channel, dedupe_key, subject, status, attempts, "
                 "next_attempt_at, last_error, created_at, sent_at")


def list_outbox(db: sqlite_utils.Database, pending_only: bool = False) -> list[dict]:
    """Outbox rows in id order, without the rendered payload (it is long)."""
    where = "WHERE status = 'pending'" if pending_only else ""
    return list(db.query(f"SELECT {_LIST_COLUMNS} FROM outbox {where} ORDER BY id"))


def _load(db: sqlite_utils.Database, channel: str) -> dict[str, Any]:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [_META_PREFIX + channel]).fetchone()
    try:
        return json.loads(row[0]) if row else {}
    except ValueError:
        return {}


def record_channel(db: sqlite_utils.Database, channel: str, *, at: str, ok: bool,
                   error: str | None = None) -> None:
    """Remember the last success or permanent failure of ``channel``; no commit (caller's)."""
    state = _load(db, channel)
    if ok:
        state["last_success_at"] = at
    else:
        state["last_failure_at"] = at
        state["last_error"] = error
        state["permanent_failures"] = int(state.get("permanent_failures", 0)) + 1
    db.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [_META_PREFIX + channel, json.dumps(state, sort_keys=True)],
    )


def channel_health(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """Per channel: ``status`` (ok | retrying | failing) and the counts behind it.

    ``failing``: the last permanent failure is newer than the last success (Slack said
    ``no_service``, the mail server said 550, ...): a human must fix something.
    ``retrying``: rows are waiting out a backoff after temporary errors.
    """
    out: dict[str, dict[str, Any]] = {}
    stats = list(db.query("""
        SELECT channel,
               SUM(status = 'pending') AS pending,
               SUM(status = 'pending' AND attempts > 0) AS retrying,
               SUM(status = 'failed') AS failed,
               SUM(status = 'sent') AS sent,
               MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest_pending_at
        FROM outbox GROUP BY channel ORDER BY channel"""))
    keys = [r[0] for r in db.execute("SELECT key FROM meta WHERE key LIKE ?",
                                     [_META_PREFIX + "%"]).fetchall()]
    channels = {r["channel"] for r in stats} | {k[len(_META_PREFIX):] for k in keys}
    by_channel = {r["channel"]: r for r in stats}
    for channel in sorted(channels):
        s = by_channel.get(channel, {})
        state = _load(db, channel)
        head = db.execute(
            "SELECT last_error, next_attempt_at FROM outbox WHERE channel = ? AND "
            "status = 'pending' AND attempts > 0 ORDER BY id LIMIT 1", [channel]).fetchone()
        failing = bool(state.get("last_failure_at")) and (
            state.get("last_failure_at", "") > state.get("last_success_at", ""))
        status = "failing" if failing else "retrying" if head else "ok"
        out[channel] = {
            "status": status,
            "pending": int(s.get("pending") or 0),
            "retrying": int(s.get("retrying") or 0),
            "failed": int(s.get("failed") or 0),
            "sent": int(s.get("sent") or 0),
            "oldest_pending_at": s.get("oldest_pending_at"),
            "last_success_at": state.get("last_success_at"),
            "last_failure_at": state.get("last_failure_at"),
            "last_error": state.get("last_error"),
            "retry_error": head[0] if head else None,
            "next_attempt_at": head[1] if head else None,
        }
    return out
