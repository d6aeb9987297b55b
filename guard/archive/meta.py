"""Small named values kept in the archive's ``meta`` table: heartbeat, next polls, budgets."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

__all__ = [
    "billed_key",
    "meta_get",
    "meta_set",
    "install_id",
    "INSTALL_ID_KEY",
    "budget_key",
    "next_poll_key",
    "HEARTBEAT_KEY",
]

HEARTBEAT_KEY = "daemon_heartbeat"
INSTALL_ID_KEY = "install_id"  # random, written by the schema migration


def next_poll_key(account: str) -> str:
    """The key ``comment-guard status`` reads for an account's next poll."""
    return f"next_poll:{account}"


def budget_key(account: str, moment: datetime) -> str:
    """Where an account's monthly read spend (X) is kept in ``meta``."""
    return f"read_budget:{account}:{moment:%Y-%m}"


def billed_key(account: str) -> str:
    """Where the posts already billed today (X: once per post per UTC day) are kept."""
    return f"read_budget_billed:{account}"


def meta_get(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def meta_set(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def install_id(db: sqlite_utils.Database) -> str:
    """This archive's random id (see the ``_v3_install_id`` migration)."""
    return meta_get(db, INSTALL_ID_KEY) or ""
