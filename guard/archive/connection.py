"""Opening the archive: one SQLite file, WAL, foreign keys, migrated to the latest schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from guard.archive.schema import migrate
from guard.errors import ArchiveError

__all__ = ["Archive", "open_archive"]

# The handle every archive function takes. Code outside guard/archive/ names this type and
# passes the handle along; it never runs SQL on it (tests/architecture checks the imports).
Archive = sqlite_utils.Database


def open_archive(path: str | Path) -> Archive:
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
