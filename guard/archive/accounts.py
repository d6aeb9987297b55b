"""Account bindings: which page each account name archives, and changing a binding while the
account holds no archived data (a mistyped page id bound by an empty page, a name to reuse).

An account with posts, comments, findings or events is never renamed or forgotten: the event
hash chain names it, and its archive must stay whole.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from guard.errors import ActionRefused, NotInArchive

__all__ = ["list_bindings", "rename_account", "forget_account", "archived_data"]


# The comments of an account are counted by the poll that writes them (comment_counts, schema
# step 14): no index of the comments table leads with the account, and a count of the table
# would read the whole archive.
_COUNT = {
    "posts": "SELECT count(*) FROM posts WHERE account = ?",
    "comments": "SELECT coalesce(sum(n), 0) FROM comment_counts WHERE account = ?",
    "findings": "SELECT count(*) FROM findings WHERE account = ?",
    "events": "SELECT count(*) FROM events WHERE account = ?",
}


def list_bindings(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every bound account with what the archive holds for it."""
    return list(
        db.query(
            """
            SELECT a.name, a.platform, a.page_id, a.first_seen,
                   (SELECT count(*) FROM posts p WHERE p.account = a.name) AS posts,
                   (SELECT coalesce(sum(n), 0) FROM comment_counts k WHERE k.account = a.name) AS comments,
                   (SELECT count(*) FROM polls l WHERE l.account = a.name) AS polls,
                   (SELECT max(started) FROM polls l WHERE l.account = a.name) AS last_poll
              FROM accounts a ORDER BY a.name
            """
        )
    )


def archived_data(db: sqlite_utils.Database, name: str) -> dict[str, int]:
    """How many posts, comments, findings and events name the account (zeros left out)."""
    counts = {table: int(db.execute(sql, [name]).fetchone()[0]) for table, sql in _COUNT.items()}
    return {k: v for k, v in counts.items() if v}


def _require_empty(db: sqlite_utils.Database, name: str, action: str) -> None:
    if db.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone() is None:
        raise NotInArchive(f"no account named {name!r} is bound in the archive (`comment-guard accounts`)")
    data = archived_data(db, name)
    if data:
        held = ", ".join(f"{n} {k}" for k, n in data.items())
        raise ActionRefused(
            f"cannot {action} account {name!r}: the archive holds {held} for it, and archived "
            "records are never rewritten; give the new page another account name instead"
        )


def rename_account(db: sqlite_utils.Database, old: str, new: str) -> None:
    """Give an account with no archived data another name (its poll history follows)."""
    with db.atomic():
        _require_empty(db, old, "rename")
        if db.execute("SELECT 1 FROM accounts WHERE name = ?", [new]).fetchone():
            raise ActionRefused(f"an account named {new!r} is already bound; pick another name")
        db.execute("UPDATE accounts SET name = ? WHERE name = ?", [new, old])
        db.execute("UPDATE polls SET account = ? WHERE account = ?", [new, old])


def forget_account(db: sqlite_utils.Database, name: str) -> None:
    """Drop the binding (and poll history) of an account with no archived data, so its name
    binds afresh on its next successful poll."""
    with db.atomic():
        _require_empty(db, name, "forget")
        db.execute("DELETE FROM polls WHERE account = ?", [name])
        db.execute("DELETE FROM accounts WHERE name = ?", [name])
