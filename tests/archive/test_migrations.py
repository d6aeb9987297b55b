"""Upgrading an archive written by an older release: the runner applies each missing step once,
in one transaction, whoever else opens the archive at the same time."""

from __future__ import annotations

import sqlite3

import pytest

from guard.archive import schema
from guard.archive.connection import open_archive
from guard.archive.schema import SCHEMA_VERSION
from guard.errors import ArchiveError
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


def test_a_running_writer_stops_once_a_newer_release_has_upgraded_the_archive(tmp_path):
    """The daemon keeps its connection open while a newer comment-guard upgrades the archive
    (a `status` run after `pip install -U`, before the restart). Its next write transaction
    refuses, instead of writing rows the newer schema no longer keeps up that way."""
    path = tmp_path / "archive.db"
    db = open_archive(path)
    newer = sqlite3.connect(path)
    with newer:
        newer.execute("CREATE TABLE from_a_later_step (x)")
        newer.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    newer.close()
    with pytest.raises(ArchiveError, match="newer comment-guard"):
        with db.atomic():
            db.execute("INSERT INTO meta (key, value) VALUES ('written', 'by the old code')")
    assert db.execute("SELECT value FROM meta WHERE key = 'written'").fetchone() is None


def test_a_migration_that_fails_part_way_leaves_the_archive_at_its_old_schema(tmp_path, monkeypatch):
    """Every missing step runs in one transaction, including step 2's script (sqlite3's
    executescript would commit first) and step 4's full-text rebuild: a step failing after them
    (as a kill -9 would stop it) leaves schema 1 exactly as it was, and the next open upgrades it."""
    path = tmp_path / "archive.db"
    older_archive(1, path).conn.close()

    def killed(db):
        raise RuntimeError("killed part way")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS[:4], killed, *schema.MIGRATIONS[4:]])
    with pytest.raises(RuntimeError, match="killed part way"):
        open_archive(path)
    old = sqlite3.connect(path)
    assert old.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    added = "SELECT name FROM sqlite_master WHERE name IN ('labels', 'post_versions_fts')"
    assert not old.execute(added).fetchall()
    old.close()
    monkeypatch.undo()
    assert schema.schema_version(open_archive(path)) == SCHEMA_VERSION
