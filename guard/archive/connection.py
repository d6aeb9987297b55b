"""Opening the archive: one SQLite file, WAL, foreign keys, migrated to the latest schema."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from guard.archive.schema import SCHEMA_VERSION, migrate, refuse_newer, schema_version
from guard.errors import ArchiveError

__all__ = [
    "Archive",
    "open_archive",
    "open_archive_readonly",
    "archive_version",
    "autocheckpoint_off",
    "checkpoint_alongside",
]

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

    Under that lock it also checks that nobody changed the schema since it was opened: a newer
    comment-guard may have upgraded the archive under a running daemon (`status` run after
    `pip install -U`, before the restart), and this code must then not write (steps change how
    rows are kept: counts, search indexes). SQLite's schema cookie changes with any DDL; the
    archive's version is read only then.
    """

    schema_cookie: int | None = None  # PRAGMA schema_version as of the last check

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        if self.conn.in_transaction:  # nested: a savepoint inside the caller's transaction
            with super().atomic() as db:
                yield db
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self._same_schema()
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.rollback()
            raise

    def _same_schema(self) -> None:
        cookie = int(self.conn.execute("PRAGMA schema_version").fetchone()[0])
        if cookie != self.schema_cookie:
            refuse_newer(schema_version(self))
            self.schema_cookie = cookie


def open_archive(path: str | Path, *, before_upgrade: Callable[[int], None] | None = None) -> Archive:
    """Open (creating if needed) the archive with WAL and foreign keys, migrated to the latest
    schema (``before_upgrade``: see ``migrate``)."""
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
        try:
            migrate(db, before_upgrade=before_upgrade)
        except BaseException:  # refused or failed: no connection left open behind the error
            conn.close()
            raise
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(explain_database_error(exc) or f"cannot open archive {p}: {exc}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot create archive directory for {p}: {exc.strerror}") from None
    return db


def archive_version(db: Archive) -> int:
    """Changes whenever another connection commits (``PRAGMA data_version``): a writer compares
    it before and inside its transaction to know whether what it read first is still current."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


@contextlib.contextmanager
def autocheckpoint_off(db: Archive) -> Iterator[None]:
    """Within: this connection's commits leave the WAL to be checkpointed by someone else
    (``checkpoint_alongside``); the setting is restored on the way out, error or not.

    A commit that crosses ``wal_autocheckpoint`` pages copies the WAL into the database before
    it returns: a fifth of a churn re-poll, spent where nothing else can run. Other connections
    keep their own setting, so the WAL still cannot grow without bound."""
    before = int(db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    db.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint = {before}")


@contextlib.contextmanager
def checkpoint_alongside(db: Archive) -> Iterator[None]:
    """Checkpoint the archive's WAL in a thread of its own while the body runs; joined on exit.

    SQLite releases the GIL while it copies pages, so the copy runs beside the body's Python
    (the engine after a poll) on another core, and the caller still waits for it. PASSIVE: it
    copies what no reader still needs and never waits for or blocks a reader or a writer (a CLI
    command, another daemon, the body's own commits); RESTART and TRUNCATE would hold the write
    lock until every reader is done. Whatever it leaves, the next checkpoint copies, and once
    everything is copied the next writer starts the WAL from its beginning again. A failed
    checkpoint (busy, I/O error) is logged, never raised: the poll is written, and the
    connections' own autocheckpoint catches up later."""
    path = _file_of(db)
    if path is None:  # an in-memory archive has no WAL
        yield
        return
    thread = threading.Thread(target=_checkpoint, args=(path,), name="wal-checkpoint", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _file_of(db: Archive) -> str | None:
    """The main database file of ``db``'s connection, or None when it has none (in memory)."""
    for _, name, file in db.execute("PRAGMA database_list"):
        if name == "main":
            return str(file) or None
    return None


def _checkpoint(path: str) -> None:
    import structlog  # here, not at the top: read commands open the archive and log nothing

    log = structlog.get_logger("guard.archive")
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
    except Exception as exc:  # logged, not raised: a checkpoint left undone is only deferred
        log.warning("wal_checkpoint_failed", path=path, error=f"{type(exc).__name__}: {exc}")
        return
    log.debug("wal_checkpointed", path=path, busy=busy, frames=frames, copied=copied)


def open_archive_readonly(
    path: str | Path, *, before_upgrade: Callable[[int], None] | None = None
) -> Archive:
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
    if found > SCHEMA_VERSION:
        conn.close()
        refuse_newer(found)
    if found < SCHEMA_VERSION:
        conn.close()
        if not os.access(p, os.W_OK):
            raise ArchiveError(
                f"archive {p} has schema {found}, older than this comment-guard ({SCHEMA_VERSION}); "
                "run a command that writes (`comment-guard poll --once`) once with write access "
                "to upgrade it"
            )
        return open_archive(p, before_upgrade=before_upgrade)
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
    if "locked" in text:  # our own writers queue on the lock file; this is someone else
        return (
            f"the archive stayed locked by another program ({text}): close whatever holds it open "
            "for writing (a sqlite3 shell, a database browser, a backup) and run the command again"
        )
    return None
