"""Opening the archive runs no sqlite-utils plugin on its connection; a poll's commit can leave
the WAL to a checkpoint that runs beside the engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
import sqlite_utils
from sqlite_utils import hookimpl
from sqlite_utils.plugins import pm
from structlog.testing import capture_logs

from guard.archive.connection import (
    autocheckpoint_off,
    checkpoint_alongside,
    open_archive,
    open_archive_readonly,
)
from tests.support.wal import wal_state


class _Probe:
    """A sqlite-utils plugin recording every connection it is offered."""

    def __init__(self) -> None:
        self.offered: list[object] = []

    @hookimpl
    def prepare_connection(self, conn: object) -> None:
        self.offered.append(conn)


@pytest.fixture
def probe() -> Iterator[_Probe]:
    plugin = _Probe()
    pm.register(plugin, name="cg-test-probe")
    try:
        yield plugin
    finally:
        pm.unregister(name="cg-test-probe")


def test_installed_plugins_never_touch_the_archive_connection(tmp_path, probe):
    """A plugin's prepare_connection hook runs neither on the writer nor on a read-only handle."""
    sqlite_utils.Database(memory=True)  # the probe is live: sqlite-utils' default runs it
    assert len(probe.offered) == 1
    open_archive(tmp_path / "a.db").conn.close()
    open_archive_readonly(tmp_path / "a.db").conn.close()
    assert len(probe.offered) == 1


def _big_write(db) -> None:
    """A commit of about 2,000 pages: twice the default autocheckpoint threshold."""
    with db.atomic():
        db.execute("CREATE TABLE IF NOT EXISTS scratch (x BLOB)")
        db.conn.executemany("INSERT INTO scratch VALUES (?)", [(b"x" * 3000,) for _ in range(2000)])


def _uncopied(tmp_path):
    """An archive whose WAL holds a big commit made with autocheckpoint off: none of it is in
    the database file yet."""
    path = tmp_path / "a.db"
    db = open_archive(path)
    with autocheckpoint_off(db):
        _big_write(db)
    frames, copied, _ = wal_state(path)
    assert frames > 1000 and copied == 0
    return path, db


def test_with_autocheckpoint_off_a_big_commit_leaves_the_wal_uncopied(tmp_path):
    """The commit itself copies nothing into the database; the setting is back afterwards."""
    path, db = _uncopied(tmp_path)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    _big_write(db)  # with the setting back, the commit copies
    assert wal_state(path)[1] > 0


def test_autocheckpoint_setting_is_restored_when_the_body_raises(tmp_path):
    db = open_archive(tmp_path / "a.db")
    db.execute("PRAGMA wal_autocheckpoint = 777")
    with pytest.raises(RuntimeError), autocheckpoint_off(db):
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        raise RuntimeError("the poll failed")
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 777


def test_checkpoint_alongside_copies_the_whole_wal_by_the_end_of_its_block(tmp_path):
    path, db = _uncopied(tmp_path)
    frames = wal_state(path)[0]
    with checkpoint_alongside(db):
        pass
    assert wal_state(path)[:2] == (frames, frames)


def test_a_failed_checkpoint_is_logged_and_not_raised(tmp_path, monkeypatch):
    """Busy or an I/O error: the caller carries on, the WAL waits for the next checkpoint."""
    path, db = _uncopied(tmp_path)

    def failing(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite3, "connect", failing)
    with capture_logs() as logs, checkpoint_alongside(db):
        pass
    assert [e["event"] for e in logs] == ["wal_checkpoint_failed"]
    assert "disk I/O error" in logs[0]["error"] and logs[0]["log_level"] == "warning"
    assert wal_state(path)[1] == 0


def test_an_in_memory_archive_has_nothing_to_checkpoint():
    db = sqlite_utils.Database(memory=True)
    with capture_logs() as logs, autocheckpoint_off(db), checkpoint_alongside(db):
        db.execute("CREATE TABLE t (x)")
    assert logs == []
