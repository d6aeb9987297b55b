"""Upgrading an archive written by an older release: the runner applies each missing step once,
in one transaction, whoever else opens the archive at the same time."""

from __future__ import annotations

from guard.archive import schema
from guard.archive.connection import open_archive
from guard.archive.schema import SCHEMA_VERSION
from tests.support.schema import older_archive


def test_an_archive_upgraded_by_another_process_while_this_one_waited_opens(tmp_path, monkeypatch):
    """After an upgrade the daemon starts and someone runs `status`: both find an old schema,
    one migrates, and the other, once it has the write lock, finds nothing left to do instead
    of running the steps again ("table ... already exists")."""
    path = tmp_path / "archive.db"
    older_archive(12, path).conn.close()
    real = schema.schema_version
    raced: list[int] = []

    def read_then_lose_the_race(db):
        found = real(db)
        if not raced:
            raced.append(found)
            open_archive(path).conn.close()  # the other process upgrades in between
        return found

    monkeypatch.setattr(schema, "schema_version", read_then_lose_the_race)
    db = open_archive(path)
    assert raced == [12]
    assert real(db) == SCHEMA_VERSION
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "comment_counts" in tables
