"""Opening the archive: one SQLite file, WAL, foreign keys, migrated to the latest schema."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from guard.archive.schema import SCHEMA_VERSION, migrate, schema_version
from guard.errors import ArchiveError

__all__ = ["Archive", "open_archive", "open_archive_readonly", "archive_version"]

# The handle every archive function takes. Code outside guard/archive/ names this type and
# passes the handle along; it never runs SQL on it (tests/architecture checks the imports).
Archive = sqlite_utils.Database

# Every handle is opened with ``execute_plugins=False``: sqlite-utils plugins (the
# ``prepare_connection`` hooks of whatever packages are installed) do not run on the archive. It
# needs none, third-party code has no business on the evidence file's connection, and finding them
# scans every installed package's metadata (~30 ms of every command).


class _WriterDatabase(sqlite_utils.Database):
    """``atomic()`` begins ``IMMEDIATE``: the write lock is taken before the first read.

    A deferred transaction reads first and upgrades to a writer at its first write; in WAL mode
    that upgrade fails at once with "database is locked" (the busy timeout cannot help) when
    another process committed in between, and what it read may already be stale. Taking the lock
    up front makes a second writer wait its turn (``timeout``) and read what the first wrote.
    """

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        if self.conn.in_transaction:  # nested: a savepoint inside the caller's transaction
            with super().atomic() as db:
                yield db
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.rollback()
            raise


def open_archive(path: str | Path) -> Archive:
    """Open (creating if needed) the archive with WAL and foreign keys, migrated to the latest schema."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(p), timeout=30, check_same_thread=False)
        conn.isolation_level = "IMMEDIATE"  # implicit transactions (a bare INSERT) too
        db = _WriterDatabase(conn, execute_plugins=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA temp_store = MEMORY")  # temporary sorts and indexes (small: no scratch tables)
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(explain_database_error(exc) or f"cannot open archive {p}: {exc}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot create archive directory for {p}: {exc.strerror}") from None
    return db


def archive_version(db: Archive) -> int:
    """Changes whenever another connection commits (``PRAGMA data_version``): a writer compares
    it before and inside its transaction to know whether what it read first is still current."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


def open_archive_readonly(path: str | Path) -> Archive:
    """Open the archive for reading only (``mode=ro``): works on a read-only file, a copy, or
    as a staff login without write permission, and can never write by accident.

    When even SQLite's shared-memory file cannot be created (a read-only directory or mount),
    the file is opened ``immutable``: nothing can be writing it there. An archive whose schema
    is older than this comment-guard is opened for writing once, to upgrade it, if it can be.
    """
    p = Path(path)
    if not p.is_file():
        raise ArchiveError(
            f"no archive at {p}; run `comment-guard poll --once` first, or check [guard] database"
        )
    uri = p.resolve().as_uri() + "?mode=ro"
    try:
        try:
            conn = _read_only(uri)
        except sqlite3.OperationalError:  # no -shm possible: a read-only directory
            conn = _read_only(uri + "&immutable=1")
        found = schema_version(sqlite_utils.Database(conn, execute_plugins=False))
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(explain_database_error(exc) or f"cannot read archive {p}: {exc}") from None
    if found < SCHEMA_VERSION:
        conn.close()
        if not os.access(p, os.W_OK):
            raise ArchiveError(
                f"archive {p} has schema {found}, older than this comment-guard ({SCHEMA_VERSION}); "
                "run a command that writes (`comment-guard poll --once`) once with write access "
                "to upgrade it"
            )
        return open_archive(p)
    return sqlite_utils.Database(conn, execute_plugins=False)


def _read_only(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file now
    return conn


def explain_database_error(exc: BaseException) -> str | None:
    """One line for the person running the tool when SQLite fails on the archive file itself
    (damaged, disk full, read-only), or None for anything else."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    text = str(exc)
    if "malformed" in text or "not a database" in text or type(exc) is sqlite3.DatabaseError:
        return (
            f"the archive file is damaged ({text}); nothing was written. Restore it from a backup, "
            "or recover what is readable with `sqlite3 ARCHIVE .recover`"
        )
    if "disk is full" in text or "disk I/O" in text:
        return (
            f"cannot write the archive ({text}): free space on its disk and run the command again; "
            "nothing of this run was written, and the next poll catches up"
        )
    if "readonly" in text or "read-only" in text:
        return f"cannot write the archive ({text}): this command needs write access to it"
    return None
