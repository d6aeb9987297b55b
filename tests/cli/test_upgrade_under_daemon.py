"""After `pip install -U`, a command of the new release must not upgrade the archive under a
daemon of the old one still running: the old daemon's writes would miss what the new schema
keeps (comment counts), wrong for good. The command says to restart the daemon, which upgrades
the archive itself."""

from __future__ import annotations

import sqlite3

from guard.archive.schema import SCHEMA_VERSION
from guard.runtime.lock import DaemonLock
from tests.cli.conftest import run
from tests.support.schema import older_archive


def _version(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        conn.close()


def test_a_command_refuses_to_upgrade_the_archive_under_an_older_running_daemon(capsys, config):
    db = config.parent / "archive.db"
    older_archive(SCHEMA_VERSION - 1, db).conn.close()
    lock = DaemonLock(db).acquire()  # the old release's daemon, still running
    try:
        for command in (["status"], ["findings"], ["comments"]):
            code, _, err = run(capsys, *command)
            assert code == 1, command
            assert err.count("\n") == 1 and "is an older comment-guard" in err and "restart it" in err
        assert _version(db) == SCHEMA_VERSION - 1
    finally:
        lock.release()
    run(capsys, "status")  # no daemon: the command upgrades the archive as before
    assert _version(db) == SCHEMA_VERSION


def test_a_current_archive_is_read_beside_the_running_daemon(capsys, config):
    db = config.parent / "archive.db"
    older_archive(SCHEMA_VERSION, db).conn.close()
    lock = DaemonLock(db).acquire()
    try:
        code, _, err = run(capsys, "findings")
        assert code == 0, err
    finally:
        lock.release()
