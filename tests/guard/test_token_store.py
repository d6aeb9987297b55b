"""The OAuth grant file under trouble: a failed write leaves no half grant behind and does not
block the next save."""

from __future__ import annotations

import os
import threading

import pytest

from guard.errors import ConfigError
from guard.token_store import FileTokenStore
from tests.support.disk import FullDisk

GRANT = {"account": "xacct", "access_token": "access-1", "refresh_token": "refresh-1", "expires_at": ""}


def test_a_save_that_hits_a_full_disk_leaves_no_temp_file_and_the_next_save_works(tmp_path, monkeypatch):
    """ENOSPC while the new grant is flushed: the old grant stays, the partly written temp file
    (it holds a refresh token) is removed, and once there is room again the same process
    saves; before, its leftover temp file made every later save say "another process is writing"."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(GRANT)
    disk = FullDisk(monkeypatch)
    with pytest.raises(ConfigError, match="No space left on device"):
        store.save({**GRANT, "refresh_token": "refresh-2"})
    assert [p.name for p in tmp_path.iterdir()] == ["oauth-xacct.json"]
    assert store.load()["refresh_token"] == "refresh-1"
    disk.full = False
    store.save({**GRANT, "refresh_token": "refresh-3"})
    assert store.load()["refresh_token"] == "refresh-3"
    assert [p.name for p in tmp_path.iterdir()] == ["oauth-xacct.json"]


def test_a_temp_file_left_by_a_dead_process_with_the_same_pid_does_not_block_saving(tmp_path):
    """A writer killed mid-save leaves ``.oauth-x.json.<pid>-<thread>.tmp``; after a reboot the
    daemon can get that pid again. Only this thread could be writing that name: it is replaced."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    leftover = f".oauth-xacct.json.{os.getpid()}-{threading.get_ident()}.tmp"
    (tmp_path / leftover).write_text('{"refresh_token": "refre')
    store.save(GRANT)
    assert store.load()["refresh_token"] == "refresh-1"
    assert [p.name for p in tmp_path.iterdir()] == ["oauth-xacct.json"]


def test_two_threads_saving_at_once_each_write_a_whole_grant(tmp_path):
    """The daemon's worker and its Slack app thread can both refresh (each with its own
    connector): their temp files differ, so neither removes the other's half-written one, and
    the file always holds one whole grant."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            for i in range(50):
                store.save({**GRANT, "refresh_token": f"refresh-{n}-{i}"})
                assert store.load()["refresh_token"].startswith("refresh-")
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [p.name for p in tmp_path.iterdir()] == ["oauth-xacct.json"]
