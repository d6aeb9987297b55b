"""One daemon per archive: the second one is refused with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from guard.errors import AlreadyRunning
from guard.runtime.lock import DaemonLock, running_daemon_pid
from tests.daemon.conftest import (
    REPO,
    TOKEN,
    TOKEN_ENV,
    account_toml,
    query,
    wait_for,
    write_config,
)


def test_lock_refuses_a_second_holder_and_names_the_first(tmp_path):
    """A second lock on the same database fails at once, naming the holder's pid; after
    release it can be taken again."""
    db = tmp_path / "archive.db"
    first = DaemonLock(db).acquire()
    with pytest.raises(AlreadyRunning) as info:
        DaemonLock(db).acquire()
    assert str(info.value) == (
        f"another comment-guard daemon is already running on {db} (pid {os.getpid()}); stop it first"
    )
    first.release()
    DaemonLock(db).acquire().release()


def test_second_daemon_on_the_same_archive_is_refused(tmp_path, sandbox, start_daemon):
    """While one daemon runs, `comment-guard run` on the same archive prints one line and
    exits 1, and the first daemon keeps running."""
    config = write_config(tmp_path, [account_toml("page", sandbox.base_url)])
    first = start_daemon(config)
    wait_for(
        lambda: query(first.db, "SELECT 1 FROM meta WHERE key = 'daemon_heartbeat'"),
        what="the first daemon to start",
        daemon=first,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENT_GUARD")}
    second = subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", "--config", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env={**env, TOKEN_ENV: TOKEN},
    )
    assert second.returncode == 1
    assert second.stderr.splitlines() == [
        f"error: another comment-guard daemon is already running on {first.db} "
        f"(pid {first.pid}); stop it first"
    ]
    assert second.stdout == ""
    assert first.proc.poll() is None
    assert first.stop()[0] == 0


def test_running_daemon_pid_reports_the_holder_only_while_it_holds(tmp_path):
    """status can tell "no daemon" from "daemon running": the pid while locked, else None."""
    db = tmp_path / "archive.db"
    assert running_daemon_pid(db) is None  # no lock file at all
    lock = DaemonLock(db).acquire()
    assert running_daemon_pid(db) == os.getpid()
    lock.release()
    assert running_daemon_pid(db) is None
