"""Archives of an older schema, built by running only that release's migration steps, for tests
of upgrading an archive in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from guard.archive.schema import MIGRATIONS

__all__ = ["older_archive"]


def older_archive(version: int, path: Path | None = None) -> sqlite_utils.Database:
    """An archive at schema ``version`` (its steps, as ``migrate`` applied them then), in memory
    or, with ``path``, in that file (committed, so another connection sees it)."""
    db = sqlite_utils.Database(sqlite3.connect(path) if path else sqlite3.connect(":memory:"))
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for step in MIGRATIONS[:version]:
        step(db)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", [str(version)])
    db.conn.commit()
    return db
