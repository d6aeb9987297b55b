"""Actions staff take from a chat app, claimed once: ``interactions`` rows keyed by the action.

Slack redelivers a payload it did not see acknowledged within 3 seconds, and the Socket Mode
client handles payloads on several threads, so two copies of one "Post reply" can arrive at
once. ``claim`` is the one place that decides which copy acts: an ``INSERT OR IGNORE`` on the
key, atomic across threads and processes; the loser sees the winner's row.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

__all__ = ["claim", "finish", "get_interaction"]


def claim(
    db: sqlite_utils.Database,
    key: str,
    *,
    action: str,
    at: str,
    user_id: str | None,
    user_name: str | None,
    finding_id: int | None,
) -> bool:
    """True when this call owns ``key`` (first delivery); False when it was claimed before."""
    with db.atomic():
        cur = db.execute(
            "INSERT OR IGNORE INTO interactions (key, action, user_id, user_name, finding_id, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [key, action, user_id, user_name, finding_id, at],
        )
    return cur.rowcount == 1


def finish(db: sqlite_utils.Database, key: str, outcome: str) -> None:
    with db.atomic():
        db.execute("UPDATE interactions SET outcome = ? WHERE key = ?", [outcome, key])


def get_interaction(db: sqlite_utils.Database, key: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM interactions WHERE key = ?", [key]))
    return rows[0] if rows else None
