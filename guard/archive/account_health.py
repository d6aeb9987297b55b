"""An account's poll history as the ``account-failing`` rule reads it, and its open finding.

A past poll counts as failed when it recorded an error and read nothing (``items = 0``); the
poll just written is judged by the caller, who still holds its exception (a token refused on
a partial scan fails the account too).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from policies.rules.account_failing import KIND, FailedPoll, PollHistory

__all__ = ["poll_history", "open_account_finding"]

_FAILED = "(error IS NOT NULL AND items = 0)"


def poll_history(
    db: sqlite_utils.Database,
    *,
    account: str,
    platform: str,
    token_env: str,
    poll_id: int,
    failed: bool,
    error_type: str | None,
    signed_in: bool = False,
) -> PollHistory:
    """The history up to poll ``poll_id``, which ``failed`` (or not) with ``error_type``."""
    current = db.execute("SELECT started, error FROM polls WHERE id = ?", [poll_id]).fetchone()
    if current is None or not failed:
        return PollHistory(
            account, platform, token_env, last_ok=current[0] if current else None, signed_in=signed_in
        )
    ok = db.execute(
        f"SELECT id, started FROM polls WHERE account = ? AND id < ? AND NOT {_FAILED}"
        " ORDER BY id DESC LIMIT 1",
        [account, poll_id],
    ).fetchone()
    after = ok[0] if ok else 0
    count, first_id = db.execute(
        f"SELECT count(*), min(id) FROM polls WHERE account = ? AND id > ? AND id < ? AND {_FAILED}",
        [account, after, poll_id],
    ).fetchone()
    latest = FailedPoll(poll_id, current[0], current[1] or "the poll failed", error_type)
    first = latest
    if first_id is not None:
        row = db.execute("SELECT started, error FROM polls WHERE id = ?", [first_id]).fetchone()
        first = FailedPoll(int(first_id), row[0], row[1] or "the poll failed")
    return PollHistory(
        account,
        platform,
        token_env,
        last_ok=ok[1] if ok else None,
        failed_polls=int(count) + 1,
        first_failure=first,
        latest_failure=latest,
        signed_in=signed_in,
    )


def open_account_finding(db: sqlite_utils.Database, account: str, kind: str = KIND) -> dict[str, Any] | None:
    """The account's unresolved finding of ``kind`` (``account-failing`` unless told), if any."""
    rows = list(
        db.query(
            "SELECT * FROM findings WHERE account = ? AND kind = ? AND state != 'resolved'"
            " ORDER BY id DESC LIMIT 1",
            [account, kind],
        )
    )
    return rows[0] if rows else None
