"""Read commands open the archive read-only: they work on a copy nobody may write (a file and
directory made immutable, since root ignores file modes) and never change it."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess

import pytest

from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"


def _freeze(*paths):
    """Make paths unwritable even for root (chattr +i); as another user chmod is enough."""
    if os.geteuid() != 0:
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        return lambda: [p.chmod(0o755 if p.is_dir() else 0o644) for p in paths]
    try:
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("chattr +i is not available here and root ignores file modes")
    return lambda: subprocess.run(["chattr", "-i", *map(str, paths)], check=False)


@pytest.fixture
def frozen_copy(capsys, config, rsps, tmp_path, monkeypatch):
    page = FakePage(
        rsps, [FakePost(POST, "The meeting is Thursday.", comments=[FakeComment("1_1", "TONIGHT?!?")])]
    )
    run(capsys, "poll", "--once")
    page.post(POST).message = "The meeting is the Thirteenth."
    page.remove_comment("1_1")
    run(capsys, "poll", "--once")
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    copy = copy_dir / "archive.db"
    with sqlite3.connect(tmp_path / "archive.db") as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    dst.close()
    cfg = copy_dir / "cg.toml"
    cfg.write_text(config.read_text())
    monkeypatch.setenv("COMMENT_GUARD_CONFIG", str(cfg))
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    thaw = _freeze(copy, copy_dir)
    yield copy, before
    thaw()


@pytest.mark.parametrize(
    "args,needle",
    [
        (("posts",), POST),
        (("comments", "--status", "deleted"), "TONIGHT?!?"),
        (("search", "Thursday"), "since changed"),
        (("thread", POST), "[DELETED]"),
        (("history", "1_1"), "TONIGHT?!?"),
        (("findings", "--state", "all"), ""),
        (("alerts",), ""),
        (("explain", "1_1"), "1_1"),
        (("export", "--format", "json"), '"sha256"'),
        (("status",), "main-page"),
        (("verify",), "hash chain intact"),
    ],
)
def test_read_commands_work_on_an_immutable_archive_copy(capsys, frozen_copy, args, needle):
    """Each read command answers from a copy that cannot be written, and leaves it unchanged."""
    copy, before = frozen_copy
    code, out, err = run(capsys, *args)
    assert code in (0, 1) and "error" not in err, err  # status may say 1: no daemon heartbeat
    assert needle in out
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before
    assert not (copy.parent / "archive.db-wal").exists()


def test_missing_archive_is_one_clear_line_for_a_read_command(capsys, config):
    """A read command before any poll says how to create the archive instead of creating one."""
    code, _, err = run(capsys, "posts")
    assert code == 1 and "no archive at" in err and "poll --once" in err
    assert not (config.parent / "archive.db").exists()
