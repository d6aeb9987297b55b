"""The OAuth grant file under trouble: a failed write leaves no half grant behind and does not
block the next save."""

from __future__ import annotations

import errno
import os

import pytest

from guard.errors import ConfigError
from guard.token_store import FileTokenStore

GRANT = {"account": "xacct", "access_token": "access-1", "refresh_token": "refresh-1", "expires_at": ""}


def test_a_save_that_hits_a_full_disk_leaves_no_temp_file_and_the_next_save_works(tmp_path, monkeypatch):
    """ENOSPC while the new grant is flushed: the old grant stays, the partly written temp file
    (it holds a refresh token) is removed, and once there is room again the same process
    saves; before, its leftover temp file made every later save say "another process is writing"."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(GRANT)
    real_fsync = os.fsync
    full = [True]

    def fsync(fd: int) -> None:
        if full[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(ConfigError, match="No space left on device"):
        store.save({**GRANT, "refresh_token": "refresh-2"})
    assert [p.name for p in tmp_path.iterdir()] == ["oauth-xacct.json"]
    assert store.load()["refresh_token"] == "refresh-1"
    full[0] = False
    store.save({**GRANT, "refresh_token": "refresh-3"})
    assert store.load()["refresh_token"] == "refresh-3"
    assert [p.name for p in tmp_path.iterdir()] == ["oauth-xacct.json"]


def test_a_temp_file_left_by_a_dead_process_with_the_same_pid_does_not_block_saving(tmp_path):
    """A writer killed mid-save leaves ``.oauth-x.json.<pid>.tmp``; after a reboot the daemon
    can get that pid again. Only this process could be writing that name, so it is replaced."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    (tmp_path / f".oauth-xacct.json.{os.getpid()}.tmp").write_text('{"refresh_token": "refre')
    store.save(GRANT)
    assert store.load()["refresh_token"] == "refresh-1"
    assert [p.name for p in tmp_path.iterdir()] == ["oauth-xacct.json"]
